package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/deis/deis"
	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"
)

// defaultKeys are the public keys keys:add tries, in order, under ~/.ssh.
var defaultKeys = []string{"id_ed25519.pub", "id_ecdsa.pub", "id_rsa.pub"}

func (c *cli) keysCommands() []*cobra.Command {
	return []*cobra.Command{c.keysAddCmd(), c.keysListCmd(), c.keysRemoveCmd()}
}

func (c *cli) keysAddCmd() *cobra.Command {
	var id string
	cmd := command("keys:add [PATH]", "add an SSH public key for git push (default: ~/.ssh/id_ed25519.pub, id_ecdsa.pub or id_rsa.pub)", rangeArgs(0, 1),
		func(ctx context.Context, args []string) error {
			path, err := c.keyPath(args)
			if err != nil {
				return err
			}
			req, err := readPublicKey(path, id)
			if err != nil {
				return err
			}
			ctl, err := c.client()
			if err != nil {
				return err
			}
			k, err := ctl.CreateKey(ctx, req)
			if err != nil {
				return fmt.Errorf("adding key %s: %w", req.ID, err)
			}
			return c.show(k, func(w io.Writer) {
				fmt.Fprintf(w, "Added key %s (%s) from %s\n", k.ID, k.Fingerprint, path)
			})
		})
	cmd.Flags().StringVar(&id, "id", "", "the key's id (default: its comment, else the file name)")
	return cmd
}

// keyPath returns the key file to upload: the argument, else the first
// default key that exists.
func (c *cli) keyPath(args []string) (string, error) {
	if len(args) == 1 {
		return args[0], nil
	}
	home := c.getenv("HOME")
	for _, name := range defaultKeys {
		p := filepath.Join(home, ".ssh", name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no public key found in ~/.ssh (tried %s): pass its path", strings.Join(defaultKeys, ", "))
}

// readPublicKey reads an authorized_keys style public key file. The id is
// id if set, else the key's comment, else the file name minus .pub, made
// into a valid id.
func readPublicKey(path, id string) (deis.KeyCreateRequest, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return deis.KeyCreateRequest{}, fmt.Errorf("no key file %s", path)
	}
	if err != nil {
		return deis.KeyCreateRequest{}, err
	}
	pub, comment, _, _, err := ssh.ParseAuthorizedKey(data)
	if err != nil {
		return deis.KeyCreateRequest{}, fmt.Errorf("%s is not an SSH public key: %w", path, err)
	}
	if id == "" {
		id = toID(comment)
	}
	if id == "" {
		id = toID(strings.TrimSuffix(filepath.Base(path), ".pub"))
	}
	if !deis.ValidID(id) {
		return deis.KeyCreateRequest{}, usageError{fmt.Sprintf("%q is not a valid key id: use --id with lowercase letters, digits and '-'", id)}
	}
	public := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub)))
	return deis.KeyCreateRequest{ID: id, Public: public}, nil
}

// toID turns a free-form name ("alice@laptop.local") into a valid id
// ("alice-laptop-local"), or "" when nothing is left.
func toID(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	id := strings.TrimRight(b.String(), "-")
	if len(id) > 63 {
		id = strings.TrimRight(id[:63], "-")
	}
	return id
}

// shortKey prints "ssh-ed25519 AAAAC3NzaC1lZDI1...Zt3bUJ/1Zk".
func shortKey(public string) string {
	f := strings.Fields(public)
	if len(f) < 2 {
		return public
	}
	b := f[1]
	if len(b) > 30 {
		b = b[:16] + "..." + b[len(b)-10:]
	}
	return f[0] + " " + b
}

func (c *cli) keysListCmd() *cobra.Command {
	cmd := command("keys:list", "list your SSH keys", exactArgs(0),
		func(ctx context.Context, args []string) error {
			ctl, err := c.client()
			if err != nil {
				return err
			}
			keys, err := ctl.ListKeys(ctx)
			if err != nil {
				return err
			}
			return c.show(keys, func(io.Writer) {
				var rows [][]string
				for _, k := range keys {
					rows = append(rows, []string{k.ID, shortKey(k.Public), k.Fingerprint})
				}
				c.table("no keys: add one with 'deis keys:add'", []string{"ID", "KEY", "FINGERPRINT"}, rows)
			})
		})
	cmd.Aliases = []string{"keys"}
	return cmd
}

func (c *cli) keysRemoveCmd() *cobra.Command {
	return command("keys:remove ID", "remove an SSH key", exactArgs(1),
		func(ctx context.Context, args []string) error {
			ctl, err := c.client()
			if err != nil {
				return err
			}
			if err := ctl.DeleteKey(ctx, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "Removed key %s\n", args[0])
			return nil
		})
}
