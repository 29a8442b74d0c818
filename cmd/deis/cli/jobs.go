package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/deis/deis"
	"github.com/deis/deis/client"
	"github.com/spf13/cobra"
)

// jobFlags are the flags of commands that start a job.
type jobFlags struct {
	noWait bool
	dryRun bool
}

// add registers --no-wait, and --dry-run when withDryRun is set.
func (f *jobFlags) add(cmd *cobra.Command, withDryRun bool) {
	cmd.Flags().BoolVar(&f.noWait, "no-wait", false, "print the job id and return without following it")
	if withDryRun {
		addDryRun(cmd, &f.dryRun)
	}
}

// addDryRun registers --dry-run.
func addDryRun(cmd *cobra.Command, v *bool) {
	cmd.Flags().BoolVar(v, "dry-run", false, "print the plan without applying it")
}

// followJob follows a job the API answered: progress lines on stderr, then
// "done in Ns". A failed job is an error. With --no-wait it prints the job
// id (the job with --json) and returns at once.
func (c *cli) followJob(ctx context.Context, api *client.Client, job *deis.Job, noWait bool) error {
	if job == nil {
		fmt.Fprintln(c.stderr, "done")
		return nil
	}
	if noWait {
		if c.json {
			return c.printJSON(job)
		}
		fmt.Fprintln(c.stdout, job.ID)
		return nil
	}
	start := time.Now()
	final, err := api.FollowJob(ctx, job.ID, func(l deis.JobLine) {
		fmt.Fprintln(c.stderr, l.Text)
	})
	if err != nil {
		return err
	}
	if c.json {
		if err := c.printJSON(final); err != nil {
			return err
		}
	}
	if final.State == deis.JobFailed {
		if final.Error == "" {
			return fmt.Errorf("job %s (%s) failed", final.ID, final.Kind)
		}
		return errors.New(final.Error)
	}
	fmt.Fprintf(c.stderr, "done in %ds\n", int(time.Since(start).Round(time.Second)/time.Second))
	return nil
}
