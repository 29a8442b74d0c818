package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/deis/deis"
	"github.com/spf13/cobra"
)

func (c *cli) providersCommands() []*cobra.Command {
	return []*cobra.Command{
		c.providersListCmd(), c.providersInfoCmd(), c.providersCreateCmd(),
		c.providersDiscoverCmd(), c.providersDeleteCmd(),
	}
}

func (c *cli) providersListCmd() *cobra.Command {
	cmd := command("providers:list", "list your providers", exactArgs(0),
		func(ctx context.Context, args []string) error {
			ctl, err := c.client()
			if err != nil {
				return err
			}
			ps, err := ctl.ListProviders(ctx)
			if err != nil {
				return err
			}
			return c.show(ps, func(io.Writer) {
				var rows [][]string
				for _, p := range ps {
					rows = append(rows, []string{p.ID, p.Type, orDash(strings.Join(p.CredKeys, ","))})
				}
				c.table("no providers", []string{"ID", "TYPE", "CREDENTIALS"}, rows)
			})
		})
	cmd.Aliases = []string{"providers"}
	return cmd
}

func (c *cli) providersInfoCmd() *cobra.Command {
	return command("providers:info ID", "show a provider (credential names only)", exactArgs(1),
		func(ctx context.Context, args []string) error {
			ctl, err := c.client()
			if err != nil {
				return err
			}
			p, err := ctl.GetProvider(ctx, args[0])
			if err != nil {
				return err
			}
			return c.show(p, func(w io.Writer) { printProvider(w, p) })
		})
}

func printProvider(w io.Writer, p deis.Provider) {
	fields(w, "id", p.ID, "type", p.Type, "owner", p.Owner,
		"credentials", orDash(strings.Join(p.CredKeys, ", ")),
		"created", fmtTime(p.Created), "updated", fmtTime(p.Updated))
}

func (c *cli) providersCreateCmd() *cobra.Command {
	var typ string
	var creds []string
	var cmd *cobra.Command
	cmd = command("providers:create ID --type T [--creds K=V ...]", "create a provider (static, docker or ec2)", minArgs(1),
		func(ctx context.Context, args []string) error {
			args, all, err := multiFlag(cmd, "creds", creds, args)
			if err != nil {
				return err
			}
			if len(args) != 1 {
				return usageError{"wrong number of arguments: usage: " + cmd.UseLine()}
			}
			if typ == "" {
				return usageError{"missing --type (static, docker or ec2)"}
			}
			cm, err := parseKVFlags("creds", all)
			if err != nil {
				return err
			}
			ctl, err := c.client()
			if err != nil {
				return err
			}
			p, err := ctl.CreateProvider(ctx, deis.ProviderCreateRequest{ID: args[0], Type: typ, Creds: cm})
			if err != nil {
				return err
			}
			return c.show(p, func(w io.Writer) { fmt.Fprintf(w, "Created provider %s (%s)\n", p.ID, p.Type) })
		})
	cmd.Flags().StringVar(&typ, "type", "", "provider type: static, docker or ec2")
	cmd.Flags().StringArrayVar(&creds, "creds", nil, "a credential K=V (repeatable)")
	return cmd
}

func (c *cli) providersDeleteCmd() *cobra.Command {
	return command("providers:delete ID", "delete a provider", exactArgs(1),
		func(ctx context.Context, args []string) error {
			ctl, err := c.client()
			if err != nil {
				return err
			}
			if err := ctl.DeleteProvider(ctx, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "Deleted provider %s\n", args[0])
			return nil
		})
}
