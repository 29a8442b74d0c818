package deploy

import (
	"context"
	"errors"
	"fmt"

	"github.com/deis/deis"
	"github.com/deis/deis/store"
)

// interrupted is why a release left pending by a controller that stopped
// mid-rollout failed.
const interrupted = "the controller stopped during its rollout"

// Recover finishes what a controller that stopped in the middle of
// rollouts left behind, at its start. For each app whose newest release is
// still pending, or that has containers starting or draining: a pending
// release whose containers were all switched to is deployed, any other is
// failed; containers still starting are forgotten (they never served, and
// the rollout starts again those it needs); and the app is rolled out again at
// the release that stands, so every node converges to it with the usual
// zero-downtime order.
func (s *Service) Recover(ctx context.Context, p Progress) error {
	forms, _, err := s.Store.ListFormations(ctx, admin, store.PageReq{})
	if err != nil {
		return err
	}
	var errs []error
	for _, f := range forms {
		apps, err := s.Store.ListFormationApps(ctx, f.ID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, a := range apps {
			if err := s.recoverApp(ctx, a, p); err != nil {
				errs = append(errs, fmt.Errorf("app %s: %w", a.ID, err))
			}
		}
	}
	return errors.Join(errs...)
}

func (s *Service) recoverApp(ctx context.Context, a deis.App, p Progress) error {
	unlock := s.Conv.Lock(a.ID)
	defer unlock()
	rels, _, err := s.Store.ListReleases(ctx, a.ID, store.PageReq{Limit: 1})
	if err != nil || len(rels) == 0 {
		return err
	}
	cs, _, err := s.Store.ListContainers(ctx, a.ID, store.PageReq{})
	if err != nil {
		return err
	}
	newest := rels[0]
	unsettled := false
	for _, c := range cs {
		unsettled = unsettled || c.State != deis.ContainerUp
	}
	if newest.Status != deis.ReleasePending && !unsettled {
		return nil
	}
	if newest.Status == deis.ReleasePending {
		var status deis.ReleaseStatus = deis.ReleaseFailed
		why := interrupted
		if switched(cs, newest.Version) {
			status, why = deis.ReleaseDeployed, ""
		}
		if err := s.Store.SetReleaseStatus(ctx, a.ID, newest.Version, status, why); err != nil {
			return err
		}
		p.Printf("%s: v%d was rolling out when the controller stopped: %s", a.ID, newest.Version, status)
	}
	target, err := s.Conv.Deployed(ctx, a.ID)
	if err != nil {
		return nil // nothing ever deployed: nothing to run
	}
	// Containers still starting never served: they are forgotten, and the
	// rollout below starts (and checks) again those the release needs.
	var keep []deis.Container
	for _, c := range cs {
		if c.State == deis.ContainerStarting {
			continue
		}
		keep = append(keep, c)
	}
	if err := s.Store.ReplaceContainers(ctx, a.ID, keep); err != nil {
		return err
	}
	p.Printf("%s: converging to v%d", a.ID, target.Version)
	if err := s.Conv.Rollout(ctx, a.ID, target.Version, p); err != nil {
		return err
	}
	// A rollout with nothing to change converges nothing, and the nodes
	// may still run what the store forgot.
	f, err := s.Store.GetFormation(ctx, admin, a.Formation)
	if err != nil {
		return err
	}
	results, err := s.Conv.Converge(ctx, f, nil, p)
	if err != nil {
		return err
	}
	for _, r := range results {
		if failed, why := r.Failed(); failed {
			return fmt.Errorf("converging %s: %s", r.Node, why)
		}
	}
	return nil
}

// switched reports whether release has containers and all of them were
// switched to (up): the proxies served it when the controller stopped.
func switched(cs []deis.Container, release int) bool {
	n := 0
	for _, c := range cs {
		if c.Release == release {
			if c.State != deis.ContainerUp {
				return false
			}
			n++
		}
	}
	return n > 0
}
