package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/deis/deis"
	"github.com/deis/deis/client"
	"github.com/spf13/cobra"
)

func (c *cli) appsCommands() []*cobra.Command {
	return []*cobra.Command{
		c.appsCreateCmd(), c.appsListCmd(), c.appsInfoCmd(), c.appsOpenCmd(),
		c.appsDestroyCmd(), c.appsLogsCmd(), c.appsRunCmd(),
	}
}

func (c *cli) appsCreateCmd() *cobra.Command {
	var formation string
	cmd := command("apps:create [ID] [--formation F]", "create an app and add its git remote named deis", rangeArgs(0, 1),
		func(ctx context.Context, args []string) error {
			inRepo := c.inWorkTree(ctx)
			if r := c.deisRemote(ctx); r != "" {
				return fmt.Errorf("this repository already has a git remote named deis (%s): remove it, or use --app", r)
			}
			ctl, err := c.client()
			if err != nil {
				return err
			}
			if formation == "" {
				if formation, err = defaultFormation(ctx, ctl); err != nil {
					return err
				}
			}
			req := deis.AppCreateRequest{Formation: formation}
			if len(args) == 1 {
				req.ID = args[0]
			}
			app, err := ctl.CreateApp(ctx, req)
			if err != nil {
				return err
			}
			if err := c.show(app, func(w io.Writer) { fmt.Fprintf(w, "Created app %s on formation %s\n", app.ID, app.Formation) }); err != nil {
				return err
			}
			switch {
			case !inRepo:
				fmt.Fprintln(c.stderr, "Not in a git repository: no git remote added")
			case app.GitRemote == "":
				fmt.Fprintln(c.stderr, "The controller gave no git remote: none added")
			default:
				if _, err := c.git(ctx, "remote", "add", remoteName, app.GitRemote); err != nil {
					return fmt.Errorf("app %s created, but adding its git remote failed: %w", app.ID, err)
				}
				fmt.Fprintf(c.stderr, "Git remote deis added: %s\n", app.GitRemote)
			}
			return nil
		})
	cmd.Aliases = []string{"create"}
	cmd.Flags().StringVar(&formation, "formation", "", "the formation to run on (default: your only formation)")
	return cmd
}

// defaultFormation picks the caller's only formation.
func defaultFormation(ctx context.Context, ctl *client.Client) (string, error) {
	fs, err := ctl.ListFormations(ctx)
	if err != nil {
		return "", err
	}
	switch len(fs) {
	case 0:
		return "", errors.New("no formation to create the app on: create one with 'deis formations:create ID --flavor F'")
	case 1:
		return fs[0].ID, nil
	}
	return "", usageError{fmt.Sprintf("you have %d formations: pick one with --formation", len(fs))}
}

func (c *cli) appsListCmd() *cobra.Command {
	cmd := command("apps:list", "list your apps", exactArgs(0),
		func(ctx context.Context, args []string) error {
			ctl, err := c.client()
			if err != nil {
				return err
			}
			apps, err := ctl.ListApps(ctx)
			if err != nil {
				return err
			}
			return c.show(apps, func(io.Writer) {
				var rows [][]string
				for _, a := range apps {
					rows = append(rows, []string{a.ID, a.Formation, a.Owner, orDash(formatCounts(a.Structure))})
				}
				c.table("no apps: create one with 'deis apps:create'", []string{"ID", "FORMATION", "OWNER", "PROCESSES"}, rows)
			})
		})
	cmd.Aliases = []string{"apps"}
	return cmd
}

func (c *cli) appsInfoCmd() *cobra.Command {
	cmd := command("apps:info [ID]", "show an app and its containers", rangeArgs(0, 1),
		func(ctx context.Context, args []string) error {
			name, err := c.appNameArg(ctx, args)
			if err != nil {
				return err
			}
			ctl, err := c.client()
			if err != nil {
				return err
			}
			app, err := ctl.GetApp(ctx, name)
			if err != nil || c.json {
				return c.orJSON(app, err)
			}
			cs, err := ctl.ListContainers(ctx, name)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "=== %s\n", app.ID)
			fields(c.stdout, "formation", app.Formation, "owner", app.Owner, "url", app.URL,
				"git remote", app.GitRemote, "processes", formatCounts(app.Structure),
				"created", fmtTime(app.Created), "updated", fmtTime(app.Updated))
			fmt.Fprintf(c.stdout, "\n=== %s containers\n", app.ID)
			c.containersTable(cs)
			return nil
		})
	cmd.Aliases = []string{"info"}
	return cmd
}

func (c *cli) appsDestroyCmd() *cobra.Command {
	var confirm string
	var f jobFlags
	cmd := command("apps:destroy [ID] --confirm ID", "destroy an app and remove its git remote", rangeArgs(0, 1),
		func(ctx context.Context, args []string) error {
			name, err := c.appNameArg(ctx, args)
			if err != nil {
				return err
			}
			ctl, err := c.client()
			if err != nil {
				return err
			}
			if err := c.confirmDestroy(ctx, "app", name, confirm); err != nil {
				return err
			}
			job, err := ctl.DeleteApp(ctx, name)
			if err != nil {
				return err
			}
			if ended, err := c.endJob(ctx, ctl, job, f.noWait); !ended {
				return err
			}
			fmt.Fprintf(c.stdout, "Destroyed app %s\n", name)
			if r := c.deisRemote(ctx); r != "" {
				if remoteApp, err := parseRemoteApp(r); err == nil && remoteApp == name {
					if _, err := c.git(ctx, "remote", "remove", remoteName); err != nil {
						return fmt.Errorf("app %s destroyed, but removing its git remote failed: %w", name, err)
					}
					fmt.Fprintln(c.stderr, "Git remote deis removed")
				}
			}
			return nil
		})
	cmd.Aliases = []string{"destroy"}
	cmd.Flags().StringVar(&confirm, "confirm", "", "the app's id, to confirm")
	f.add(cmd, false)
	return cmd
}

// containersTable prints containers in name order, with their state as
// their nodes last said: "up", or "down (exited 1, 3 restarts, 2m ago)".
func (c *cli) containersTable(cs []deis.Container) {
	sortContainers(cs)
	now := time.Now()
	var rows [][]string
	for _, k := range cs {
		rows = append(rows, []string{k.Name, orDash(k.Status(now)), orDash(k.Node),
			strconv.Itoa(k.Port), "v" + strconv.Itoa(k.Release), fmtTime(k.Created)})
	}
	c.table("no containers: scale with 'deis scale web=1'", []string{"NAME", "STATE", "NODE", "PORT", "RELEASE", "CREATED"}, rows)
}
