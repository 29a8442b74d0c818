package deploy_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/deis/deis"
	"github.com/deis/deis/converge/convergetest"
	"github.com/deis/deis/store"
)

// interruptedWorld has app web at v2 (web=2) deployed, and v3 made but
// left pending, its containers in state, beside v2's in old.
func interruptedWorld(t *testing.T, state, old deis.ContainerState) (*convergetest.World, func() error) {
	t.Helper()
	s, w := newService(t)
	ctx := context.Background()
	deployApp(t, s, w, "web", "web")
	if _, err := s.Scale(ctx, "web", deis.ScaleRequest{"web": 2}, convergetest.Discard{}); err != nil {
		t.Fatal(err)
	}
	_, rel, err := w.Store.CreateBuild(ctx, convergetest.Build("web", "two", "web"))
	if err != nil || rel.Version != 3 || rel.Status != deis.ReleasePending {
		t.Fatalf("v3: %+v, %v", rel, err)
	}
	cs, _, _ := w.Store.ListContainers(ctx, "web", store.PageReq{})
	var both []deis.Container
	for _, c := range cs {
		both = append(both, deis.Container{Type: c.Type, Num: c.Num, Release: 2, Node: c.Node, Port: c.Port, State: old, Created: c.Created})
		both = append(both, deis.Container{Type: c.Type, Num: c.Num, Release: 3, Node: c.Node, Port: c.Port + 100, State: state})
	}
	if err := w.Store.ReplaceContainers(ctx, "web", both); err != nil {
		t.Fatal(err)
	}
	f, _ := w.Store.GetFormation(ctx, store.Viewer{Admin: true}, "f")
	if _, err := w.Conv.Converge(ctx, f, nil, convergetest.Discard{}); err != nil {
		t.Fatal(err)
	}
	return w, func() error { return s.Recover(ctx, convergetest.Discard{}) }
}

// TestRecoverBeforeTheSwitch: the controller stopped while v3's containers
// were starting; at start v3 fails and only v2 runs.
func TestRecoverBeforeTheSwitch(t *testing.T) {
	t.Parallel()
	w, recover := interruptedWorld(t, deis.ContainerStarting, deis.ContainerUp)
	if err := recover(); err != nil {
		t.Fatal(err)
	}
	if r := w.Release("web", 3); r.Status != deis.ReleaseFailed || !strings.Contains(r.Error, "stopped during its rollout") {
		t.Errorf("v3 = %+v, want failed: interrupted", r)
	}
	if r := w.Release("web", 2); r.Status != deis.ReleaseDeployed {
		t.Errorf("v2 = %+v, want deployed", r)
	}
	if got := w.Running(); !slices.Equal(got, []string{"deis-web-v2-web.1", "deis-web-v2-web.2"}) {
		t.Errorf("running %v, want v2's only", got)
	}
	assertSettled(t, w, 2)
}

// TestRecoverAfterTheSwitch: the controller stopped while v2's containers
// were draining behind v3's; at start v3 is deployed and v2's go.
func TestRecoverAfterTheSwitch(t *testing.T) {
	t.Parallel()
	w, recover := interruptedWorld(t, deis.ContainerUp, deis.ContainerDraining)
	if err := recover(); err != nil {
		t.Fatal(err)
	}
	if r := w.Release("web", 3); r.Status != deis.ReleaseDeployed {
		t.Errorf("v3 = %+v, want deployed", r)
	}
	if got := w.Running(); !slices.Equal(got, []string{"deis-web-v3-web.1", "deis-web-v3-web.2"}) {
		t.Errorf("running %v, want v3's only", got)
	}
	assertSettled(t, w, 3)
}

// assertSettled checks that every container in the store is up and of
// release, and that the proxy routes to exactly them.
func assertSettled(t *testing.T, w *convergetest.World, release int) {
	t.Helper()
	cs, _, _ := w.Store.ListContainers(context.Background(), "web", store.PageReq{})
	if len(cs) != 2 {
		t.Errorf("store has %d containers, want 2", len(cs))
	}
	for _, c := range cs {
		if c.Release != release || c.State != deis.ContainerUp {
			t.Errorf("store: %s v%d %s, want v%d up", c.Name, c.Release, c.State, release)
		}
	}
	if ups := w.Upstreams(); len(ups) != 2 {
		t.Errorf("the proxy routes to %v, want 2 upstreams", ups)
	}
}

// TestRecoverInterruptedScale: the controller stopped while a scale's new
// container was starting (its release stands); at start it is started
// again and serves, rather than staying "starting" for good.
func TestRecoverInterruptedScale(t *testing.T) {
	s, w := newService(t)
	ctx := context.Background()
	deployApp(t, s, w, "web", "web")
	cs, _, _ := w.Store.ListContainers(ctx, "web", store.PageReq{})
	if _, err := w.Store.SetStructure(ctx, "web", map[string]int{"web": 2}); err != nil {
		t.Fatal(err)
	}
	other := "f-runtime-2"
	if cs[0].Node == other {
		other = "f-runtime-1"
	}
	starting := append(cs, deis.Container{Type: "web", Num: 2, Release: 2, Node: other, Port: 10001, State: deis.ContainerStarting})
	if err := w.Store.ReplaceContainers(ctx, "web", starting); err != nil {
		t.Fatal(err)
	}
	if err := s.Recover(ctx, convergetest.Discard{}); err != nil {
		t.Fatal(err)
	}
	if got := w.Running(); len(got) != 2 {
		t.Errorf("after the recovery the nodes run %v, want web.1 and web.2", got)
	}
	assertSettled(t, w, 2)
}

// TestRolloutOutlivesItsCaller: a rollout whose caller goes away (a
// pusher's Ctrl-C) once it started still ends, its release deployed.
func TestRolloutOutlivesItsCaller(t *testing.T) {
	s, w := newService(t)
	deployApp(t, s, w, "web", "web")
	ctx, cancel := context.WithCancel(context.Background())
	w.Fleet.OnApply = func(string) { cancel() } // the caller goes once the nodes apply
	s.UpdateConfig(ctx, "web", "alice", map[string]*string{"A": ptr("1")}, convergetest.Discard{})
	if r := w.Release("web", 3); r.Status != deis.ReleaseDeployed {
		t.Errorf("v3 = %s (%s), want deployed: a rollout that started ends", r.Status, r.Error)
	}
}
