package cli

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/deis/deis"
	"github.com/spf13/cobra"
)

func (c *cli) containersCommands() []*cobra.Command {
	return []*cobra.Command{c.containersListCmd(), c.containersScaleCmd()}
}

// sortContainers orders containers by type, then number.
func sortContainers(cs []deis.Container) {
	slices.SortFunc(cs, func(a, b deis.Container) int {
		return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.Num, b.Num))
	})
}

func (c *cli) containersListCmd() *cobra.Command {
	cmd := command("containers:list", "list the app's containers", exactArgs(0),
		func(ctx context.Context, args []string) error {
			name, err := c.appName(ctx)
			if err != nil {
				return err
			}
			ctl, err := c.client()
			if err != nil {
				return err
			}
			cs, err := ctl.ListContainers(ctx, name)
			if err != nil {
				return err
			}
			return c.show(cs, func(io.Writer) { c.containersTable(cs) })
		})
	cmd.Aliases = []string{"containers", "ps"}
	return cmd
}

func (c *cli) containersScaleCmd() *cobra.Command {
	var f jobFlags
	cmd := command("containers:scale TYPE=N ...", "set the number of containers per process type", minArgs(1),
		func(ctx context.Context, args []string) error {
			counts, err := parseCounts(args)
			if err != nil {
				return err
			}
			name, err := c.appName(ctx)
			if err != nil {
				return err
			}
			ctl, err := c.client()
			if err != nil {
				return err
			}
			if f.dryRun {
				plan, err := ctl.PlanScale(ctx, name, deis.ScaleRequest(counts))
				if err != nil {
					return err
				}
				return c.showReleasePlan(plan)
			}
			job, err := ctl.Scale(ctx, name, deis.ScaleRequest(counts))
			if err != nil {
				return err
			}
			if ended, err := c.endJob(ctx, ctl, job, f.noWait); !ended {
				return err
			}
			app, err := ctl.GetApp(ctx, name)
			if err != nil {
				return err
			}
			return c.show(app, func(w io.Writer) { fmt.Fprintln(w, orDash(formatCounts(app.Structure))) })
		})
	cmd.Aliases = []string{"scale"}
	f.add(cmd, true)
	return cmd
}
