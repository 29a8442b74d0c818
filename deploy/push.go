package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/deis/deis"
	"github.com/deis/deis/gitreceive"
	"github.com/deis/deis/slugbuilder"
	"github.com/deis/deis/slugs"
	"github.com/deis/deis/store"
)

// Pusher deploys git pushes (it is the git endpoint's Deploy): the pushed
// tree is built into a slug in the slug store, made a release and rolled
// out by the Service, writing Heroku-style lines to the pusher's terminal;
// slugs of builds older than the newest Keep are pruned.
type Pusher struct {
	Releases *Service
	// Builder builds slugs; nil when the controller has no Docker engine.
	Builder *slugbuilder.Builder
	Slugs   slugs.Store
	BaseURL string // the API's URL, for slug URLs
	Keep    int    // slugs kept per app
}

// lines writes progress lines to the pusher, indented like Heroku's.
type lines struct{ w io.Writer }

func (l lines) Printf(format string, a ...any) { fmt.Fprintf(l.w, "       "+format+"\n", a...) }

// Deploy builds and rolls out push p.
func (d *Pusher) Deploy(ctx context.Context, p gitreceive.Push, out io.Writer) error {
	if d.Builder == nil {
		return errors.New("building needs a Docker engine on the controller, and none answered")
	}
	cfg, err := d.Releases.Store.GetConfig(ctx, p.App)
	if err != nil {
		return err
	}
	start := time.Now()
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(gitreceive.ArchiveTree(p.Repo, p.New, pw)) }()
	res, err := d.Builder.Build(ctx, slugbuilder.Request{App: p.App, SHA: p.New, Source: pr, Env: cfg.Values}, out)
	pr.Close()
	if err != nil {
		return fmt.Errorf("build failed: %w", err)
	}
	built := time.Now()
	fmt.Fprintf(out, "       Built in %s\n", built.Sub(start).Round(100*time.Millisecond))
	b := deis.Build{
		App: p.App, Owner: p.User, SHA: p.New, SlugSize: res.Size, SlugSHA256: res.SHA256,
		SlugURL:  slugs.URL(d.BaseURL, p.App, res.SHA256),
		Procfile: res.Procfile, Buildpack: res.Buildpack,
	}
	if err := d.Releases.Store.AddAppSlug(ctx, p.App, res.SHA256); err != nil {
		return err
	}
	fmt.Fprintln(out, "-----> Launching...")
	rel, err := d.Releases.Build(ctx, b, lines{out})
	if err != nil {
		return err
	}
	if rel.Status == deis.ReleaseFailed {
		return fmt.Errorf("v%d did not start, the previous release keeps serving: %s", rel.Version, rel.Error)
	}
	fmt.Fprintf(out, "       done, v%d (rolled out in %s)\n", rel.Version, time.Since(built).Round(100*time.Millisecond))
	if url := d.Releases.URL(ctx, p.App); url != "" {
		fmt.Fprintf(out, "       %s deployed to Deis\n", url)
	}
	d.pruneSlugs(ctx, p.App)
	return nil
}

// pruneSlugs deletes the slugs of an app's builds older than the newest
// keep, unless a newer build uses the same slug.
func (d *Pusher) pruneSlugs(ctx context.Context, app string) {
	builds, _, err := d.Releases.Store.ListBuilds(ctx, app, store.PageReq{})
	if err != nil || len(builds) <= d.Keep {
		return
	}
	kept := map[string]bool{}
	for _, b := range builds[:d.Keep] {
		kept[b.SlugSHA256] = true
	}
	for _, b := range builds[d.Keep:] {
		if kept[b.SlugSHA256] || !d.Slugs.Has(b.SlugSHA256) {
			continue
		}
		if other, err := d.Releases.Store.SlugInUse(ctx, b.SlugSHA256, app); err != nil || other {
			continue // another app has the same slug
		}
		if err := d.Slugs.Remove(b.SlugSHA256); err != nil {
			d.Releases.log().Warn("pruning an old slug", "app", app, "build", b.UUID, "err", err)
			continue
		}
		d.Releases.log().Info("pruned old slug", "app", app, "build", b.UUID)
	}
}
