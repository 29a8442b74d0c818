package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/deis/deis"
	"github.com/spf13/cobra"
)

func (c *cli) configCommands() []*cobra.Command {
	return []*cobra.Command{c.configListCmd(), c.configSetCmd(), c.configUnsetCmd()}
}

func (c *cli) configListCmd() *cobra.Command {
	cmd := command("config:list", "print the app's config as KEY=VALUE lines", exactArgs(0),
		func(ctx context.Context, args []string) error {
			name, err := c.appName(ctx)
			if err != nil {
				return err
			}
			ctl, err := c.client()
			if err != nil {
				return err
			}
			cfg, err := ctl.GetConfig(ctx, name)
			if err != nil {
				return err
			}
			return c.show(cfg, func(w io.Writer) { printConfig(w, cfg.Values) })
		})
	cmd.Aliases = []string{"config"}
	return cmd
}

// printConfig prints KEY=VALUE lines in key order, values exactly as
// stored.
func printConfig(w io.Writer, values map[string]string) {
	for _, k := range sortedKeys(values) {
		fmt.Fprintf(w, "%s=%s\n", k, values[k])
	}
}

func (c *cli) configSetCmd() *cobra.Command {
	var f jobFlags
	cmd := command("config:set KEY=VALUE ...", "set config values (a new release)", minArgs(1),
		func(ctx context.Context, args []string) error {
			values, err := parseConfigArgs(args)
			if err != nil {
				return err
			}
			return c.updateConfig(ctx, values, f)
		})
	f.add(cmd, true)
	return cmd
}

func (c *cli) configUnsetCmd() *cobra.Command {
	var f jobFlags
	cmd := command("config:unset KEY ...", "remove config values (a new release)", minArgs(1),
		func(ctx context.Context, args []string) error {
			values, err := parseUnsetArgs(args)
			if err != nil {
				return err
			}
			return c.updateConfig(ctx, values, f)
		})
	f.add(cmd, true)
	return cmd
}

// updateConfig sends a config change, follows its rollout and prints the
// release it made.
func (c *cli) updateConfig(ctx context.Context, values map[string]*string, f jobFlags) error {
	name, err := c.appName(ctx)
	if err != nil {
		return err
	}
	ctl, err := c.client()
	if err != nil {
		return err
	}
	if f.dryRun {
		plan, err := ctl.PlanConfig(ctx, name, values)
		if err != nil {
			return err
		}
		return c.showReleasePlan(plan)
	}
	job, err := ctl.UpdateConfig(ctx, name, values)
	if err != nil {
		return err
	}
	return c.followRelease(ctx, ctl, name, job, f.noWait)
}

// printRelease prints the release a change made: "v3", or its JSON. A
// release that failed is an error.
func (c *cli) printRelease(r deis.Release) error {
	if err := c.show(r, func(w io.Writer) { fmt.Fprintln(w, "v"+strconv.Itoa(r.Version)) }); err != nil {
		return err
	}
	if r.Status == deis.ReleaseFailed {
		return fmt.Errorf("release v%d failed: %s", r.Version, orDash(r.Error))
	}
	return nil
}

// showReleasePlan prints what a release change would do (--dry-run).
func (c *cli) showReleasePlan(plan deis.ReleasePlan) error {
	return c.show(plan, func(w io.Writer) {
		fmt.Fprintln(w, plan.Summary)
		if len(plan.Start)+len(plan.Retire) == 0 {
			fmt.Fprintf(w, "no container would change (%d running as they are)\n", len(plan.Keep))
			return
		}
		for _, ct := range plan.Start {
			fmt.Fprintf(w, "start  %s.%d v%d on %s\n", ct.Type, ct.Num, ct.Release, ct.Node)
		}
		for _, ct := range plan.Keep {
			fmt.Fprintf(w, "keep   %s.%d v%d on %s\n", ct.Type, ct.Num, ct.Release, ct.Node)
		}
		for _, ct := range plan.Retire {
			fmt.Fprintf(w, "retire %s.%d v%d on %s\n", ct.Type, ct.Num, ct.Release, ct.Node)
		}
	})
}
