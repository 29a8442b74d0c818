package nodes

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/deis/deis"
	"github.com/deis/deis/recipes"
	"github.com/deis/deis/store"
	"golang.org/x/crypto/ssh"
	"golang.org/x/sync/errgroup"
)

// Store is what the node manager needs of the store.
type Store interface {
	GetLayer(ctx context.Context, formation, id string) (deis.Layer, error)
	LayerPrivateKey(ctx context.Context, formation, id string) (string, error)
	GetFlavor(ctx context.Context, owner, id string) (deis.Flavor, error)
	GetProvider(ctx context.Context, owner, id string) (deis.Provider, error)
	ProviderCreds(ctx context.Context, owner, id string) (map[string]string, error)
	CreateNode(ctx context.Context, n deis.Node) (deis.Node, error)
	UpdateNode(ctx context.Context, id string, mutate func(*deis.Node) error) (deis.Node, error)
	DeleteNode(ctx context.Context, id string) error
	GetNode(ctx context.Context, id string) (deis.Node, error)
	ListNodes(ctx context.Context, formation string, p store.PageReq) ([]deis.Node, int, error)
	ListAllNodes(ctx context.Context) ([]deis.Node, error)
	ListFormations(ctx context.Context, v store.Viewer, p store.PageReq) ([]deis.Formation, int, error)
	GetFormation(ctx context.Context, v store.Viewer, id string) (deis.Formation, error)
	ListLayers(ctx context.Context, formation string, p store.PageReq) ([]deis.Layer, int, error)
}

// Progress receives a job's progress lines.
type Progress interface {
	Printf(format string, a ...any)
}

// Manager provisions, reaches, checks and destroys nodes.
type Manager struct {
	Store     Store
	Providers *Providers
	Pool      *Pool
	Log       *slog.Logger
	// Parallel bounds how many nodes are created at once.
	Parallel int
	// UpTimeout bounds how long a new node has to answer SSH.
	UpTimeout time.Duration
	// StepTimeout bounds one SSH command (bootstrap included).
	StepTimeout time.Duration

	// ReachTimeout bounds one SSH dial of a node being adopted (default
	// 15 s).
	ReachTimeout time.Duration

	all     sync.RWMutex // held for writing by work on every formation (reconcile at start)
	locksMu sync.Mutex
	locks   map[string]*sync.Mutex // one node operation per formation at a time
	adoptMu sync.Mutex             // an adoption's address check and its new row
}

// lockFormation holds formation's node lock until the returned function
// is called: node operations (scale, adopt, destroy, layer work) of one
// formation run one at a time, and other formations' (other users') are
// not held up by them.
func (m *Manager) lockFormation(id string) func() {
	m.all.RLock()
	m.locksMu.Lock()
	if m.locks == nil {
		m.locks = map[string]*sync.Mutex{}
	}
	l := m.locks[id]
	if l == nil {
		l = &sync.Mutex{}
		m.locks[id] = l
	}
	m.locksMu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		m.all.RUnlock()
	}
}

// layerInfo is a layer with what it takes to create and reach its nodes.
type layerInfo struct {
	layer    deis.Layer
	flavor   deis.Flavor
	provider Provider
	signer   ssh.Signer
}

func (m *Manager) layerInfo(ctx context.Context, f deis.Formation, layer string) (layerInfo, error) {
	l, err := m.Store.GetLayer(ctx, f.ID, layer)
	if err != nil {
		return layerInfo{}, err
	}
	fl, err := m.Store.GetFlavor(ctx, f.Owner, l.Flavor)
	if err != nil {
		return layerInfo{}, fmt.Errorf("flavor of layer %s: %w", layer, err)
	}
	p, err := m.Store.GetProvider(ctx, f.Owner, fl.Provider)
	if err != nil {
		return layerInfo{}, fmt.Errorf("provider of flavor %s: %w", fl.ID, err)
	}
	creds, err := m.Store.ProviderCreds(ctx, f.Owner, p.ID)
	if err != nil {
		return layerInfo{}, err
	}
	prov, err := m.Providers.Open(p.Type, creds)
	if err != nil {
		return layerInfo{}, err
	}
	if r, ok := prov.(RegionUser); ok && fl.Params["region"] != "" {
		r.UseRegion(fl.Params["region"]) // List and Destroy look there too
	}
	signer, err := m.layerSigner(ctx, f.ID, layer)
	if err != nil {
		return layerInfo{}, err
	}
	return layerInfo{layer: l, flavor: fl, provider: prov, signer: signer}, nil
}

// Scale brings each named layer of f to its node count: new nodes are
// created, reached and bootstrapped in parallel; extra nodes, newest first,
// are destroyed. A node that fails to come up is destroyed and reported;
// the others stay.
func (m *Manager) Scale(ctx context.Context, f deis.Formation, want map[string]int, p Progress) error {
	defer m.lockFormation(f.ID)()
	var failed []string
	for _, layer := range slices.Sorted(func(yield func(string) bool) {
		for k := range want {
			if !yield(k) {
				return
			}
		}
	}) {
		li, err := m.layerInfo(ctx, f, layer)
		if err != nil {
			return err
		}
		all, _, err := m.Store.ListNodes(ctx, f.ID, store.PageReq{})
		if err != nil {
			return err
		}
		var cur []deis.Node
		for _, n := range all {
			if n.Layer == layer {
				cur = append(cur, n)
			}
		}
		n := want[layer]
		switch {
		case n > len(cur):
			if b, ok := li.provider.(LayerBuilder); ok {
				p.Printf("layer %s: building its resources at the provider", layer)
				if err := b.BuildLayer(ctx, li.spec(f)); err != nil {
					return fmt.Errorf("building layer %s at its provider: %w", layer, err)
				}
			}
			failed = append(failed, m.createNodes(ctx, f, li, n-len(cur), p)...)
		case n < len(cur):
			for _, node := range retiring(cur, n) {
				if err := m.destroy(ctx, li.provider, node, p); err != nil {
					return err
				}
			}
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d node(s) did not come up and were destroyed: %s", len(failed), strings.Join(failed, "; "))
	}
	return nil
}

// createNodes creates count nodes in parallel and returns one message per
// node that failed.
func (m *Manager) createNodes(ctx context.Context, f deis.Formation, li layerInfo, count int, p Progress) []string {
	// Rows first, in order, so numbers are assigned 1, 2, 3...
	var rows []deis.Node
	var failed []string
	for range count {
		n, err := m.Store.CreateNode(ctx, deis.Node{Formation: f.ID, Layer: li.layer.ID, Status: deis.NodeStatus{State: deis.NodeCreating}})
		if err != nil {
			failed = append(failed, fmt.Sprintf("layer %s: %v", li.layer.ID, err))
			continue
		}
		rows = append(rows, n)
	}
	var mu sync.Mutex
	g := errgroup.Group{}
	g.SetLimit(max(m.Parallel, 1))
	for _, n := range rows {
		g.Go(func() error {
			if err := m.bringUp(ctx, f, li, n, p); err != nil {
				p.Printf("%s: failed: %v", n.ID, err)
				m.cleanup(li.provider, n)
				p.Printf("%s: destroyed", n.ID)
				mu.Lock()
				failed = append(failed, fmt.Sprintf("%s: %v", n.ID, err))
				mu.Unlock()
			}
			return nil
		})
	}
	g.Wait()
	return failed
}

func (m *Manager) bringUp(ctx context.Context, f deis.Formation, li layerInfo, n deis.Node, p Progress) error {
	start := time.Now()
	p.Printf("%s: creating", n.ID)
	mach, err := li.provider.Create(ctx, Spec{
		Formation: f.ID, Layer: li.layer.ID, Node: n.ID, Proxy: li.layer.Proxy,
		PublicKey: li.layer.SSHPublicKey, Params: li.flavor.Params,
	})
	if err != nil {
		return err
	}
	if n, err = m.Store.UpdateNode(ctx, n.ID, func(c *deis.Node) error {
		c.ProviderID = mach.ProviderID
		c.Address = net.JoinHostPort(mach.Address, strconv.Itoa(mach.SSHPort))
		c.Public, c.Private = mach.Public, mach.Private
		return nil
	}); err != nil {
		return err
	}
	if n, err = m.reach(ctx, li, n); err != nil {
		return err
	}
	p.Printf("%s: reachable at %s", n.ID, n.Address)
	if err := m.bootstrap(ctx, li, n, p); err != nil {
		return err
	}
	n, err = m.check(ctx, li, n)
	if err != nil {
		return err
	}
	if n.Status.State != deis.NodeReady {
		return errors.New(n.Status.Message)
	}
	p.Printf("%s: ready in %s", n.ID, time.Since(start).Round(100*time.Millisecond))
	return nil
}

// reach waits until the node answers SSH and pins its host key.
func (m *Manager) reach(ctx context.Context, li layerInfo, n deis.Node) (deis.Node, error) {
	deadline := time.Now().Add(m.UpTimeout)
	t := m.target(li, n)
	for {
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, hostKey, err := m.Pool.Dial(dctx, t)
		cancel()
		if err == nil {
			if n.HostKey == "" {
				return m.Store.UpdateNode(ctx, n.ID, pinHostKey(hostKey))
			}
			return n, nil
		}
		if errors.Is(err, ErrHostKeyChanged) {
			return n, err
		}
		if time.Now().After(deadline) {
			return n, fmt.Errorf("no SSH answer within %s: %w", m.UpTimeout, err)
		}
		select {
		case <-ctx.Done():
			return n, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func (m *Manager) bootstrap(ctx context.Context, li layerInfo, n deis.Node, p Progress) error {
	sctx, cancel := context.WithTimeout(ctx, max(m.StepTimeout, 10*time.Minute))
	defer cancel()
	rep, err := recipes.Bootstrap(sctx, m.runner(li, n), li.layer.SSHUser)
	if err != nil {
		return err
	}
	what := "nothing to change"
	if len(rep.Changed) > 0 {
		what = strings.Join(rep.Changed, ", ")
	}
	p.Printf("%s: bootstrapped (%s)", n.ID, what)
	return nil
}

func (m *Manager) target(li layerInfo, n deis.Node) Target {
	return Target{Node: n.ID, Addr: n.Address, User: li.layer.SSHUser, Signer: li.signer, HostKey: n.HostKey}
}

// runner adapts the pool to recipes.Runner for one node.
type runner struct {
	pool *Pool
	t    Target
}

func (r runner) Run(ctx context.Context, cmd string, stdin io.Reader) ([]byte, []byte, int, error) {
	res, err := r.pool.Run(ctx, r.t, cmd, stdin)
	return res.Stdout, res.Stderr, res.ExitCode, err
}

func (m *Manager) runner(li layerInfo, n deis.Node) recipes.Runner {
	return runner{pool: m.Pool, t: m.target(li, n)}
}

// check refreshes a node's status: reachable, Docker engine answering,
// nginx running. A node with no pinned host key (re-trusted with
// nodes:trust) has the key it presents now pinned, as its first contact
// did; a node whose key cannot be pinned is never ready. The status is
// written over the node as stored now, so a drain or a lost mark made
// meanwhile stands.
func (m *Manager) check(ctx context.Context, li layerInfo, n deis.Node) (deis.Node, error) {
	ctx, cancel := context.WithTimeout(ctx, max(m.StepTimeout, 10*time.Second))
	defer cancel()
	st := deis.NodeStatus{State: deis.NodeReady, Checked: time.Now()}
	dialed := "" // the key this check saw and may pin
	if n.HostKey == "" {
		dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		if _, hostKey, err := m.Pool.Dial(dctx, m.target(li, n)); err == nil {
			n.HostKey, dialed = hostKey, hostKey
		}
		cancel()
	}
	res, err := m.Pool.Run(ctx, m.target(li, n), `docker info --format '{{.ServerVersion}}' >/dev/null 2>&1 && echo docker; pgrep -x nginx >/dev/null && echo nginx; true`, nil)
	if err != nil {
		st.State, st.Message = deis.NodeUnreachable, err.Error()
	} else {
		st.Reachable = true
		out := string(res.Stdout)
		st.Docker = strings.Contains(out, "docker")
		st.Nginx = strings.Contains(out, "nginx")
		var missing []string
		if !st.Docker {
			missing = append(missing, "the Docker engine does not answer")
		}
		if !st.Nginx {
			missing = append(missing, "nginx is not running")
		}
		if len(missing) > 0 {
			st.State, st.Message = deis.NodeUnreachable, strings.Join(missing, "; ")
		}
	}
	return m.Store.UpdateNode(ctx, n.ID, func(c *deis.Node) error {
		// Only a key this check dialed is pinned: a trust made while it
		// ran stands, and the next check pins.
		if c.HostKey == "" {
			c.HostKey = dialed
		}
		if c.HostKey == "" && st.State == deis.NodeReady {
			st.State, st.Message = deis.NodeUnreachable, "no host key is pinned for it"
		}
		switch {
		case c.Status.State == deis.NodeLost:
			return nil // its machine is gone, whatever answered
		case c.Status.State == deis.NodeDraining && st.State == deis.NodeReady:
			st.State, st.Message = deis.NodeDraining, c.Status.Message // it is still going
		}
		c.Status = st
		return nil
	})
}

// setStatus is a node update that sets its status.
func setStatus(st deis.NodeStatus) func(*deis.Node) error {
	return func(c *deis.Node) error { c.Status = st; return nil }
}

// pinHostKey is a node update that pins key unless one is pinned.
func pinHostKey(key string) func(*deis.Node) error {
	return func(c *deis.Node) error {
		if c.HostKey == "" {
			c.HostKey = key
		}
		return nil
	}
}

func (m *Manager) destroy(ctx context.Context, prov Provider, n deis.Node, p Progress) error {
	p.Printf("%s: destroying", n.ID)
	if n.ProviderID != "" {
		if err := prov.Destroy(ctx, n.ProviderID); err != nil {
			return fmt.Errorf("destroying node %s: %w", n.ID, err)
		}
	}
	m.Pool.Forget(n.ID)
	if err := m.Store.DeleteNode(ctx, n.ID); err != nil {
		return err
	}
	p.Printf("%s: destroyed", n.ID)
	return nil
}

// cleanup removes a node that did not come up, whatever the caller's
// context says.
func (m *Manager) cleanup(prov Provider, n deis.Node) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m.Pool.Forget(n.ID)
	if cur, err := m.Store.GetNode(ctx, n.ID); err == nil {
		n = cur
	}
	if n.ProviderID != "" {
		if err := prov.Destroy(ctx, n.ProviderID); err != nil {
			// Keep the node: its machine may still run, and the store must
			// know it (nodes:destroy retries).
			m.log().Error("destroying a node that failed", "node", n.ID, "err", err)
			kept := deis.NodeStatus{State: deis.NodeUnreachable, Message: "it failed to come up and destroying it failed: " + err.Error(), Checked: time.Now()}
			if _, err := m.Store.UpdateNode(ctx, n.ID, setStatus(kept)); err != nil {
				m.log().Error("recording a node that failed", "node", n.ID, "err", err)
			}
			return
		}
	}
	if err := m.Store.DeleteNode(ctx, n.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		m.log().Error("deleting a node that failed", "node", n.ID, "err", err)
	}
}

// log is the manager's logger, discarding when it has none.
func (m *Manager) log() *slog.Logger {
	if m.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return m.Log
}
