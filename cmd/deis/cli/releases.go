package cli

import (
	"context"
	"io"
	"strconv"

	"github.com/spf13/cobra"
)

func (c *cli) releasesCommands() []*cobra.Command {
	return []*cobra.Command{c.releasesListCmd(), c.releasesInfoCmd(), c.releasesRollbackCmd()}
}

func (c *cli) releasesListCmd() *cobra.Command {
	cmd := command("releases:list", "list the app's releases, newest first", exactArgs(0),
		func(ctx context.Context, args []string) error {
			name, err := c.appName(ctx)
			if err != nil {
				return err
			}
			ctl, err := c.client()
			if err != nil {
				return err
			}
			rs, err := ctl.ListReleases(ctx, name)
			if err != nil {
				return err
			}
			return c.show(rs, func(io.Writer) {
				var rows [][]string
				for _, r := range rs {
					rows = append(rows, []string{"v" + strconv.Itoa(r.Version), string(r.Status), fmtTime(r.Created), r.Summary})
				}
				c.table("no releases", []string{"VERSION", "STATUS", "CREATED", "SUMMARY"}, rows)
			})
		})
	cmd.Aliases = []string{"releases"}
	return cmd
}

func (c *cli) releasesInfoCmd() *cobra.Command {
	return command("releases:info vN", "show a release", exactArgs(1),
		func(ctx context.Context, args []string) error {
			v, err := parseVersion(args[0])
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
			r, err := ctl.GetRelease(ctx, name, v)
			if err != nil {
				return err
			}
			return c.show(r, func(w io.Writer) {
				fields(w, "app", r.App, "version", "v"+strconv.Itoa(r.Version), "status", string(r.Status),
					"build", orDash(r.Build), "config", "v"+strconv.Itoa(r.Config), "owner", r.Owner,
					"summary", r.Summary, "error", r.Error, "created", fmtTime(r.Created))
			})
		})
}

func (c *cli) releasesRollbackCmd() *cobra.Command {
	var f jobFlags
	cmd := command("releases:rollback [vN]", "make a new release from vN (default: the one before the current)", rangeArgs(0, 1),
		func(ctx context.Context, args []string) error {
			v := 0
			if len(args) == 1 {
				var err error
				if v, err = parseVersion(args[0]); err != nil {
					return err
				}
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
				plan, err := ctl.PlanRollback(ctx, name, v)
				if err != nil {
					return err
				}
				return c.showReleasePlan(plan)
			}
			job, err := ctl.Rollback(ctx, name, v)
			if err != nil {
				return err
			}
			return c.followRelease(ctx, ctl, name, job, f.noWait)
		})
	cmd.Aliases = []string{"rollback"}
	f.add(cmd, true)
	return cmd
}
