package converge_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deis/deis"
	"github.com/deis/deis/converge"
	"github.com/deis/deis/converge/convergetest"
	"github.com/deis/deis/recipes"
	"github.com/deis/deis/store"
	"github.com/deis/deis/store/storetest"
)

// fakeImages has the runner image at once and streams nothing.
type fakeImages struct{}

func (fakeImages) EnsureRunner(context.Context) (string, error) { return "deis/runner:test", nil }
func (fakeImages) Save(context.Context, string) (io.ReadCloser, error) {
	return io.NopCloser(strings.NewReader("")), nil
}

type discard struct{}

func (discard) Printf(string, ...any) {}

// testWorld is formation f (runtime nodes f-runtime-1 and -2, proxy node
// f-proxy-1) on fake nodes, with a converger on a real store.
type testWorld struct {
	t     *testing.T
	st    *store.Store
	fleet *convergetest.Fleet
	conv  *converge.Converger
}

func newWorld(t *testing.T) *testWorld {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := st.CreateUser(ctx, deis.User{Username: "alice", Email: "a@example.com"}, "x")
	must(err)
	_, err = st.CreateProvider(ctx, deis.Provider{ID: "p", Owner: "alice", Type: deis.ProviderStatic}, nil)
	must(err)
	_, err = st.CreateFlavor(ctx, deis.Flavor{ID: "fl", Owner: "alice", Provider: "p"})
	must(err)
	layer := func(id string, proxy, runtime bool) store.LayerSpec {
		return store.LayerSpec{Layer: deis.Layer{ID: id, Flavor: "fl", Proxy: proxy, Runtime: runtime, SSHUser: "root", SSHPort: 22,
			SSHPublicKey: "ssh-ed25519 AAAA"}, PrivateKey: "key"}
	}
	_, err = st.CreateFormation(ctx, deis.Formation{ID: "f", Owner: "alice", Domain: "f.example.com"}, layer("runtime", false, true), layer("proxy", true, false))
	must(err)
	for i, l := range []string{"runtime", "runtime", "proxy"} {
		_, err := st.CreateNode(ctx, deis.Node{Formation: "f", Layer: l, Address: "10.0.0." + string(rune('1'+i)) + ":22", HostKey: "k",
			Status: deis.NodeStatus{State: deis.NodeReady}})
		must(err)
	}
	agent := filepath.Join(t.TempDir(), "deis-node")
	must(os.WriteFile(agent, []byte("agent"), 0o755))
	fleet := &convergetest.Fleet{}
	conv := &converge.Converger{Store: st, Dialer: fleet, Images: fakeImages{}, Agent: agent, Parallel: 4,
		HealthTimeout: time.Second}
	return &testWorld{t: t, st: st, fleet: fleet, conv: conv}
}

// app creates app with a build of procfile and scales it to structure,
// rolled out; it returns the release.
func (w *testWorld) app(id string, procfile, structure map[string]int) int {
	w.t.Helper()
	ctx := context.Background()
	if _, err := w.st.CreateApp(ctx, deis.App{ID: id, Formation: "f", Owner: "alice"}); err != nil {
		w.t.Fatal(err)
	}
	return w.build(id, "one", structure)
}

// build makes a new build of app (its slug named by sha) at structure and
// rolls it out; it returns the release, whatever the rollout's outcome.
func (w *testWorld) build(app, sha string, structure map[string]int) int {
	w.t.Helper()
	ctx := context.Background()
	procfile := map[string]string{}
	for typ := range structure {
		procfile[typ] = "./" + typ
	}
	_, rel, err := w.st.CreateBuild(ctx, deis.Build{App: app, Owner: "alice", SHA: sha, SlugSHA256: strings.Repeat(sha[:1], 64), Procfile: procfile})
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.st.SetStructure(ctx, app, structure); err != nil {
		w.t.Fatal(err)
	}
	unlock := w.conv.Lock(app)
	defer unlock()
	w.conv.Rollout(ctx, app, rel.Version, discard{})
	return rel.Version
}

// running is every app container running on the runtime nodes.
func (w *testWorld) running() []string {
	var out []string
	for _, n := range []string{"f-runtime-1", "f-runtime-2"} {
		out = append(out, w.fleet.Node(n).Containers()...)
	}
	slices.Sort(out)
	return out
}

func (w *testWorld) release(app string, v int) deis.Release {
	w.t.Helper()
	r, err := w.st.GetRelease(context.Background(), app, v)
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}

func (w *testWorld) upstreams() []string {
	var out []string
	for _, s := range w.fleet.Node("f-proxy-1").Sites() {
		out = append(out, s.Upstreams...)
	}
	return out
}

func TestRolloutDeploys(t *testing.T) {
	w := newWorld(t)
	v := w.app("web", nil, map[string]int{"web": 2, "worker": 1})
	if r := w.release("web", v); r.Status != deis.ReleaseDeployed {
		t.Fatalf("v%d = %+v, want deployed", v, r)
	}
	want := []string{"deis-web-v2-web.1", "deis-web-v2-web.2", "deis-web-v2-worker.1"}
	if got := w.running(); !slices.Equal(got, want) {
		t.Errorf("running %v, want %v", got, want)
	}
	if ups := w.upstreams(); len(ups) != 2 {
		t.Errorf("the proxy routes to %v, want the 2 web containers only", ups)
	}
}

// TestRolloutRuntimeFailure: one runtime node starts the new release and
// the other cannot; the new containers go from both, the release fails,
// the old ones run on and the proxy still routes to them.
func TestRolloutRuntimeFailure(t *testing.T) {
	w := newWorld(t)
	w.app("web", nil, map[string]int{"web": 2})
	before, routes := w.running(), w.upstreams()
	w.fleet.Node("f-runtime-2").FailStart(func(s recipes.ContainerSpec) string {
		if s.Release == 3 {
			return "unhealthy: exited with code 1"
		}
		return ""
	})
	v := w.build("web", "two", map[string]int{"web": 2})
	if r := w.release("web", v); r.Status != deis.ReleaseFailed || !strings.Contains(r.Error, "exited with code 1") {
		t.Errorf("v%d = %+v, want failed with the node's reason", v, r)
	}
	if got := w.running(); !slices.Equal(got, before) {
		t.Errorf("after the failed release the nodes run %v, want only the old %v", got, before)
	}
	if got := w.upstreams(); !slices.Equal(got, routes) {
		t.Errorf("the proxy routes to %v, want the old %v", got, routes)
	}
	cs, _, _ := w.st.ListContainers(context.Background(), "web", store.PageReq{})
	for _, c := range cs {
		if c.Release != 2 || c.State != deis.ContainerUp {
			t.Errorf("store: %s v%d %s, want v2 up", c.Name, c.Release, c.State)
		}
	}
}

// TestRolloutProxyFailure: the proxy refuses the new config; the release
// fails, the new containers go and the old ones serve on.
func TestRolloutProxyFailure(t *testing.T) {
	w := newWorld(t)
	w.app("web", nil, map[string]int{"web": 2})
	before, routes := w.running(), w.upstreams()
	w.fleet.Node("f-proxy-1").FailProxy("nginx -t: [emerg] bad config")
	v := w.build("web", "two", map[string]int{"web": 2})
	if r := w.release("web", v); r.Status != deis.ReleaseFailed || !strings.Contains(r.Error, "[emerg] bad config") {
		t.Errorf("v%d = %+v, want failed with nginx's reason", v, r)
	}
	if got := w.running(); !slices.Equal(got, before) {
		t.Errorf("after the failed switch the nodes run %v, want only the old %v", got, before)
	}
	if got := w.upstreams(); !slices.Equal(got, routes) {
		t.Errorf("the proxy routes to %v, want the old %v", got, routes)
	}
	// Once the proxy takes configs again, the next release goes through.
	w.fleet.Node("f-proxy-1").FailProxy("")
	if v := w.build("web", "three", map[string]int{"web": 2}); w.release("web", v).Status != deis.ReleaseDeployed {
		t.Errorf("v%d after the proxy recovered: %+v", v, w.release("web", v))
	}
}

// TestRolloutUnreachableNode: a runtime node that does not answer fails
// the release; the other node's new containers go.
func TestRolloutUnreachableNode(t *testing.T) {
	w := newWorld(t)
	w.app("web", nil, map[string]int{"web": 2})
	before := w.running()
	w.fleet.Node("f-runtime-1").SetUnreachable(true)
	v := w.build("web", "two", map[string]int{"web": 2})
	if r := w.release("web", v); r.Status != deis.ReleaseFailed || !strings.Contains(r.Error, "connection refused") {
		t.Errorf("v%d = %+v, want failed: unreachable", v, r)
	}
	w.fleet.Node("f-runtime-1").SetUnreachable(false)
	if got := w.running(); !slices.Equal(got, before) {
		t.Errorf("nodes run %v, want only the old %v", got, before)
	}
}

// TestConcurrentAppRollouts: two apps of one formation roll out at once;
// neither removes the other's containers.
func TestConcurrentAppRollouts(t *testing.T) {
	w := newWorld(t)
	w.fleet.Delay = 20 * time.Millisecond
	w.app("a", nil, map[string]int{"web": 1})
	w.app("b", nil, map[string]int{"web": 1})
	var wg sync.WaitGroup
	versions := map[string]int{}
	var mu sync.Mutex
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
		if r := w.release(app, v); r.Status != deis.ReleaseDeployed {
			t.Errorf("%s v%d = %+v, want deployed", app, v, r)
		}
	}
	want := []string{"deis-a-v3-web.1", "deis-a-v3-web.2", "deis-b-v3-web.1", "deis-b-v3-web.2"}
	if got := w.running(); !slices.Equal(got, want) {
		t.Errorf("running %v, want %v", got, want)
	}
	for _, n := range []string{"f-runtime-1", "f-runtime-2", "f-proxy-1"} {
		if w.fleet.Node(n).Overlapped() {
			t.Errorf("two converges of %s ran at once", n)
		}
	}
}

var _ = errors.New
