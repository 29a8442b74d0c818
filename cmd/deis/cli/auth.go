package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/deis/deis"
	"github.com/deis/deis/client"
	"github.com/spf13/cobra"
)

func (c *cli) authCommands() []*cobra.Command {
	return []*cobra.Command{c.registerCmd(), c.loginCmd(), c.logoutCmd(), c.whoamiCmd()}
}

// credFlags are the flags of register and login.
type credFlags struct {
	username, password, email string
}

func (f *credFlags) add(cmd *cobra.Command, withEmail bool) {
	cmd.Flags().StringVar(&f.username, "username", "", "account name (asked on a terminal if missing)")
	cmd.Flags().StringVar(&f.password, "password", "", "password (asked on a terminal if missing)")
	if withEmail {
		cmd.Flags().StringVar(&f.email, "email", "", "email address (asked on a terminal if missing)")
	}
}

func (c *cli) registerCmd() *cobra.Command {
	var f credFlags
	cmd := command("register URL", "create an account on a controller and log in", exactArgs(1),
		func(ctx context.Context, args []string) error {
			base, err := normalizeURL(args[0])
			if err != nil {
				return err
			}
			if err := c.need(ctx, &f.username, "username", "username"); err != nil {
				return err
			}
			if err := c.needPassword(ctx, &f.password, true); err != nil {
				return err
			}
			if err := c.need(ctx, &f.email, "email", "email"); err != nil {
				return err
			}
			ctl := c.newClient(base, "")
			u, err := ctl.Register(ctx, deis.RegisterRequest{Username: f.username, Password: f.password, Email: f.email})
			if err != nil {
				return fmt.Errorf("registering %s at %s: %w", f.username, base, err)
			}
			if u.Admin {
				fmt.Fprintf(c.stderr, "Registered %s as the admin of %s\n", u.Username, base)
			} else {
				fmt.Fprintf(c.stderr, "Registered %s at %s\n", u.Username, base)
			}
			return c.login(ctx, base, f.username, f.password)
		})
	cmd.Aliases = []string{"auth:register"}
	f.add(cmd, true)
	return cmd
}

func (c *cli) loginCmd() *cobra.Command {
	var f credFlags
	cmd := command("login [URL]", "log in to a controller (default: the last one)", rangeArgs(0, 1),
		func(ctx context.Context, args []string) error {
			var base string
			var err error
			if len(args) == 1 {
				base, err = normalizeURL(args[0])
			} else {
				var st state
				if st, _, err = c.loadStateFile(); err == nil {
					base, err = c.controllerURL(st)
				}
			}
			if err != nil {
				return err
			}
			if err := c.need(ctx, &f.username, "username", "username"); err != nil {
				return err
			}
			if err := c.needPassword(ctx, &f.password, false); err != nil {
				return err
			}
			return c.login(ctx, base, f.username, f.password)
		})
	cmd.Aliases = []string{"auth:login"}
	f.add(cmd, false)
	return cmd
}

// login trades the credentials for a token and stores it.
func (c *cli) login(ctx context.Context, base, username, password string) error {
	tok, err := c.newClient(base, "").Login(ctx, deis.LoginRequest{Username: username, Password: password})
	if err != nil {
		return fmt.Errorf("logging in to %s: %w", base, err)
	}
	path, err := c.statePath()
	if err != nil {
		return err
	}
	if err := saveState(path, state{Controller: base, Token: tok.Token, Username: tok.Username}); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Logged in as %s\n", tok.Username)
	return nil
}

func (c *cli) logoutCmd() *cobra.Command {
	cmd := command("logout", "revoke the stored token and forget it", exactArgs(0),
		func(ctx context.Context, args []string) error {
			st, path, err := c.loadStateFile()
			if err != nil {
				return err
			}
			if st.Token == "" {
				fmt.Fprintln(c.stdout, "Not logged in")
				return nil
			}
			var revokeErr error
			if base, err := c.controllerURL(st); err == nil {
				revokeErr = c.newClient(base, st.Token).Logout(ctx)
				if client.IsStatus(revokeErr, http.StatusUnauthorized) {
					revokeErr = nil // already expired or revoked
				}
			}
			st.Token, st.Username = "", ""
			if err := saveState(path, st); err != nil {
				return err
			}
			if revokeErr != nil {
				return fmt.Errorf("forgot the token, but revoking it on the controller failed: %w", revokeErr)
			}
			fmt.Fprintln(c.stdout, "Logged out")
			return nil
		})
	cmd.Aliases = []string{"auth:logout"}
	return cmd
}

func (c *cli) whoamiCmd() *cobra.Command {
	cmd := command("whoami", "print the logged in user", exactArgs(0),
		func(ctx context.Context, args []string) error {
			ctl, err := c.client()
			if err != nil {
				return err
			}
			u, err := ctl.Whoami(ctx)
			if err != nil {
				return err
			}
			return c.show(u, func(w io.Writer) {
				role := ""
				if u.Admin {
					role = " (admin)"
				}
				fmt.Fprintf(w, "%s%s at %s\n", u.Username, role, ctl.BaseURL())
			})
		})
	cmd.Aliases = []string{"auth:whoami"}
	return cmd
}
