package nodes_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deis/deis"
	"github.com/deis/deis/layers"
	"github.com/deis/deis/nodes"
	"github.com/deis/deis/nodes/ec2"
	"github.com/deis/deis/nodes/ec2/ec2test"
	"github.com/deis/deis/store"
	"github.com/deis/deis/store/storetest"
)

// lines collects progress lines.
type lines struct {
	mu sync.Mutex
	l  []string
}

func (p *lines) Printf(format string, a ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.l = append(p.l, fmt.Sprintf(format, a...))
}

func (p *lines) String() string { return strings.Join(p.l, "\n") }

type cloudEnv struct {
	fake *ec2test.Server
	st   *store.Store
	mgr  *nodes.Manager
	f    deis.Formation
}

// newCloudEnv is a store with formation "web" whose layer "runtime" is on
// an ec2 flavor in region (any region, not only the seeded ones), and a
// manager whose ec2 providers talk to the fake. A fresh Opener stands for
// a restarted controller.
func newCloudEnv(t *testing.T, region string) *cloudEnv {
	t.Helper()
	ctx := context.Background()
	fake := ec2test.New()
	t.Cleanup(fake.Close)
	st := storetest.Open(t)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := st.CreateUser(ctx, deis.User{Username: "alice", Email: "a@example.com"}, "x")
	must(err)
	_, err = st.CreateProvider(ctx, deis.Provider{ID: "aws", Owner: "alice", Type: "ec2"},
		map[string]string{"access_key_id": "AKIDTEST", "secret_access_key": "s", "region": "eu-west-1"})
	must(err)
	_, err = st.CreateFlavor(ctx, deis.Flavor{ID: "small", Owner: "alice", Provider: "aws",
		Params: map[string]string{"region": region, "instance_type": "t3.small", "image": "ami-1"}})
	must(err)
	l, err := layers.New("web", deis.LayerCreateRequest{ID: "runtime", Flavor: "small"})
	must(err)
	pub, priv, err := layers.NewKeyPair("deis-web-runtime")
	must(err)
	l.SSHPublicKey = pub
	f, err := st.CreateFormation(ctx, deis.Formation{ID: "web", Owner: "alice"}, store.LayerSpec{Layer: l, PrivateKey: priv})
	must(err)
	e := &cloudEnv{fake: fake, st: st, f: f}
	e.restart()
	return e
}

func (e *cloudEnv) restart() {
	o := &ec2.Opener{Base: ec2.Config{Controller: "ctl1", Endpoint: e.fake.URL, SSHCIDR: "198.51.100.7/32",
		MaxAttempts: 1, PollInterval: time.Millisecond, RunTimeout: 5 * time.Second}}
	e.mgr = &nodes.Manager{Store: e.st, Providers: &nodes.Providers{EC2: o.Open}, Pool: nodes.NewPool(nil)}
}

// node records a node of layer runtime with state and instance id.
func (e *cloudEnv) node(t *testing.T, state deis.NodeState, instance string) deis.Node {
	t.Helper()
	n, err := e.st.CreateNode(context.Background(), deis.Node{Formation: "web", Layer: "runtime", ProviderID: instance,
		Address: "203.0.113.1:22", Status: deis.NodeStatus{State: state}})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (e *cloudEnv) instance(id, region, node string) {
	e.fake.AddInstance(ec2test.Instance{ID: id, Region: region, Type: "t3.small", State: "running",
		Tags: map[string]string{"deis:controller": "ctl1", "deis:formation": "web", "deis:layer": "runtime", "deis:node": node}})
}

func (e *cloudEnv) state(t *testing.T, id string) deis.NodeState {
	t.Helper()
	n, err := e.st.GetNode(context.Background(), id)
	if err != nil {
		return "gone"
	}
	return n.Status.State
}

// TestReconcileCloud: after a restart, in a region outside the seeded
// ones, a node whose instance runs stays, one whose instance is gone is
// marked lost (and comes back when it is seen again), an instance the
// store does not know is reported, then terminated on request, and a node
// whose creation was interrupted has its instance, found by its tag,
// terminated.
func TestReconcileCloud(t *testing.T) {
	ctx := context.Background()
	e := newCloudEnv(t, "ca-central-1")
	kept := e.node(t, deis.NodeReady, "i-0kept")
	e.instance("i-0kept", "ca-central-1", kept.ID)
	gone := e.node(t, deis.NodeReady, "i-0gone")
	creating := e.node(t, deis.NodeCreating, "")
	e.instance("i-0half", "ca-central-1", creating.ID)
	e.instance("i-0stray", "ca-central-1", "web-runtime-9")
	e.instance("i-0other", "ca-central-1", "x")
	e.fake.AddInstance(ec2test.Instance{ID: "i-0elsewhere", Region: "ca-central-1", State: "running",
		Tags: map[string]string{"deis:controller": "another", "deis:formation": "web", "deis:layer": "runtime"}})

	var p lines
	lost, err := e.mgr.ReconcileCloud(ctx, nil, nodes.Report, &p)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(lost, []string{"web"}) {
		t.Errorf("lost in %v, want [web]", lost)
	}
	for id, want := range map[string]deis.NodeState{kept.ID: deis.NodeReady, gone.ID: deis.NodeLost, creating.ID: "gone"} {
		if got := e.state(t, id); got != want {
			t.Errorf("node %s is %s, want %s", id, got, want)
		}
	}
	live := e.fake.Live()
	for id, want := range map[string]bool{"i-0kept": true, "i-0half": false, "i-0stray": true, "i-0elsewhere": true} {
		if slices.Contains(live, id) != want {
			t.Errorf("instance %s live = %v, want %v (live %v)", id, !want, want, live)
		}
	}
	for _, want := range []string{
		creating.ID + ": its creation was interrupted: destroying i-0half",
		gone.ID + ": machine i-0gone is gone: marked lost",
		"untracked machine i-0stray (tagged web-runtime-9, layer runtime, address",
		"untracked machine i-0other (tagged x",
	} {
		if !strings.Contains(p.String(), want) {
			t.Errorf("progress lacks %q:\n%s", want, p.String())
		}
	}
	if strings.Contains(p.String(), "i-0elsewhere") {
		t.Errorf("another controller's instance was reported:\n%s", p.String())
	}

	// A refresh of the formation terminates the untracked ones on request.
	e.restart()
	p = lines{}
	if _, err := e.mgr.ReconcileCloud(ctx, &e.f, nodes.Terminate, &p); err != nil {
		t.Fatal(err)
	}
	live = e.fake.Live()
	if slices.Contains(live, "i-0stray") || slices.Contains(live, "i-0other") || !slices.Contains(live, "i-0kept") || !slices.Contains(live, "i-0elsewhere") {
		t.Errorf("after --terminate live = %v", live)
	}

	// The lost node's instance reappears: it is unreachable until checked.
	e.instance("i-0gone", "ca-central-1", gone.ID)
	p = lines{}
	if _, err := e.mgr.ReconcileCloud(ctx, &e.f, nodes.Report, &p); err != nil {
		t.Fatal(err)
	}
	if got := e.state(t, gone.ID); got != deis.NodeUnreachable {
		t.Errorf("a lost node whose machine is back is %s, want unreachable\n%s", got, p.String())
	}

	// A region that cannot be listed marks nothing lost.
	e.fake.Fail("DescribeInstances", ec2test.Fault{Status: 403, Code: "UnauthorizedOperation", Msg: "You are not authorized to perform this operation."})
	if _, err := e.mgr.ReconcileCloud(ctx, &e.f, nodes.Report, &p); err == nil || !strings.Contains(err.Error(), "may not call ec2:DescribeInstances") {
		t.Errorf("reconcile with a refused list: %v", err)
	}
	if got := e.state(t, kept.ID); got != deis.NodeReady {
		t.Errorf("after a refused list the kept node is %s", got)
	}
}

// TestDrain: a shrinking layer drains its newest nodes, leaves lost ones
// lost (they go first anyway), and Undrain puts draining nodes back.
func TestDrain(t *testing.T) {
	ctx := context.Background()
	e := newCloudEnv(t, "eu-west-1")
	n1 := e.node(t, deis.NodeReady, "i-1")
	n2 := e.node(t, deis.NodeLost, "i-2")
	n3 := e.node(t, deis.NodeReady, "i-3")
	n4 := e.node(t, deis.NodeReady, "i-4")
	for _, tc := range []struct {
		want    int
		drained []string
		states  []string // of n1..n4 after Drain
	}{
		{4, nil, []string{"ready", "lost", "ready", "ready"}},
		{3, nil, []string{"ready", "lost", "ready", "ready"}},                // the lost node goes: nothing to move
		{2, []string{n4.ID}, []string{"ready", "lost", "ready", "draining"}}, // then the newest
		{1, []string{n3.ID, n4.ID}, []string{"ready", "lost", "draining", "draining"}},
	} {
		ids, err := e.mgr.Drain(ctx, e.f, map[string]int{"runtime": tc.want})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids, tc.drained) {
			t.Errorf("runtime=%d drained %v, want %v", tc.want, ids, tc.drained)
		}
		var got []string
		for _, n := range []deis.Node{n1, n2, n3, n4} {
			got = append(got, string(e.state(t, n.ID)))
		}
		if !slices.Equal(got, tc.states) {
			t.Errorf("runtime=%d: states %v, want %v", tc.want, got, tc.states)
		}
		if err := e.mgr.Undrain(ctx, ids); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.state(t, n2.ID); got != deis.NodeLost {
		t.Errorf("Undrain made the lost node %s", got)
	}
	if err := e.mgr.Undrain(ctx, []string{"web-runtime-99"}); err != nil {
		t.Errorf("Undrain of a destroyed node: %v", err)
	}
}
