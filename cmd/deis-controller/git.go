package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/deis/deis"
	"github.com/deis/deis/deploy"
	"github.com/deis/deis/gitreceive"
	"github.com/deis/deis/slugbuilder"
	"github.com/deis/deis/slugs"
	"github.com/deis/deis/store"
)

// gitUsers answers the git endpoint's questions from the store.
type gitUsers struct{ st *store.Store }

func (u gitUsers) UserForFingerprint(ctx context.Context, fp string) (string, error) {
	return u.st.UserForFingerprint(ctx, fp)
}

func (u gitUsers) viewer(ctx context.Context, user string) (store.Viewer, error) {
	usr, _, err := u.st.GetUser(ctx, user)
	return store.Viewer{Username: usr.Username, Admin: usr.Admin}, err
}

// CanPush: the owner, collaborators and admins.
func (u gitUsers) CanPush(ctx context.Context, user, app string) (bool, error) {
	v, err := u.viewer(ctx, user)
	if err != nil {
		return false, err
	}
	_, err = u.st.GetApp(ctx, v, app)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// CanFetch: the owner and admins.
func (u gitUsers) CanFetch(ctx context.Context, user, app string) (bool, error) {
	v, err := u.viewer(ctx, user)
	if err != nil {
		return false, err
	}
	a, err := u.st.GetApp(ctx, v, app)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil && (a.Owner == user || v.Admin), err
}

// deployer turns a push into a slug, a release and a rollout, writing
// Heroku-style lines to the pusher's terminal.
type deployer struct {
	st       *store.Store
	releases *deploy.Service
	builder  *slugbuilder.Builder
	slugs    slugs.Store
	base     string // the API's URL, for slug URLs
	keep     int    // slugs kept per app
	log      *slog.Logger
}

// lines writes progress lines to the pusher, indented like Heroku's.
type lines struct{ w io.Writer }

func (l lines) Printf(format string, a ...any) { fmt.Fprintf(l.w, "       "+format+"\n", a...) }

func (d *deployer) Deploy(ctx context.Context, p gitreceive.Push, out io.Writer) error {
	if d.builder == nil {
		return errors.New("building needs a Docker engine on the controller, and none answered")
	}
	cfg, err := d.st.GetConfig(ctx, p.App)
	if err != nil {
		return err
	}
	start := time.Now()
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(gitreceive.ArchiveTree(p.Repo, p.New, pw)) }()
	res, err := d.builder.Build(ctx, slugbuilder.Request{App: p.App, SHA: p.New, Source: pr, Env: cfg.Values}, out)
	pr.Close()
	if err != nil {
		return fmt.Errorf("build failed: %w", err)
	}
	built := time.Now()
	fmt.Fprintf(out, "       Built in %s\n", built.Sub(start).Round(100*time.Millisecond))
	b := deis.Build{
		App: p.App, Owner: p.User, SHA: p.New, SlugSize: res.Size, SlugSHA256: res.SHA256,
		SlugURL:  slugs.URL(d.base, p.App, res.SHA256),
		Procfile: res.Procfile, Buildpack: res.Buildpack,
	}
	fmt.Fprintln(out, "-----> Launching...")
	rel, err := d.releases.Build(ctx, b, lines{out})
	if err != nil {
		return err
	}
	if rel.Status == deis.ReleaseFailed {
		return fmt.Errorf("v%d did not start, the previous release keeps serving: %s", rel.Version, rel.Error)
	}
	fmt.Fprintf(out, "       done, v%d (rolled out in %s)\n", rel.Version, time.Since(built).Round(100*time.Millisecond))
	if url := d.releases.URL(ctx, p.App); url != "" {
		fmt.Fprintf(out, "       %s deployed to Deis\n", url)
	}
	d.pruneSlugs(ctx, p.App)
	return nil
}

// pruneSlugs deletes the slugs of an app's builds older than the newest
// keep, unless a newer build uses the same slug.
func (d *deployer) pruneSlugs(ctx context.Context, app string) {
	builds, _, err := d.st.ListBuilds(ctx, app, store.PageReq{})
	if err != nil || len(builds) <= d.keep {
		return
	}
	kept := map[string]bool{}
	for _, b := range builds[:d.keep] {
		kept[b.SlugSHA256] = true
	}
	for _, b := range builds[d.keep:] {
		if kept[b.SlugSHA256] || !d.slugs.Has(b.SlugSHA256) {
			continue
		}
		if err := d.slugs.Remove(b.SlugSHA256); err != nil {
			d.log.Warn("pruning an old slug", "app", app, "build", b.UUID, "err", err)
			continue
		}
		d.log.Info("pruned old slug", "app", app, "build", b.UUID)
	}
}
