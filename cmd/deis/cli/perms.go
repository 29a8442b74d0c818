package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

func (c *cli) permsCommands() []*cobra.Command {
	return []*cobra.Command{c.permsListCmd(), c.permsCreateCmd(), c.permsDeleteCmd()}
}

func (c *cli) permsListCmd() *cobra.Command {
	cmd := command("perms:list", "list the app's collaborators", exactArgs(0),
		func(ctx context.Context, args []string) error {
			name, err := c.appName(ctx)
			if err != nil {
				return err
			}
			ctl, err := c.client()
			if err != nil {
				return err
			}
			ps, err := ctl.ListPerms(ctx, name)
			if err != nil {
				return err
			}
			return c.show(ps, func(w io.Writer) {
				if len(ps.Users) == 0 {
					fmt.Fprintln(c.stderr, "no collaborators")
				}
				for _, u := range ps.Users {
					fmt.Fprintln(w, u)
				}
			})
		})
	cmd.Aliases = []string{"perms"}
	return cmd
}

func (c *cli) permsCreateCmd() *cobra.Command {
	return command("perms:create USER", "let USER deploy and configure the app", exactArgs(1),
		func(ctx context.Context, args []string) error {
			name, err := c.appName(ctx)
			if err != nil {
				return err
			}
			ctl, err := c.client()
			if err != nil {
				return err
			}
			ps, err := ctl.CreatePerm(ctx, name, args[0])
			if err != nil {
				return err
			}
			return c.show(ps, func(w io.Writer) { fmt.Fprintf(w, "Added %s to app %s\n", args[0], name) })
		})
}

func (c *cli) permsDeleteCmd() *cobra.Command {
	return command("perms:delete USER", "remove a collaborator of the app", exactArgs(1),
		func(ctx context.Context, args []string) error {
			name, err := c.appName(ctx)
			if err != nil {
				return err
			}
			ctl, err := c.client()
			if err != nil {
				return err
			}
			if err := ctl.DeletePerm(ctx, name, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "Removed %s from app %s\n", args[0], name)
			return nil
		})
}
