package converge_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deis/deis"
	"github.com/deis/deis/converge/convergetest"
	"github.com/deis/deis/recipes"
	"github.com/deis/deis/store"
)

type testWorld struct{ *convergetest.World }

func newWorld(t *testing.T) testWorld { return testWorld{convergetest.NewWorld(t)} }

// app creates app with a first build at structure, rolled out.
func (w testWorld) app(id string, structure map[string]int) int {
	w.T.Helper()
	w.App(id)
	return w.build(id, "one", structure)
}

// build makes a new build of app at structure and rolls it out; it returns
// the release, whatever the rollout's outcome.
func (w testWorld) build(app, sha string, structure map[string]int) int {
	w.T.Helper()
	ctx := context.Background()
	var types []string
	for typ := range structure {
		types = append(types, typ)
	}
	_, rel, err := w.Store.CreateBuild(ctx, convergetest.Build(app, sha, types...))
	if err != nil {
		w.T.Fatal(err)
	}
	if _, err := w.Store.SetStructure(ctx, app, structure); err != nil {
		w.T.Fatal(err)
	}
	unlock := w.Conv.Lock(app)
	defer unlock()
	w.Conv.Rollout(ctx, app, rel.Version, convergetest.Discard{})
	return rel.Version
}

func TestRolloutDeploys(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	v := w.app("web", map[string]int{"web": 2, "worker": 1})
	if r := w.Release("web", v); r.Status != deis.ReleaseDeployed {
		t.Fatalf("v%d = %+v, want deployed", v, r)
	}
	want := []string{"deis-web-v2-web.1", "deis-web-v2-web.2", "deis-web-v2-worker.1"}
	if got := w.Running(); !slices.Equal(got, want) {
		t.Errorf("running %v, want %v", got, want)
	}
	if ups := w.Upstreams(); len(ups) != 2 {
		t.Errorf("the proxy routes to %v, want the 2 web containers only", ups)
	}
}

// TestRolloutRuntimeFailure: one runtime node starts the new release and
// the other cannot; the new containers go from both, the release fails,
// the old ones run on and the proxy still routes to them.
func TestRolloutRuntimeFailure(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.app("web", map[string]int{"web": 2})
	before, routes := w.Running(), w.Upstreams()
	w.Fleet.Node("f-runtime-2").FailStart(func(s recipes.ContainerSpec) string {
		if s.Release == 3 {
			return "unhealthy: exited with code 1"
		}
		return ""
	})
	v := w.build("web", "two", map[string]int{"web": 2})
	if r := w.Release("web", v); r.Status != deis.ReleaseFailed || !strings.Contains(r.Error, "exited with code 1") {
		t.Errorf("v%d = %+v, want failed with the node's reason", v, r)
	}
	if got := w.Running(); !slices.Equal(got, before) {
		t.Errorf("after the failed release the nodes run %v, want only the old %v", got, before)
	}
	if got := w.Upstreams(); !slices.Equal(got, routes) {
		t.Errorf("the proxy routes to %v, want the old %v", got, routes)
	}
	cs, _, _ := w.Store.ListContainers(context.Background(), "web", store.PageReq{})
	for _, c := range cs {
		if c.Release != 2 || c.State != deis.ContainerUp {
			t.Errorf("store: %s v%d %s, want v2 up", c.Name, c.Release, c.State)
		}
	}
}

// TestRolloutProxyFailure: the proxy refuses the new config; the release
// fails, the new containers go and the old ones serve on.
func TestRolloutProxyFailure(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.app("web", map[string]int{"web": 2})
	before, routes := w.Running(), w.Upstreams()
	w.Fleet.Node("f-proxy-1").FailProxy("nginx -t: [emerg] bad config")
	v := w.build("web", "two", map[string]int{"web": 2})
	if r := w.Release("web", v); r.Status != deis.ReleaseFailed || !strings.Contains(r.Error, "[emerg] bad config") {
		t.Errorf("v%d = %+v, want failed with nginx's reason", v, r)
	}
	if got := w.Running(); !slices.Equal(got, before) {
		t.Errorf("after the failed switch the nodes run %v, want only the old %v", got, before)
	}
	if got := w.Upstreams(); !slices.Equal(got, routes) {
		t.Errorf("the proxy routes to %v, want the old %v", got, routes)
	}
	// Once the proxy takes configs again, the next release goes through.
	w.Fleet.Node("f-proxy-1").FailProxy("")
	if v := w.build("web", "three", map[string]int{"web": 2}); w.Release("web", v).Status != deis.ReleaseDeployed {
		t.Errorf("v%d after the proxy recovered: %+v", v, w.Release("web", v))
	}
}

// TestRolloutUnreachableNode: a runtime node that does not answer fails
// the release; the other node's new containers go.
func TestRolloutUnreachableNode(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.app("web", map[string]int{"web": 2})
	before := w.Running()
	w.Fleet.Node("f-runtime-1").SetUnreachable(true)
	v := w.build("web", "two", map[string]int{"web": 2})
	if r := w.Release("web", v); r.Status != deis.ReleaseFailed || !strings.Contains(r.Error, "connection refused") {
		t.Errorf("v%d = %+v, want failed: unreachable", v, r)
	}
	w.Fleet.Node("f-runtime-1").SetUnreachable(false)
	if got := w.Running(); !slices.Equal(got, before) {
		t.Errorf("nodes run %v, want only the old %v", got, before)
	}
}

// TestConcurrentAppRollouts: two apps of one formation roll out at once;
// neither removes the other's containers, and no node is converged twice
// at once.
func TestConcurrentAppRollouts(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.Fleet.Delay = 20 * time.Millisecond
	w.app("a", map[string]int{"web": 1})
	w.app("b", map[string]int{"web": 1})
	var wg sync.WaitGroup
	var mu sync.Mutex
	versions := map[string]int{}
	for _, app := range []string{"a", "b"} {
		wg.Go(func() {
			v := w.build(app, "two", map[string]int{"web": 2})
			mu.Lock()
			versions[app] = v
			mu.Unlock()
		})
	}
	wg.Wait()
	for app, v := range versions {
		if r := w.Release(app, v); r.Status != deis.ReleaseDeployed {
			t.Errorf("%s v%d = %+v, want deployed", app, v, r)
		}
	}
	want := []string{"deis-a-v3-web.1", "deis-a-v3-web.2", "deis-b-v3-web.1", "deis-b-v3-web.2"}
	if got := w.Running(); !slices.Equal(got, want) {
		t.Errorf("running %v, want %v", got, want)
	}
	for _, n := range []string{"f-runtime-1", "f-runtime-2", "f-proxy-1"} {
		if w.Fleet.Node(n).Overlapped() {
			t.Errorf("two converges of %s ran at once", n)
		}
	}
}
