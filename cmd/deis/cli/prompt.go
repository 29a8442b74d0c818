package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// stdinIsTerminal reports whether r is a terminal the CLI may prompt on.
func stdinIsTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && isTerminal(int(f.Fd()))
}

// readLine reads one line from stdin, giving up when ctx ends.
func (c *cli) readLine(ctx context.Context) (string, error) {
	type result struct {
		line string
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		line, err := c.stdin.ReadString('\n')
		ch <- result{line, err}
	}()
	select {
	case <-ctx.Done():
		fmt.Fprintln(c.stderr)
		return "", ctx.Err()
	case r := <-ch:
		if r.err != nil && (!errors.Is(r.err, io.EOF) || r.line == "") {
			return "", fmt.Errorf("reading the terminal: %w", r.err)
		}
		return strings.TrimRight(r.line, "\r\n"), nil
	}
}

// prompt asks for one line on the terminal.
func (c *cli) prompt(ctx context.Context, label string) (string, error) {
	fmt.Fprintf(c.stderr, "%s: ", label)
	return c.readLine(ctx)
}

// promptSecret asks for one line without echoing it.
func (c *cli) promptSecret(ctx context.Context, label string) (string, error) {
	fmt.Fprintf(c.stderr, "%s: ", label)
	f, ok := c.rawIn.(*os.File)
	if !ok {
		return c.readLine(ctx)
	}
	var line string
	err := withoutEcho(int(f.Fd()), func() error {
		var err error
		line, err = c.readLine(ctx)
		return err
	})
	fmt.Fprintln(c.stderr)
	return line, err
}

// need fills *value from the terminal when it is empty, or fails with an
// error naming the flag when stdin is not a terminal.
func (c *cli) need(ctx context.Context, value *string, flag, label string) error {
	if *value != "" {
		return nil
	}
	if !c.tty {
		return usageError{fmt.Sprintf("missing --%s (stdin is not a terminal, so deis cannot ask)", flag)}
	}
	v, err := c.prompt(ctx, label)
	if err != nil {
		return err
	}
	if v = strings.TrimSpace(v); v == "" {
		return fmt.Errorf("no %s given", label)
	}
	*value = v
	return nil
}

// needPassword fills an empty password from the terminal, asking twice
// when confirm is set.
func (c *cli) needPassword(ctx context.Context, value *string, confirm bool) error {
	if *value != "" {
		return nil
	}
	if !c.tty {
		return usageError{"missing --password (stdin is not a terminal, so deis cannot ask)"}
	}
	pw, err := c.promptSecret(ctx, "password")
	if err != nil {
		return err
	}
	if pw == "" {
		return errors.New("no password given")
	}
	if confirm {
		again, err := c.promptSecret(ctx, "password (again)")
		if err != nil {
			return err
		}
		if again != pw {
			return errors.New("the passwords do not match")
		}
	}
	*value = pw
	return nil
}

// confirmDestroy checks that the user means to destroy kind id: --confirm
// must repeat the id, or, on a terminal, the user types it.
func (c *cli) confirmDestroy(ctx context.Context, kind, id, given string) error {
	switch {
	case given == id:
		return nil
	case given != "":
		return usageError{fmt.Sprintf("--confirm %q does not match %s %q", given, kind, id)}
	case !c.tty:
		return usageError{fmt.Sprintf("destroying %s %q needs --confirm %s", kind, id, id)}
	}
	fmt.Fprintf(c.stderr, "This destroys %s %q for good.\n", kind, id)
	typed, err := c.prompt(ctx, "Type its id to confirm")
	if err != nil {
		return err
	}
	if strings.TrimSpace(typed) != id {
		return fmt.Errorf("%q does not match %s %q: nothing destroyed", typed, kind, id)
	}
	return nil
}
