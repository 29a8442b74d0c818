// Package cli implements the deis command line: the Deis/Heroku style
// noun:verb commands, their aliases, global flags and the local state in
// ~/.deis/client.json. It reaches the controller only through the client
// package.
package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/deis/deis"
	"github.com/deis/deis/client"
	"github.com/spf13/cobra"
)

// Version is the CLI's version, sent in the User-Agent.
var Version = "0.1.0-dev"

// Run runs the deis command line with args (without the program name) and
// returns the process exit code: 0 on success, 1 on errors, 2 on usage
// errors, or the exit code of a remote command.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return newCLI(stdin, stdout, stderr, os.Getenv).run(ctx, args)
}

// cli holds one invocation's streams, environment and global flags.
type cli struct {
	rawIn  io.Reader
	stdin  *bufio.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	dir    string // where git runs; "" is the current directory
	tty    bool   // stdin is a terminal: prompting is allowed

	app  string // --app
	json bool   // --json
}

func newCLI(stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) *cli {
	return &cli{
		rawIn:  stdin,
		stdin:  bufio.NewReader(stdin),
		stdout: stdout,
		stderr: stderr,
		getenv: getenv,
		tty:    stdinIsTerminal(stdin),
	}
}

func (c *cli) run(ctx context.Context, args []string) int {
	root := c.root()
	root.SetArgs(args)
	return c.report(root, root.ExecuteContext(ctx))
}

const longHelp = `deis creates formations of nodes and deploys apps on them with git push.

Shortcuts: create, destroy, info, open, logs and run are the apps: commands;
ps is containers:list, scale containers:scale, rollback releases:rollback,
ssh nodes:ssh, converge formations:converge, calculate formations:calculate.
A bare group name (deis apps, deis keys, ...) runs its :list command.

The app comes from --app, else from the git remote named deis of the
current directory. DEIS_CONTROLLER overrides the controller URL stored in
~/.deis/client.json.`

// groups sorts the commands in the help by what they act on.
var groups = []*cobra.Group{
	{ID: "account", Title: "Account:"},
	{ID: "infra", Title: "Infrastructure:"},
	{ID: "apps", Title: "Apps:"},
}

// groupOf maps a command's noun to its help group.
var groupOf = map[string]string{
	"register": "account", "login": "account", "logout": "account", "whoami": "account",
	"keys": "account", "providers": "infra", "flavors": "infra", "formations": "infra",
	"layers": "infra", "nodes": "infra", "apps": "apps", "config": "apps",
	"containers": "apps", "builds": "apps", "releases": "apps", "perms": "apps",
}

// root builds the command tree.
func (c *cli) root() *cobra.Command {
	root := &cobra.Command{
		Use:                "deis",
		Short:              "deis is the command line of a Deis controller",
		Long:               longHelp,
		SilenceErrors:      true,
		SilenceUsage:       true,
		DisableSuggestions: true,
		Version:            Version,
	}
	root.SetIn(c.rawIn)
	root.SetOut(c.stdout)
	root.SetErr(c.stderr)
	root.PersistentFlags().StringVarP(&c.app, "app", "a", "", "the app to act on (default: the app of the git remote named deis)")
	root.PersistentFlags().BoolVar(&c.json, "json", false, "print results as JSON")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageError{fmt.Sprintf("%v (see 'deis help %s')", err, cmd.Name())}
	})
	root.AddGroup(groups...)
	var cmds []*cobra.Command
	for _, f := range []func() []*cobra.Command{
		c.authCommands, c.keysCommands, c.providersCommands, c.flavorsCommands,
		c.formationsCommands, c.layersCommands, c.nodesCommands, c.appsCommands,
		c.configCommands, c.containersCommands, c.buildsCommands,
		c.releasesCommands, c.permsCommands,
	} {
		cmds = append(cmds, f()...)
	}
	for _, cmd := range cmds {
		noun, _, _ := strings.Cut(cmd.Name(), ":")
		cmd.GroupID = groupOf[noun]
	}
	root.AddCommand(cmds...)
	return root
}

// command builds a command whose run function gets the context and the
// positional arguments.
func command(use, short string, args cobra.PositionalArgs, run func(ctx context.Context, args []string) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  args,
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(cmd.Context(), args)
		},
	}
	withHelp(use, &cmd.Long, &cmd.Example)
	return cmd
}

// usageError is a mistake in the command line itself.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// exitError ends the CLI with a given code and no message: a remote
// command's exit status.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// report prints err as one line on stderr and returns the exit code.
func (c *cli) report(root *cobra.Command, err error) int {
	var ee exitError
	var ue usageError
	var ae *client.APIError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(c.stderr, "error: interrupted")
		return 130
	case errors.As(err, &ue):
		fmt.Fprintf(c.stderr, "error: %s\n", oneLine(ue.msg))
		return 2
	case strings.HasPrefix(err.Error(), "unknown command "):
		fmt.Fprintf(c.stderr, "error: %s\n", unknownCommand(root, err))
		return 2
	case errors.As(err, &ae) && ae.Code == deis.CodeUnauthorized:
		fmt.Fprintf(c.stderr, "error: %s (run 'deis login')\n", oneLine(err.Error()))
		return 1
	default:
		fmt.Fprintf(c.stderr, "error: %s\n", oneLine(err.Error()))
		return 1
	}
}

// unknownCommand rewrites cobra's unknown command error with suggestions
// on the same line.
func unknownCommand(root *cobra.Command, err error) string {
	var name string
	if _, serr := fmt.Sscanf(err.Error(), "unknown command %q", &name); serr != nil {
		return oneLine(err.Error())
	}
	msg := fmt.Sprintf("unknown command %q", name)
	if s := suggest(root, name); len(s) > 0 {
		msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(s, " or "))
	}
	return msg + " (see 'deis help')"
}

// suggest returns the commands and aliases close to a mistyped name.
func suggest(root *cobra.Command, typed string) []string {
	var out []string
	for _, cmd := range root.Commands() {
		for _, name := range append([]string{cmd.Name()}, cmd.Aliases...) {
			if distance(typed, name) <= 2 && len(out) < 3 {
				out = append(out, name)
			}
		}
	}
	return out
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// oneLine joins the lines of a message.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
