package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/deis/deis"
	"github.com/spf13/cobra"
)

func (c *cli) flavorsCommands() []*cobra.Command {
	return []*cobra.Command{
		c.flavorsListCmd(), c.flavorsInfoCmd(), c.flavorsCreateCmd(),
		c.flavorsUpdateCmd(), c.flavorsDeleteCmd(),
	}
}

func (c *cli) flavorsListCmd() *cobra.Command {
	cmd := command("flavors:list", "list your flavors", exactArgs(0),
		func(ctx context.Context, args []string) error {
			ctl, err := c.client()
			if err != nil {
				return err
			}
			fs, err := ctl.ListFlavors(ctx)
			if err != nil {
				return err
			}
			return c.show(fs, func(io.Writer) {
				var rows [][]string
				for _, f := range fs {
					rows = append(rows, []string{f.ID, f.Provider, orDash(formatParams(f.Params))})
				}
				c.table("no flavors", []string{"ID", "PROVIDER", "PARAMS"}, rows)
			})
		})
	cmd.Aliases = []string{"flavors"}
	return cmd
}

func printFlavor(w io.Writer, f deis.Flavor) {
	fields(w, "id", f.ID, "provider", f.Provider, "owner", f.Owner)
	for _, k := range sortedKeys(f.Params) {
		fmt.Fprintf(w, "param %s: %s\n", k, f.Params[k])
	}
	fields(w, "created", fmtTime(f.Created), "updated", fmtTime(f.Updated))
}

func (c *cli) flavorsInfoCmd() *cobra.Command {
	return command("flavors:info ID", "show a flavor", exactArgs(1),
		func(ctx context.Context, args []string) error {
			ctl, err := c.client()
			if err != nil {
				return err
			}
			f, err := ctl.GetFlavor(ctx, args[0])
			if err != nil {
				return err
			}
			return c.show(f, func(w io.Writer) { printFlavor(w, f) })
		})
}

func (c *cli) flavorsCreateCmd() *cobra.Command {
	var provider string
	var params []string
	var cmd *cobra.Command
	cmd = command("flavors:create ID --provider P [--params K=V ...]", "create a flavor: a provider plus machine parameters", minArgs(1),
		func(ctx context.Context, args []string) error {
			args, all, err := multiFlag(cmd, "params", params, args)
			if err != nil {
				return err
			}
			if len(args) != 1 {
				return usageError{"wrong number of arguments: usage: " + cmd.UseLine()}
			}
			if provider == "" {
				return usageError{"missing --provider"}
			}
			pm, err := parseKVFlags("params", all)
			if err != nil {
				return err
			}
			ctl, err := c.client()
			if err != nil {
				return err
			}
			f, err := ctl.CreateFlavor(ctx, deis.FlavorCreateRequest{ID: args[0], Provider: provider, Params: pm})
			if err != nil {
				return err
			}
			return c.show(f, func(w io.Writer) { fmt.Fprintf(w, "Created flavor %s (provider %s)\n", f.ID, f.Provider) })
		})
	cmd.Flags().StringVar(&provider, "provider", "", "the provider that makes the machines")
	cmd.Flags().StringArrayVar(&params, "params", nil, "a machine parameter K=V (repeatable)")
	return cmd
}

func (c *cli) flavorsUpdateCmd() *cobra.Command {
	var provider string
	var params, unset []string
	var cmd *cobra.Command
	cmd = command("flavors:update ID [--provider P] [--params K=V ...] [--unset K ...]", "change a flavor; params merge", minArgs(1),
		func(ctx context.Context, args []string) error {
			args, all, err := multiFlag(cmd, "params", params, args)
			if err != nil {
				return err
			}
			// "--unset a b": keys after the first arrive after the ID.
			if len(args) == 0 || (len(args) > 1 && !cmd.Flags().Changed("unset")) {
				return usageError{"wrong number of arguments: usage: " + cmd.UseLine()}
			}
			req, err := flavorUpdate(provider, all, append(unset, args[1:]...))
			if err != nil {
				return err
			}
			ctl, err := c.client()
			if err != nil {
				return err
			}
			f, err := ctl.UpdateFlavor(ctx, args[0], req)
			if err != nil {
				return err
			}
			return c.show(f, func(w io.Writer) { printFlavor(w, f) })
		})
	cmd.Flags().StringVar(&provider, "provider", "", "a new provider")
	cmd.Flags().StringArrayVar(&params, "params", nil, "set a parameter K=V (repeatable)")
	cmd.Flags().StringArrayVar(&unset, "unset", nil, "remove a parameter K (repeatable)")
	return cmd
}

// flavorUpdate builds the update of flavors:update from its flags.
func flavorUpdate(provider string, params, unset []string) (deis.FlavorUpdateRequest, error) {
	var req deis.FlavorUpdateRequest
	if provider != "" {
		req.Provider = &provider
	}
	set, err := parseKVFlags("params", params)
	if err != nil {
		return req, err
	}
	if len(set)+len(unset) > 0 {
		req.Params = map[string]*string{}
	}
	for k, v := range set {
		req.Params[k] = &v
	}
	for _, k := range unset {
		if _, both := set[k]; both {
			return req, usageError{fmt.Sprintf("%q is both set and unset", k)}
		}
		req.Params[k] = nil
	}
	if req.Provider == nil && req.Params == nil {
		return req, usageError{"nothing to update: give --provider, --params or --unset"}
	}
	return req, nil
}

func (c *cli) flavorsDeleteCmd() *cobra.Command {
	return command("flavors:delete ID", "delete a flavor", exactArgs(1),
		func(ctx context.Context, args []string) error {
			ctl, err := c.client()
			if err != nil {
				return err
			}
			if err := ctl.DeleteFlavor(ctx, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "Deleted flavor %s\n", args[0])
			return nil
		})
}
