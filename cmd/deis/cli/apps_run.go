package cli

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"runtime"

	"github.com/deis/deis/client"
	"github.com/spf13/cobra"
)

func (c *cli) appsOpenCmd() *cobra.Command {
	var browser bool
	cmd := command("apps:open", "print the app's URL (and open it with --browser)", exactArgs(0),
		func(ctx context.Context, args []string) error {
			name, err := c.appName(ctx)
			if err != nil {
				return err
			}
			ctl, err := c.client()
			if err != nil {
				return err
			}
			app, err := ctl.GetApp(ctx, name)
			if err != nil {
				return err
			}
			if app.URL == "" {
				return fmt.Errorf("app %s has no URL yet: its formation needs a proxy node", name)
			}
			fmt.Fprintln(c.stdout, app.URL)
			if !browser {
				return nil
			}
			return openBrowser(ctx, app.URL)
		})
	cmd.Aliases = []string{"open"}
	cmd.Flags().BoolVar(&browser, "browser", false, "also open the URL in a web browser")
	return cmd
}

// openBrowser opens url with the desktop's opener.
func openBrowser(ctx context.Context, url string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.CommandContext(ctx, "open", url)
	case "windows":
		cmd = exec.CommandContext(ctx, "rundll32", "url.dll,FileProtocolHandler", url)
	default:
		cmd = exec.CommandContext(ctx, "xdg-open", url)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("opening a browser: %w", err)
	}
	return cmd.Process.Release()
}

func (c *cli) appsLogsCmd() *cobra.Command {
	var opts client.LogsOptions
	cmd := command("apps:logs [-n N] [-f]", "print the app's logs", exactArgs(0),
		func(ctx context.Context, args []string) error {
			if opts.Lines < 0 {
				return usageError{"-n cannot be negative"}
			}
			name, err := c.appName(ctx)
			if err != nil {
				return err
			}
			ctl, err := c.client()
			if err != nil {
				return err
			}
			return ctl.AppLogs(ctx, name, opts, c.stdout)
		})
	cmd.Aliases = []string{"logs"}
	cmd.Flags().IntVarP(&opts.Lines, "lines", "n", 0, "print the last N lines (default: the server's choice)")
	cmd.Flags().BoolVarP(&opts.Follow, "follow", "f", false, "keep printing new lines")
	return cmd
}

func (c *cli) appsRunCmd() *cobra.Command {
	cmd := command("apps:run CMD ...", "run a one-off command in a container of the current release", minArgs(1),
		func(ctx context.Context, args []string) error {
			name, err := c.appName(ctx)
			if err != nil {
				return err
			}
			ctl, err := c.client()
			if err != nil {
				return err
			}
			res, err := ctl.AppRun(ctx, name, client.RunRequest{Command: args})
			if err != nil {
				return err
			}
			if c.json {
				if err := c.printJSON(res); err != nil {
					return err
				}
			} else {
				io.WriteString(c.stdout, res.Output)
			}
			if res.ExitCode != 0 {
				return exitError{res.ExitCode}
			}
			return nil
		})
	cmd.Aliases = []string{"run"}
	cmd.Flags().SetInterspersed(false) // flags after CMD belong to it
	return cmd
}
