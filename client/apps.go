package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/deis/deis"
)

// ListApps returns the apps the caller owns or collaborates on.
func (c *Client) ListApps(ctx context.Context) ([]deis.App, error) {
	return list[deis.App](ctx, c, p("apps"))
}

// CreateApp creates an app on a formation.
func (c *Client) CreateApp(ctx context.Context, req deis.AppCreateRequest) (deis.App, error) {
	var a deis.App
	err := c.post(ctx, p("apps"), req, &a)
	return a, err
}

// GetApp returns one app.
func (c *Client) GetApp(ctx context.Context, id string) (deis.App, error) {
	var a deis.App
	err := c.get(ctx, p("apps", id), &a)
	return a, err
}

// DeleteApp destroys an app (owner only), in a job: its containers go,
// then the app.
func (c *Client) DeleteApp(ctx context.Context, id string) (*deis.Job, error) {
	return c.jobCall(ctx, http.MethodDelete, p("apps", id), nil)
}

// AppLogs copies an app's log lines to w. With opts.Follow it streams
// until ctx ends or the server closes the answer.
func (c *Client) AppLogs(ctx context.Context, app string, opts LogsOptions, w io.Writer) error {
	q := url.Values{}
	if opts.Lines > 0 {
		q.Set("lines", strconv.Itoa(opts.Lines))
	}
	if opts.Follow {
		q.Set("follow", "true")
	} else {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	r := request{method: http.MethodGet, path: p("apps", app, "logs"), query: q}
	resp, err := c.send(ctx, r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		return decodeError(resp, data)
	}
	if _, err := io.Copy(w, resp.Body); err != nil && ctx.Err() == nil {
		return fmt.Errorf("reading logs of %s: %w", app, err)
	}
	return nil
}

// AppRun runs a one-off command in a container of the app's current
// release and returns its output and exit code.
func (c *Client) AppRun(ctx context.Context, app string, req RunRequest) (RunResult, error) {
	var res RunResult
	_, err := c.do(ctx, request{
		method: http.MethodPost, path: p("apps", app, "run"), body: req,
		wait: 10 * c.timeout, // one-off commands outlast ordinary calls
	}, &res)
	return res, err
}

// GetConfig returns the latest config of an app.
func (c *Client) GetConfig(ctx context.Context, app string) (deis.Config, error) {
	var cfg deis.Config
	err := c.get(ctx, p("apps", app, "config"), &cfg)
	return cfg, err
}

// rolloutWait is how long a slug upload may take beyond the usual request
// timeout.
const rolloutWait = 15 * time.Minute

// UpdateConfig merges values into the app's config (a nil value unsets the
// key) as a new release, rolled out in a job: follow it; the job's Release
// names the release it made.
func (c *Client) UpdateConfig(ctx context.Context, app string, values map[string]*string) (*deis.Job, error) {
	return c.jobCall(ctx, http.MethodPost, p("apps", app, "config"), deis.ConfigUpdateRequest{Values: values})
}

// PlanConfig returns what UpdateConfig would do, changing nothing.
func (c *Client) PlanConfig(ctx context.Context, app string, values map[string]*string) (deis.ReleasePlan, error) {
	var r deis.ReleasePlan
	err := c.post(ctx, p("apps", app, "config")+"?dry_run=true", deis.ConfigUpdateRequest{Values: values}, &r)
	return r, err
}

// PlanRollback returns what Rollback would do, changing nothing.
func (c *Client) PlanRollback(ctx context.Context, app string, version int) (deis.ReleasePlan, error) {
	var r deis.ReleasePlan
	err := c.post(ctx, p("apps", app, "releases", "rollback")+"?dry_run=true", deis.RollbackRequest{Version: version}, &r)
	return r, err
}

// PlanScale returns what Scale would do, changing nothing.
func (c *Client) PlanScale(ctx context.Context, app string, req deis.ScaleRequest) (deis.ReleasePlan, error) {
	var r deis.ReleasePlan
	err := c.post(ctx, p("apps", app, "scale")+"?dry_run=true", req, &r)
	return r, err
}

// ListBuilds returns the builds of an app.
func (c *Client) ListBuilds(ctx context.Context, app string) ([]deis.Build, error) {
	return list[deis.Build](ctx, c, p("apps", app, "builds"))
}

// CreateBuild registers a slug built elsewhere as a new release, rolled out
// in a job (see UpdateConfig).
func (c *Client) CreateBuild(ctx context.Context, app string, req deis.BuildCreateRequest) (*deis.Job, error) {
	return c.jobCall(ctx, http.MethodPost, p("apps", app, "builds"), req)
}

// UploadSlug stores a slug (a tar.gz of /app) on the controller.
func (c *Client) UploadSlug(ctx context.Context, app string, slug io.Reader) (deis.Slug, error) {
	var s deis.Slug
	_, err := c.do(ctx, request{method: http.MethodPost, path: p("apps", app, "slugs"), rawBody: slug, wait: rolloutWait}, &s)
	return s, err
}

// GetBuild returns one build.
func (c *Client) GetBuild(ctx context.Context, app, uuid string) (deis.Build, error) {
	var b deis.Build
	err := c.get(ctx, p("apps", app, "builds", uuid), &b)
	return b, err
}

// ListReleases returns the releases of an app, newest first.
func (c *Client) ListReleases(ctx context.Context, app string) ([]deis.Release, error) {
	return list[deis.Release](ctx, c, p("apps", app, "releases"))
}

// GetRelease returns release vN of an app.
func (c *Client) GetRelease(ctx context.Context, app string, version int) (deis.Release, error) {
	var r deis.Release
	err := c.get(ctx, p("apps", app, "releases", strconv.Itoa(version)), &r)
	return r, err
}

// Rollback makes a new release from release vN's build and config; version
// 0 means the release before the current one.
// It runs in a job (see UpdateConfig).
func (c *Client) Rollback(ctx context.Context, app string, version int) (*deis.Job, error) {
	return c.jobCall(ctx, http.MethodPost, p("apps", app, "releases", "rollback"), deis.RollbackRequest{Version: version})
}

// ListContainers returns the containers of an app.
func (c *Client) ListContainers(ctx context.Context, app string) ([]deis.Container, error) {
	return list[deis.Container](ctx, c, p("apps", app, "containers"))
}

// Scale sets process counts and rolls the app's containers out to them,
// in a job.
func (c *Client) Scale(ctx context.Context, app string, req deis.ScaleRequest) (*deis.Job, error) {
	return c.jobCall(ctx, http.MethodPost, p("apps", app, "scale"), req)
}
