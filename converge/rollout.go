package converge

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/deis/deis"
	"github.com/deis/deis/store"
)

var admin = store.Viewer{Admin: true}

// ErrRolloutFailed wraps why a release could not be rolled out; the
// previous containers keep serving.
var ErrRolloutFailed = errors.New("rollout failed")

// lock returns the mutex named key ("app/ID", "formation/ID"), made on
// first use.
func (c *Converger) lock(key string) *sync.Mutex {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.locks == nil {
		c.locks = map[string]*sync.Mutex{}
	}
	if c.locks[key] == nil {
		c.locks[key] = &sync.Mutex{}
	}
	return c.locks[key]
}

func (c *Converger) appLock(app string) *sync.Mutex { return c.lock("app/" + app) }

// Lock holds the app's rollout lock until the returned function is called:
// rollouts of one app run one at a time, in the order they asked.
func (c *Converger) Lock(app string) func() {
	l := c.appLock(app)
	l.Lock()
	return l.Unlock
}

// Rollout moves app to release with the app's current structure, all or
// nothing: (a) new containers start beside the old and must all become
// healthy, else they are removed and the release is marked failed; (b) the
// proxies switch to them; (c) after the drain time the old ones go. The
// caller holds the app's lock (Lock).
func (c *Converger) Rollout(ctx context.Context, appID string, release int, p Progress) error {
	a, err := c.Store.GetApp(ctx, admin, appID)
	if err != nil {
		return err
	}
	f, err := c.Store.GetFormation(ctx, admin, a.Formation)
	if err != nil {
		return err
	}
	plan, cur, proxies, err := c.claim(ctx, f, a, release)
	if err != nil || !plan.Changes() {
		if err != nil {
			return err
		}
		return c.settle(ctx, appID, release, "")
	}
	p.Printf("rolling out v%d of %s: %d to start, %d to keep, %d to retire", release, appID, len(plan.Start), len(plan.Keep), len(plan.Retire))
	// From here the store names the new containers: the rollout ends
	// (deployed, or failed and undone) even if its caller goes away, so
	// that no release is left half switched.
	ctx = context.WithoutCancel(ctx)

	// (a) Start the new containers beside the old.
	hosts := nodesOf(plan.Start)
	if why := c.phase(ctx, f, hosts, p); why != "" {
		p.Printf("v%d did not start: %s; removing its new containers", release, why)
		c.restore(ctx, f, appID, cur, hosts, p)
		c.settle(ctx, appID, release, why)
		return fmt.Errorf("%w: v%d of %s: %s", ErrRolloutFailed, release, appID, why)
	}
	// (b) Switch the proxies.
	switched := append(append(withState(plan.Keep, deis.ContainerUp), withState(plan.Start, deis.ContainerUp)...), withState(plan.Retire, deis.ContainerDraining)...)
	if err := c.Store.ReplaceContainers(ctx, appID, switched); err != nil {
		return err
	}
	if why := c.phase(ctx, f, proxies, p); why != "" {
		p.Printf("proxies did not switch to v%d: %s; going back", release, why)
		c.restore(ctx, f, appID, cur, append(proxies, hosts...), p)
		c.settle(ctx, appID, release, why)
		return fmt.Errorf("%w: v%d of %s: %s", ErrRolloutFailed, release, appID, why)
	}
	// (c) Drain, then retire the old containers.
	if len(plan.Retire) > 0 && c.Drain > 0 {
		p.Printf("draining %d old containers for %s", len(plan.Retire), c.Drain)
		select {
		case <-time.After(c.Drain):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := c.Store.ReplaceContainers(ctx, appID, plan.Next()); err != nil {
		return err
	}
	if why := c.phase(ctx, f, nodesOf(plan.Retire), p); why != "" {
		p.Printf("warning: retiring old containers: %s (the next converge retries)", why)
	}
	return c.settle(ctx, appID, release, "")
}

// claim plans app's move to release and records the new containers as
// starting beside the old, under the formation's lock: two apps' rollouts
// plan one after the other, so neither takes a port the other just took.
// It returns the plan, the app's containers before it and the formation's
// proxy nodes.
func (c *Converger) claim(ctx context.Context, f deis.Formation, a deis.App, release int) (plan Plan, cur []deis.Container, proxies []string, err error) {
	l := c.lock("formation/" + f.ID)
	l.Lock()
	defer l.Unlock()
	w, err := c.World(ctx, f)
	if err != nil {
		return Plan{}, nil, nil, err
	}
	var all []deis.Container
	for _, st := range w.Apps {
		all = append(all, st.Containers...)
		if st.App.ID == a.ID {
			cur = st.Containers
		}
	}
	plan = PlanRollout(runtimeNodes(w), all, cur, a.Structure, release)
	if !plan.Changes() {
		return plan, cur, nil, nil
	}
	starting := append(append(withState(plan.Keep, deis.ContainerUp), withState(plan.Retire, deis.ContainerUp)...), plan.Start...)
	return plan, cur, proxyNodes(w), c.Store.ReplaceContainers(ctx, a.ID, starting)
}

// PlanApp is the plan Rollout would follow to move app to release with
// structure, computed from the store; nothing changes (--dry-run).
func (c *Converger) PlanApp(ctx context.Context, appID string, structure map[string]int, release int) (Plan, error) {
	a, err := c.Store.GetApp(ctx, admin, appID)
	if err != nil {
		return Plan{}, err
	}
	f, err := c.Store.GetFormation(ctx, admin, a.Formation)
	if err != nil {
		return Plan{}, err
	}
	w, err := c.World(ctx, f)
	if err != nil {
		return Plan{}, err
	}
	var all, cur []deis.Container
	for _, st := range w.Apps {
		all = append(all, st.Containers...)
		if st.App.ID == appID {
			cur = st.Containers
		}
	}
	return PlanRollout(runtimeNodes(w), all, cur, structure, release), nil
}

// phase converges nodes (reloading the world, which the store changed)
// and returns why it failed, or "".
func (c *Converger) phase(ctx context.Context, f deis.Formation, ids []string, p Progress) string {
	if len(ids) == 0 {
		return ""
	}
	results, err := c.Converge(ctx, f, ids, p)
	if err != nil {
		return err.Error()
	}
	for _, r := range results {
		if failed, why := r.Failed(); failed {
			return r.Node + ": " + why
		}
	}
	return ""
}

// restore puts the app's containers back to cur and converges the nodes
// that ran the attempt, so the new containers go.
func (c *Converger) restore(ctx context.Context, f deis.Formation, app string, cur []deis.Container, ids []string, p Progress) {
	ctx = context.WithoutCancel(ctx)
	if err := c.Store.ReplaceContainers(ctx, app, cur); err != nil {
		c.log().Error("restoring containers", "app", app, "err", err)
		return
	}
	if why := c.phase(ctx, f, ids, p); why != "" {
		c.log().Error("removing a failed release's containers", "app", app, "why", why)
	}
}

// settle records the release's outcome: deployed, or failed with why. A
// release already deployed (a scale) stays as it is.
func (c *Converger) settle(ctx context.Context, app string, release int, why string) error {
	ctx = context.WithoutCancel(ctx)
	r, err := c.Store.GetRelease(ctx, app, release)
	if err != nil {
		return err
	}
	if why != "" {
		if r.Status == deis.ReleaseDeployed {
			return nil
		}
		return c.Store.SetReleaseStatus(ctx, app, release, deis.ReleaseFailed, why)
	}
	if r.Status == deis.ReleaseDeployed {
		return nil
	}
	return c.Store.SetReleaseStatus(ctx, app, release, deis.ReleaseDeployed, "")
}

// Deployed returns the app's newest deployed release.
func (c *Converger) Deployed(ctx context.Context, app string) (deis.Release, error) {
	rels, _, err := c.Store.ListReleases(ctx, app, store.PageReq{})
	if err != nil {
		return deis.Release{}, err
	}
	for _, r := range rels {
		if r.Status == deis.ReleaseDeployed {
			return r, nil
		}
	}
	return deis.Release{}, fmt.Errorf("app %s has no deployed release", app)
}

func runtimeNodes(w World) []string {
	return nodesWhere(w, func(l deis.Layer) bool { return l.Runtime })
}

func proxyNodes(w World) []string {
	return nodesWhere(w, func(l deis.Layer) bool { return l.Proxy })
}

func nodesWhere(w World, keep func(deis.Layer) bool) []string {
	layers := map[string]deis.Layer{}
	for _, l := range w.Layers {
		layers[l.ID] = l
	}
	var out []string
	for _, n := range w.Nodes {
		if keep(layers[n.Layer]) && n.Status.State == deis.NodeReady {
			out = append(out, n.ID)
		}
	}
	slices.Sort(out)
	return out
}

func nodesOf(cs []deis.Container) []string {
	var out []string
	for _, c := range cs {
		if !slices.Contains(out, c.Node) {
			out = append(out, c.Node)
		}
	}
	slices.Sort(out)
	return out
}
