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
func (c *cli) followJob(ctx context.Context, ctl *client.Client, job *deis.Job, noWait bool) error {
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
	final, err := c.waitJob(ctx, ctl, job)
	if err != nil {
		return err
	}
	if c.json {
		if err := c.printJSON(final); err != nil {
			return err
		}
	}
	if err := jobError(final); err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "done in %ds\n", int(time.Since(start).Round(time.Second)/time.Second))
	return nil
}

// waitJob prints a job's progress lines on stderr until it ends, and
// returns it as it ended.
// A nil job (an answer that started none) has ended at once.
func (c *cli) waitJob(ctx context.Context, ctl *client.Client, job *deis.Job) (deis.Job, error) {
	if job == nil {
		return deis.Job{State: deis.JobSucceeded}, nil
	}
	return ctl.FollowJob(ctx, job.ID, func(l deis.JobLine) {
		fmt.Fprintln(c.stderr, l.Text)
	})
}

// endJob follows a job until it ends (progress on stderr) and reports
// whether it ended well; a failed job is the error. With noWait it prints
// the job id instead and reports false with no error: the caller is done.
func (c *cli) endJob(ctx context.Context, ctl *client.Client, job *deis.Job, noWait bool) (bool, error) {
	if noWait {
		return false, c.followJob(ctx, ctl, job, true)
	}
	final, err := c.waitJob(ctx, ctl, job)
	if err == nil {
		err = jobError(final)
	}
	return err == nil, err
}

// jobError is the error of a job that failed, nil otherwise.
func jobError(j deis.Job) error {
	if j.State != deis.JobFailed {
		return nil
	}
	if j.Error == "" {
		return fmt.Errorf("job %s (%s) failed", j.ID, j.Kind)
	}
	return errors.New(j.Error)
}

// followRelease follows the job of a command that makes a release (config,
// builds, rollback), printing its progress on stderr, and prints the
// release it made: "v3", or its JSON. A release that did not start is an
// error. With --no-wait it prints the job id and returns at once.
func (c *cli) followRelease(ctx context.Context, ctl *client.Client, app string, job *deis.Job, noWait bool) error {
	if noWait || job == nil {
		return c.followJob(ctx, ctl, job, noWait)
	}
	final, err := c.waitJob(ctx, ctl, job)
	if err != nil {
		return err
	}
	if final.Release == 0 {
		if err := jobError(final); err != nil {
			return err
		}
		return fmt.Errorf("job %s made no release", final.ID)
	}
	rel, err := ctl.GetRelease(ctx, app, final.Release)
	if err != nil {
		return err
	}
	return c.printRelease(rel)
}
