package nodes_test

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deis/deis"
	"github.com/deis/deis/layers"
	"github.com/deis/deis/nodes"
	"github.com/deis/deis/store"
	"github.com/deis/deis/store/storetest"
)

// staticEnv is a store with users bob and carol, each with a static
// flavor and a formation (bobf, carolf) of one layer, and a manager with
// no Docker engine.
type staticEnv struct {
	st  *store.Store
	mgr *nodes.Manager
	f   map[string]deis.Formation
}

func newStaticEnv(t *testing.T) *staticEnv {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t)
	e := &staticEnv{st: st, f: map[string]deis.Formation{}}
	for _, u := range []string{"bob", "carol"} {
		if _, err := st.CreateUser(ctx, deis.User{Username: u, Email: u + "@example.com"}, "x"); err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateProvider(ctx, deis.Provider{ID: "static", Owner: u, Type: deis.ProviderStatic}, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateFlavor(ctx, deis.Flavor{ID: "static", Owner: u, Provider: "static"}); err != nil {
			t.Fatal(err)
		}
		l, err := layers.New(u+"f", deis.LayerCreateRequest{ID: "runtime", Flavor: "static"})
		if err != nil {
			t.Fatal(err)
		}
		pub, priv, err := layers.NewKeyPair(u)
		if err != nil {
			t.Fatal(err)
		}
		l.SSHPublicKey = pub
		f, err := st.CreateFormation(ctx, deis.Formation{ID: u + "f", Owner: u}, store.LayerSpec{Layer: l, PrivateKey: priv})
		if err != nil {
			t.Fatal(err)
		}
		e.f[u] = f
	}
	e.mgr = &nodes.Manager{Store: st, Providers: &nodes.Providers{}, Pool: nodes.NewPool(nil), ReachTimeout: 3 * time.Second}
	return e
}

// tarpit accepts TCP connections and never answers: an SSH dial to it
// waits its whole timeout.
func tarpit(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	return ln.Addr().String()
}

// closedPort is a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestAdoptionsOfOneUserHoldUpNoOther is security review #6: carol's
// adoptions of a host that never answers do not hold up bob's, in his own
// formation: his fails at once, while hers still wait.
func TestAdoptionsOfOneUserHoldUpNoOther(t *testing.T) {
	e := newStaticEnv(t)
	ctx := context.Background()
	pit := tarpit(t)
	carolDone := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { e.mgr.Adopt(ctx, e.f["carol"], "runtime", pit, &lines{}) })
	}
	go func() { wg.Wait(); close(carolDone) }()
	time.Sleep(100 * time.Millisecond) // carol's first adoption holds her formation's lock
	if _, err := e.mgr.Adopt(ctx, e.f["bob"], "runtime", closedPort(t), &lines{}); err == nil {
		t.Fatal("adopting a closed port succeeded")
	}
	select {
	case <-carolDone:
		t.Error("bob's adoption ended only after carol's (one lock for every formation)")
	default:
	}
	<-carolDone
}

// TestAdoptionNamesNoOtherUsersNode is security review #18: adopting an
// address carol's node has does not tell bob about carol's node; within
// one owner's formations the duplicate is refused by name.
func TestAdoptionNamesNoOtherUsersNode(t *testing.T) {
	e := newStaticEnv(t)
	ctx := context.Background()
	addr := closedPort(t)
	n, err := e.st.CreateNode(ctx, deis.Node{Formation: "carolf", Layer: "runtime", Address: addr, Status: deis.NodeStatus{State: deis.NodeReady}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.mgr.Adopt(ctx, e.f["bob"], "runtime", addr, &lines{})
	if err == nil || strings.Contains(err.Error(), n.ID) || strings.Contains(err.Error(), "carol") {
		t.Errorf("bob adopting carol's node's address: %v; want a failure that names nothing of carol's", err)
	}
	if _, err := e.mgr.Adopt(ctx, e.f["carol"], "runtime", addr, &lines{}); err == nil || !strings.Contains(err.Error(), "is already node "+n.ID) {
		t.Errorf("carol adopting her own node's address again: %v", err)
	}
}

// TestInterruptedAdoptionIsForgotten is security review #17: a node left
// "creating" by a controller killed mid-adopt is forgotten at the next
// start even with no Docker engine, so its address can be adopted again.
func TestInterruptedAdoptionIsForgotten(t *testing.T) {
	e := newStaticEnv(t)
	ctx := context.Background()
	n, err := e.st.CreateNode(ctx, deis.Node{Formation: "bobf", Layer: "runtime", Address: "192.0.2.7:22", Status: deis.NodeStatus{State: deis.NodeCreating}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.mgr.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.GetNode(ctx, n.ID); err == nil {
		t.Errorf("node %s is still there after a start", n.ID)
	}
}
