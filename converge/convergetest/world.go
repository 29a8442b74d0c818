package convergetest

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deis/deis"
	"github.com/deis/deis/converge"
	"github.com/deis/deis/store"
	"github.com/deis/deis/store/storetest"
)

// World is formation "f" of user "alice" on fake nodes: runtime nodes
// f-runtime-1 and f-runtime-2, proxy node f-proxy-1, with a converger on a
// real store (storetest).
type World struct {
	T     testing.TB
	Store *store.Store
	Fleet *Fleet
	Conv  *converge.Converger
}

// NewWorld makes the world.
func NewWorld(t testing.TB) *World {
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
	fleet := &Fleet{}
	conv := &converge.Converger{Store: st, Dialer: fleet, Images: Images{}, Agent: agent, Parallel: 4, HealthTimeout: time.Second}
	return &World{T: t, Store: st, Fleet: fleet, Conv: conv}
}

// App creates app on the formation.
func (w *World) App(id string) {
	w.T.Helper()
	if _, err := w.Store.CreateApp(context.Background(), deis.App{ID: id, Formation: "f", Owner: "alice"}); err != nil {
		w.T.Fatal(err)
	}
}

// Build is a build of app whose Procfile has types (command ./TYPE), its
// slug named by the first letter of sha.
func Build(app, sha string, types ...string) deis.Build {
	procfile := map[string]string{}
	for _, typ := range types {
		procfile[typ] = "./" + typ
	}
	return deis.Build{App: app, Owner: "alice", SHA: sha, SlugSHA256: strings.Repeat(sha[:1], 64), Procfile: procfile}
}

// Running is every app container running on the runtime nodes, sorted.
func (w *World) Running() []string {
	var out []string
	for _, n := range []string{"f-runtime-1", "f-runtime-2"} {
		out = append(out, w.Fleet.Node(n).Containers()...)
	}
	slices.Sort(out)
	return out
}

// Upstreams is what the proxy node routes to.
func (w *World) Upstreams() []string {
	var out []string
	for _, s := range w.Fleet.Node("f-proxy-1").Sites() {
		out = append(out, s.Upstreams...)
	}
	return out
}

// Release is release v of app.
func (w *World) Release(app string, v int) deis.Release {
	w.T.Helper()
	r, err := w.Store.GetRelease(context.Background(), app, v)
	if err != nil {
		w.T.Fatal(err)
	}
	return r
}

// Images has the runner image at once and streams nothing.
type Images struct{}

// EnsureRunner names the runner image.
func (Images) EnsureRunner(context.Context) (string, error) { return "deis/runner:test", nil }

// Save streams nothing.
func (Images) Save(context.Context, string) (io.ReadCloser, error) {
	return io.NopCloser(strings.NewReader("")), nil
}

// Discard is progress that goes nowhere.
type Discard struct{}

// Printf discards.
func (Discard) Printf(string, ...any) {}
