package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/deis/deis"
)

// MaxJobWait is the longest long poll the controller accepts.
const MaxJobWait = 30 * time.Second

// GetJob returns a job as it stands.
func (c *Client) GetJob(ctx context.Context, id string) (deis.Job, error) {
	var j deis.Job
	err := c.get(ctx, p("jobs", id), &j)
	return j, err
}

// JobLines returns the progress lines of a job after sequence number after,
// and the job as it stands. With wait > 0 the controller holds the answer
// until there are new lines, the job ends or wait runs out (at most
// MaxJobWait).
func (c *Client) JobLines(ctx context.Context, id string, after int, wait time.Duration) (deis.JobLines, error) {
	wait = min(max(wait, 0), MaxJobWait)
	q := url.Values{"after": {strconv.Itoa(after)}}
	if wait > 0 {
		q.Set("wait", strconv.Itoa(int(wait.Round(time.Second)/time.Second)))
	}
	var jl deis.JobLines
	_, err := c.do(ctx, request{method: http.MethodGet, path: p("jobs", id, "lines"), query: q, wait: wait}, &jl)
	return jl, err
}

// followRetries is how many failed polls in a row FollowJob tolerates
// before it gives up; followBackoff is the pause after each.
const followRetries = 5

var followBackoff = time.Second

// FollowJob long-polls the lines of a job, calling fn for each in order,
// until the job ends, and returns the job as it ended. A job that failed is
// not an error of FollowJob: check Job.State (and Job.Error). The error is
// for a job that could not be followed: ctx ended, the job is unknown, or
// the controller could not be reached followRetries times in a row.
func (c *Client) FollowJob(ctx context.Context, id string, fn func(deis.JobLine)) (deis.Job, error) {
	after, failures := 0, 0
	for {
		jl, err := c.JobLines(ctx, id, after, MaxJobWait)
		if err != nil {
			var ae *APIError
			if errors.As(err, &ae) || ctx.Err() != nil {
				return deis.Job{}, fmt.Errorf("following job %s: %w", id, err)
			}
			if failures++; failures >= followRetries {
				return deis.Job{}, fmt.Errorf("following job %s: %w", id, err)
			}
			if err := sleep(ctx, followBackoff); err != nil {
				return deis.Job{}, fmt.Errorf("following job %s: %w", id, err)
			}
			continue
		}
		failures = 0
		fresh := 0
		for _, l := range jl.Lines {
			if l.Seq <= after {
				continue // a line we already have
			}
			after, fresh = l.Seq, fresh+1
			if fn != nil {
				fn(l)
			}
		}
		// Once the job has ended, ask again until no lines are left, in
		// case the server answers a long tail in several pieces.
		if jl.Job.State != deis.JobRunning && jl.Job.State != "" && fresh == 0 {
			return jl.Job, nil
		}
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
