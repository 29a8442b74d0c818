// Package deploy is the release service: every workflow that makes a
// release or moves an app's containers (a config change, a build from a
// git push or a registered slug, a rollback, a scale, an app's
// destruction, a reschedule off nodes that went away) and the dry-run plan
// of each, worded as the real one is. Each holds the app's rollout lock and
// reports progress. The HTTP API and the git endpoint both call it; it
// calls the store and converge, never back up.
package deploy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/deis/deis"
	"github.com/deis/deis/converge"
	"github.com/deis/deis/slugs"
	"github.com/deis/deis/store"
)

// Store is what the release service needs of the store.
type Store interface {
	GetApp(ctx context.Context, v store.Viewer, id string) (deis.App, error)
	GetFormation(ctx context.Context, v store.Viewer, id string) (deis.Formation, error)
	ListFormations(ctx context.Context, v store.Viewer, p store.PageReq) ([]deis.Formation, int, error)
	ListLayers(ctx context.Context, formation string, p store.PageReq) ([]deis.Layer, int, error)
	ListNodes(ctx context.Context, formation string, p store.PageReq) ([]deis.Node, int, error)
	ListFormationApps(ctx context.Context, formation string) ([]deis.App, error)
	ListFormationContainers(ctx context.Context, formation string) ([]deis.Container, error)
	ListContainers(ctx context.Context, app string, p store.PageReq) ([]deis.Container, int, error)
	SetStructure(ctx context.Context, id string, structure map[string]int) (deis.App, error)
	DeleteApp(ctx context.Context, id string) error
	GetConfig(ctx context.Context, app string) (deis.Config, error)
	UpdateConfig(ctx context.Context, app string, changes map[string]*string, who string) (deis.Config, deis.Release, error)
	ListBuilds(ctx context.Context, app string, p store.PageReq) ([]deis.Build, int, error)
	GetBuild(ctx context.Context, app, uuid string) (deis.Build, error)
	CreateBuild(ctx context.Context, b deis.Build) (deis.Build, deis.Release, error)
	ListReleases(ctx context.Context, app string, p store.PageReq) ([]deis.Release, int, error)
	GetRelease(ctx context.Context, app string, version int) (deis.Release, error)
	Rollback(ctx context.Context, app string, version int, who string) (deis.Release, error)
	SetReleaseStatus(ctx context.Context, app string, version int, status deis.ReleaseStatus, errMsg string) error
	ReplaceContainers(ctx context.Context, app string, cs []deis.Container) error
	SlugInUse(ctx context.Context, sum, except string) (bool, error)
	AddAppSlug(ctx context.Context, app, sum string) error
}

// Converger is what the release service needs of the converger.
type Converger interface {
	Lock(app string) func()
	Rollout(ctx context.Context, app string, release int, p converge.Progress) error
	Deployed(ctx context.Context, app string) (deis.Release, error)
	PlanApp(ctx context.Context, app string, structure map[string]int, release int) (converge.Plan, error)
	Converge(ctx context.Context, f deis.Formation, ids []string, p converge.Progress) ([]converge.NodeResult, error)
}

// Progress receives progress lines.
type Progress = converge.Progress

// Service runs the release workflows.
type Service struct {
	Store Store
	Conv  Converger
	Log   *slog.Logger
	// Slugs is the controller's slug store: a destroyed app's slugs that
	// no other app's build uses go with it.
	Slugs slugs.Store
	// Data is what other packages keep on disk for an app (the git
	// endpoint's repository, the slug builder's cache); a destroyed app's
	// goes with it.
	Data []AppData
}

// AppData is what a package keeps on disk for an app beyond the store.
type AppData interface {
	RemoveApp(app string) error
}

// Error is a refusal of what was asked, with a message for the user.
type Error struct{ Message string }

func (e *Error) Error() string { return e.Message }

func invalid(format string, a ...any) error { return &Error{Message: fmt.Sprintf(format, a...)} }

var admin = store.Viewer{Admin: true}

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// hasProcesses reports whether an app's structure runs anything.
func hasProcesses(a deis.App) bool {
	for _, n := range a.Structure {
		if n > 0 {
			return true
		}
	}
	return false
}

// roll makes a release with mk while holding the app's rollout lock, rolls
// it out when the app runs processes, and returns the release as it ended
// (deployed, or failed with why: the previous one serves on).
func (s *Service) roll(ctx context.Context, app string, mk func(ctx context.Context) (deis.Release, error), p Progress) (deis.Release, error) {
	unlock := s.Conv.Lock(app)
	defer unlock()
	rel, err := mk(ctx)
	if err != nil {
		return rel, err
	}
	a, err := s.Store.GetApp(ctx, admin, app)
	if err != nil {
		return rel, err
	}
	if hasProcesses(a) {
		if err := s.Conv.Rollout(ctx, a.ID, rel.Version, p); err != nil && !errors.Is(err, converge.ErrRolloutFailed) {
			// The rollout could not run at all: the release does not stand
			// pending for the next start to find.
			ctx := context.WithoutCancel(ctx)
			if cur, gerr := s.Store.GetRelease(ctx, a.ID, rel.Version); gerr == nil && cur.Status == deis.ReleasePending {
				if serr := s.Store.SetReleaseStatus(ctx, a.ID, rel.Version, deis.ReleaseFailed, err.Error()); serr != nil {
					s.log().Error("failing a release that could not roll out", "app", a.ID, "err", serr)
				}
			}
			return rel, err
		}
	}
	return s.Store.GetRelease(ctx, a.ID, rel.Version)
}

// rollStructure moves app a to structure at its deployed release, and puts
// the structure back when the rollout fails. The caller holds the app's
// lock and read a under it.
func (s *Service) rollStructure(ctx context.Context, a deis.App, structure map[string]int, p Progress) (deis.App, error) {
	before := a.Structure
	a, err := s.Store.SetStructure(ctx, a.ID, structure)
	if err != nil {
		return a, err
	}
	rel, err := s.Conv.Deployed(ctx, a.ID)
	if err == nil {
		err = s.Conv.Rollout(ctx, a.ID, rel.Version, p)
	}
	if err != nil {
		if _, rerr := s.Store.SetStructure(ctx, a.ID, before); rerr != nil {
			s.log().Error("restoring the structure after a failed rollout", "app", a.ID, "err", rerr)
		}
		return a, err
	}
	return a, nil
}

// Destroy scales the app to nothing (the proxies let go, its containers
// go), deletes it, and converges its formation so the proxies drop its
// site.
func (s *Service) Destroy(ctx context.Context, app string, p Progress) error {
	unlock := s.Conv.Lock(app)
	defer unlock()
	a, err := s.Store.GetApp(ctx, admin, app)
	if err != nil {
		return err
	}
	if _, total, err := s.Store.ListContainers(ctx, a.ID, store.PageReq{Limit: 1}); err != nil {
		return err
	} else if total > 0 {
		if _, err := s.rollStructure(ctx, a, map[string]int{}, p); err != nil {
			return err
		}
	}
	builds, _, err := s.Store.ListBuilds(ctx, a.ID, store.PageReq{})
	if err != nil {
		return err
	}
	if err := s.Store.DeleteApp(ctx, a.ID); err != nil {
		return err
	}
	// Nothing of the app stays for a new app of its name to inherit.
	for _, d := range s.Data {
		if err := d.RemoveApp(a.ID); err != nil {
			s.log().Error("removing a destroyed app's data", "app", a.ID, "err", err)
		}
	}
	s.removeSlugs(ctx, builds)
	p.Printf("app %s destroyed", a.ID)
	f, err := s.Store.GetFormation(ctx, admin, a.Formation)
	if err != nil {
		return nil
	}
	if _, err := s.Conv.Converge(ctx, f, nil, p); err != nil {
		s.log().Warn("converging after destroying an app", "app", a.ID, "err", err)
	}
	return nil
}

// removeSlugs deletes the slugs of builds that no build (of any app)
// uses any more.
func (s *Service) removeSlugs(ctx context.Context, builds []deis.Build) {
	if s.Slugs.Dir == "" {
		return
	}
	for _, b := range builds {
		used, err := s.Store.SlugInUse(ctx, b.SlugSHA256, "")
		if err != nil || used || !s.Slugs.Has(b.SlugSHA256) {
			continue
		}
		if err := s.Slugs.Remove(b.SlugSHA256); err != nil {
			s.log().Error("removing a destroyed app's slug", "slug", b.SlugSHA256, "err", err)
		}
	}
}

// orphanAge is how old a slug no app has must be before it is collected:
// an upload's build is registered right after it.
const orphanAge = time.Hour

// CollectSlugs removes the slugs no app has (uploaded to it, or used by
// one of its builds) that are older than an hour, and returns how many.
func (s *Service) CollectSlugs(ctx context.Context) (int, error) {
	if s.Slugs.Dir == "" {
		return 0, nil
	}
	stored, err := s.Slugs.List()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, st := range stored {
		if time.Since(st.Modified) < orphanAge {
			continue
		}
		used, err := s.Store.SlugInUse(ctx, st.SHA256, "")
		if err != nil {
			return n, err
		}
		if used {
			continue
		}
		if err := s.Slugs.Remove(st.SHA256); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// Reschedule rolls each app of a formation that runs processes out again
// at its deployed release, so that containers on nodes that are no longer
// ready (lost, draining) start on the ready ones. It is a zero-downtime
// rollout like any other: new containers first, then the proxies, then
// the old ones go. With from, only the apps that have containers on those
// nodes move.
func (s *Service) Reschedule(ctx context.Context, formation string, from []string, p Progress) error {
	apps, err := s.Store.ListFormationApps(ctx, formation)
	if err != nil {
		return err
	}
	on := map[string]bool{} // apps with containers on from
	if from != nil {
		cs, err := s.Store.ListFormationContainers(ctx, formation)
		if err != nil {
			return err
		}
		for _, c := range cs {
			if slices.Contains(from, c.Node) {
				on[c.App] = true
			}
		}
	}
	var errs []error
	for _, a := range apps {
		if !hasProcesses(a) || from != nil && !on[a.ID] {
			continue
		}
		if err := s.redeploy(ctx, a.ID, p); err != nil {
			errs = append(errs, fmt.Errorf("app %s: %w", a.ID, err))
		}
	}
	return errors.Join(errs...)
}

// redeploy rolls app out again at its deployed release, if it has one.
func (s *Service) redeploy(ctx context.Context, app string, p Progress) error {
	unlock := s.Conv.Lock(app)
	defer unlock()
	rel, err := s.Conv.Deployed(ctx, app)
	if err != nil {
		return nil // nothing deployed: nothing runs
	}
	return s.Conv.Rollout(ctx, app, rel.Version, p)
}
