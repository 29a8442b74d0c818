package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/deis/deis"
	"github.com/deis/deis/converge"
	"github.com/deis/deis/recipes"
	"github.com/deis/deis/store"
	"github.com/gin-gonic/gin"
)

// Converger is what the API needs of the converger.
type Converger interface {
	Lock(app string) func()
	Rollout(ctx context.Context, app string, release int, p converge.Progress) error
	Deployed(ctx context.Context, app string) (deis.Release, error)
	World(ctx context.Context, f deis.Formation) (converge.World, error)
	Converge(ctx context.Context, f deis.Formation, ids []string, p converge.Progress) ([]converge.NodeResult, error)
	Plan(ctx context.Context, w converge.World, ids []string) ([]converge.NodeResult, error)
	PlanApp(ctx context.Context, app string, structure map[string]int, release int) (converge.Plan, error)
	Refresh(ctx context.Context, app string) error
}

// hasProcesses reports whether an app's structure runs anything.
func hasProcesses(a deis.App) bool { return total(a.Structure) > 0 }

// releaseAndRoll answers the release roll made, as it ended (deployed, or
// failed with why: the previous one serves on).
func (s *Server) releaseAndRoll(c *gin.Context, mk func(ctx context.Context) (deis.Release, error)) {
	ctx := context.WithoutCancel(c.Request.Context()) // a rollout finishes even if the client goes
	rel, err := s.roll(ctx, appOf(c).ID, mk, logProgress{logger(c)})
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, rel)
}

// roll makes a release with mk while holding the app's rollout lock, rolls
// it out when the app runs processes, and returns the release as it ended.
func (s *Server) roll(ctx context.Context, app string, mk func(ctx context.Context) (deis.Release, error), p converge.Progress) (deis.Release, error) {
	unlock := s.conv.Lock(app)
	defer unlock()
	rel, err := mk(ctx)
	if err != nil {
		return rel, err
	}
	a, err := s.store.GetApp(ctx, store.Viewer{Admin: true}, app)
	if err != nil {
		return rel, err
	}
	if hasProcesses(a) {
		if err := s.conv.Rollout(ctx, a.ID, rel.Version, p); err != nil && !errors.Is(err, converge.ErrRolloutFailed) {
			return rel, err
		}
	}
	return s.store.GetRelease(ctx, a.ID, rel.Version)
}

// DeployBuild registers a build made by the controller (a git push) and
// rolls it out, as builds:create does: the first build with a web process
// scales web=1. Progress goes to p.
func (s *Server) DeployBuild(ctx context.Context, b deis.Build, p converge.Progress) (deis.Release, error) {
	a, err := s.store.GetApp(ctx, store.Viewer{Admin: true}, b.App)
	if err != nil {
		return deis.Release{}, err
	}
	return s.roll(ctx, a.ID, s.newBuild(a, b), p)
}

// newBuild makes the release of build b of app a, scaling web=1 first on
// the app's first build.
func (s *Server) newBuild(a deis.App, b deis.Build) func(ctx context.Context) (deis.Release, error) {
	return func(ctx context.Context) (deis.Release, error) {
		undo, err := s.firstWeb(ctx, a, b.Procfile)
		if err != nil {
			return deis.Release{}, err
		}
		_, rel, err := s.store.CreateBuild(ctx, b)
		if err != nil {
			undo()
		}
		return rel, err
	}
}

// calculate answers the desired state of every node of the formation.
func (s *Server) calculate(c *gin.Context) {
	w, err := s.conv.World(c.Request.Context(), formationOf(c))
	if err != nil {
		fail(c, err)
		return
	}
	dbs, err := converge.Render(w)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, dbs)
}

func (s *Server) convergeFormation(c *gin.Context) {
	f := formationOf(c)
	if c.Query("dry_run") == "true" {
		s.planNodes(c, f, nil)
		return
	}
	s.startJob(c, "formation.converge", f.ID, func(ctx context.Context, p *progress) error {
		return s.convergeNodes(ctx, f, nil, p)
	})
}

func (s *Server) convergeNode(c *gin.Context) {
	n, f := nodeOf(c), formationOf(c)
	if c.Query("dry_run") == "true" {
		s.planNodes(c, f, []string{n.ID})
		return
	}
	s.startJob(c, "node.converge", n.ID, func(ctx context.Context, p *progress) error {
		return s.convergeNodes(ctx, f, []string{n.ID}, p)
	})
}

// planNodes answers what a converge of nodes ids (every node when nil)
// would change, changing nothing.
func (s *Server) planNodes(c *gin.Context, f deis.Formation, ids []string) {
	w, err := s.conv.World(c.Request.Context(), f)
	if err != nil {
		fail(c, err)
		return
	}
	results, err := s.conv.Plan(c.Request.Context(), w, ids)
	if err != nil {
		fail(c, err)
		return
	}
	out := []deis.NodePlan{}
	for _, r := range results {
		np := deis.NodePlan{Node: r.Node, Changes: []deis.PlanChange{}, Error: r.Report.Error}
		if r.Err != nil {
			np.Error = r.Err.Error()
		}
		for _, res := range r.Report.Resources {
			if res.Result == recipes.Unchanged {
				np.Unchanged++
				continue
			}
			np.Changes = append(np.Changes, deis.PlanChange{Resource: res.Resource, Result: res.Result, Message: res.Message})
		}
		out = append(out, np)
	}
	c.JSON(http.StatusOK, out)
}

// convergeNodes converges nodes and records each node's report in the job.
func (s *Server) convergeNodes(ctx context.Context, f deis.Formation, ids []string, p converge.Progress) error {
	results, err := s.conv.Converge(ctx, f, ids, p)
	if err != nil {
		return err
	}
	failed := 0
	for _, r := range results {
		b, _ := json.Marshal(r.Report)
		p.Printf("report %s: %s", r.Node, b)
		if bad, _ := r.Failed(); bad {
			failed++
		}
	}
	if failed > 0 {
		return errors.New(plural(failed, "node") + " failed to converge")
	}
	return nil
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// Reschedule rolls each app of a formation that runs processes out again at
// its deployed release, so that containers on nodes that are no longer
// ready (lost, draining) start on the ready ones. It is a zero-downtime
// rollout like any other: new containers first, then the proxies, then the
// old ones go.
//
// With from, only the apps that have containers on those nodes move.
func (s *Server) Reschedule(ctx context.Context, formation string, from []string, p converge.Progress) error {
	apps, err := s.store.ListFormationApps(ctx, formation)
	if err != nil {
		return err
	}
	on := map[string]bool{} // apps with containers on from
	if from != nil {
		cs, err := s.store.ListFormationContainers(ctx, formation)
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
		err := func() error {
			unlock := s.conv.Lock(a.ID)
			defer unlock()
			rel, err := s.conv.Deployed(ctx, a.ID)
			if err != nil {
				return nil // nothing deployed: nothing runs
			}
			if err := s.conv.Rollout(ctx, a.ID, rel.Version, p); err != nil {
				return fmt.Errorf("app %s: %w", a.ID, err)
			}
			return nil
		}()
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
