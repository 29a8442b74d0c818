package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/deis/deis"
	"github.com/spf13/cobra"
)

func (c *cli) formationsCommands() []*cobra.Command {
	return []*cobra.Command{
		c.formationsCreateCmd(), c.formationsListCmd(), c.formationsInfoCmd(),
		c.formationsUpdateCmd(), c.formationsCalculateCmd(), c.formationsConvergeCmd(),
		c.formationsDestroyCmd(),
	}
}

func (c *cli) formationsCreateCmd() *cobra.Command {
	var domain, flavor string
	cmd := command("formations:create ID [--domain D] [--flavor F]",
		"create a formation (with --flavor: and a proxy+runtime layer named runtime)", exactArgs(1),
		func(ctx context.Context, args []string) error {
			ctl, err := c.client()
			if err != nil {
				return err
			}
			f, err := ctl.CreateFormation(ctx, deis.FormationCreateRequest{ID: args[0], Domain: domain, Flavor: flavor})
			if err != nil {
				return err
			}
			return c.show(f, func(w io.Writer) {
				fmt.Fprintf(w, "Created formation %s\n", f.ID)
				if flavor != "" {
					fmt.Fprintf(w, "Created layer runtime (proxy and runtime, flavor %s): add nodes with 'deis nodes:scale %s runtime=N'\n", flavor, f.ID)
				}
			})
		})
	cmd.Flags().StringVar(&domain, "domain", "", "wildcard domain: apps answer at APP.DOMAIN")
	cmd.Flags().StringVar(&flavor, "flavor", "", "also create layer runtime (proxy+runtime) of this flavor")
	return cmd
}

func (c *cli) formationsListCmd() *cobra.Command {
	cmd := command("formations:list", "list your formations", exactArgs(0),
		func(ctx context.Context, args []string) error {
			ctl, err := c.client()
			if err != nil {
				return err
			}
			fs, err := ctl.ListFormations(ctx)
			if err != nil {
				return err
			}
			return c.show(fs, func(io.Writer) {
				var rows [][]string
				for _, f := range fs {
					rows = append(rows, []string{f.ID, orDash(f.Domain), orDash(formatCounts(f.Nodes))})
				}
				c.table("no formations: create one with 'deis formations:create ID --flavor F'", []string{"ID", "DOMAIN", "NODES"}, rows)
			})
		})
	cmd.Aliases = []string{"formations"}
	return cmd
}

func (c *cli) formationsInfoCmd() *cobra.Command {
	return command("formations:info ID", "show a formation with its layers and nodes", exactArgs(1),
		func(ctx context.Context, args []string) error {
			ctl, err := c.client()
			if err != nil {
				return err
			}
			f, err := ctl.GetFormation(ctx, args[0])
			if err != nil || c.json {
				return c.orJSON(f, err)
			}
			layers, err := ctl.ListLayers(ctx, f.ID)
			if err != nil {
				return err
			}
			nodes, err := ctl.ListNodes(ctx, f.ID)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "=== %s\n", f.ID)
			fields(c.stdout, "domain", f.Domain, "owner", f.Owner, "nodes", formatCounts(f.Nodes),
				"created", fmtTime(f.Created), "updated", fmtTime(f.Updated))
			fmt.Fprintf(c.stdout, "\n=== %s layers\n", f.ID)
			c.layersTable(layers)
			fmt.Fprintf(c.stdout, "\n=== %s nodes\n", f.ID)
			c.nodesTable(nodes)
			return nil
		})
}

// orJSON prints v as JSON unless err is set.
func (c *cli) orJSON(v any, err error) error {
	if err != nil {
		return err
	}
	return c.printJSON(v)
}

func (c *cli) formationsUpdateCmd() *cobra.Command {
	var domain string
	cmd := command("formations:update ID --domain D", "change a formation's domain", exactArgs(1),
		func(ctx context.Context, args []string) error {
			if domain == "" {
				return usageError{"nothing to update: give --domain"}
			}
			ctl, err := c.client()
			if err != nil {
				return err
			}
			f, err := ctl.UpdateFormation(ctx, args[0], deis.FormationUpdateRequest{Domain: &domain})
			if err != nil {
				return err
			}
			return c.show(f, func(w io.Writer) { fmt.Fprintf(w, "Formation %s now serves apps at *.%s\n", f.ID, f.Domain) })
		})
	cmd.Flags().StringVar(&domain, "domain", "", "wildcard domain: apps answer at APP.DOMAIN")
	return cmd
}

func (c *cli) formationsCalculateCmd() *cobra.Command {
	cmd := command("formations:calculate ID", "print the desired state of a formation", exactArgs(1),
		func(ctx context.Context, args []string) error {
			ctl, err := c.client()
			if err != nil {
				return err
			}
			raw, err := ctl.CalculateFormation(ctx, args[0])
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			if err := json.Indent(&buf, raw, "", "  "); err != nil {
				return fmt.Errorf("reading the desired state: %w", err)
			}
			fmt.Fprintln(c.stdout, buf.String())
			return nil
		})
	cmd.Aliases = []string{"calculate"}
	return cmd
}

func (c *cli) formationsConvergeCmd() *cobra.Command {
	var jf jobFlags
	cmd := command("formations:converge ID", "bring every node of a formation to its desired state", exactArgs(1),
		func(ctx context.Context, args []string) error {
			ctl, err := c.client()
			if err != nil {
				return err
			}
			if jf.dryRun {
				plans, err := ctl.PlanFormation(ctx, args[0])
				if err != nil {
					return err
				}
				return c.showPlans(plans)
			}
			job, err := ctl.ConvergeFormation(ctx, args[0])
			if err != nil {
				return err
			}
			return c.followJob(ctx, ctl, job, jf.noWait)
		})
	cmd.Aliases = []string{"converge"}
	jf.add(cmd, true)
	return cmd
}

func (c *cli) formationsDestroyCmd() *cobra.Command {
	var jf jobFlags
	var confirm string
	cmd := command("formations:destroy ID --confirm ID", "destroy a formation with its nodes, layers and apps", exactArgs(1),
		func(ctx context.Context, args []string) error {
			ctl, err := c.client()
			if err != nil {
				return err
			}
			if err := c.confirmDestroy(ctx, "formation", args[0], confirm); err != nil {
				return err
			}
			job, err := ctl.DestroyFormation(ctx, args[0])
			if err != nil {
				return err
			}
			return c.followJob(ctx, ctl, job, jf.noWait)
		})
	cmd.Flags().StringVar(&confirm, "confirm", "", "the formation's id, to confirm")
	jf.add(cmd, false)
	return cmd
}
