package nodes

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/deis/deis"
	"github.com/deis/deis/store"
)

// Adopt makes an existing host a node of layer (the static provider): the
// operator has installed the layer's public key. The host must answer SSH
// with it and pass the bootstrap; otherwise nothing is recorded.
func (m *Manager) Adopt(ctx context.Context, f deis.Formation, layer, host string, p Progress) (deis.Node, error) {
	defer m.lockFormation(f.ID)()
	li, err := m.layerInfo(ctx, f, layer)
	if err != nil {
		return deis.Node{}, err
	}
	addr := host
	if _, _, err := net.SplitHostPort(host); err != nil {
		addr = net.JoinHostPort(host, strconv.Itoa(li.layer.SSHPort))
	}
	n, err := m.newAdoptee(ctx, f, layer, addr)
	if err != nil {
		return deis.Node{}, err
	}
	fail := func(err error) (deis.Node, error) {
		m.Pool.Forget(n.ID)
		m.Store.DeleteNode(context.Background(), n.ID)
		return deis.Node{}, fmt.Errorf("adopting %s as %s: %w", addr, n.ID, err)
	}
	p.Printf("%s: reaching %s as %s", n.ID, addr, li.layer.SSHUser)
	dctx, cancel := context.WithTimeout(ctx, cmp.Or(m.ReachTimeout, 15*time.Second))
	_, hostKey, err := m.Pool.Dial(dctx, m.target(li, n))
	cancel()
	if err != nil {
		return fail(&ReachError{Addr: addr, Err: err})
	}
	if n, err = m.Store.UpdateNode(ctx, n.ID, func(c *deis.Node) error { c.HostKey = hostKey; return nil }); err != nil {
		return fail(err)
	}
	p.Printf("%s: reachable, host key pinned", n.ID)
	if err := m.bootstrap(ctx, li, n, p); err != nil {
		return fail(err)
	}
	if n, err = m.check(ctx, li, n); err != nil {
		return fail(err)
	}
	p.Printf("%s: %s", n.ID, n.Status.State)
	return n, nil
}

// newAdoptee records the node an adoption of addr makes, unless one of the
// owner's formations has a node there already. Other owners' nodes are
// not looked at: naming them would tell one user about another's, and
// their hosts authorize other layers' keys.
func (m *Manager) newAdoptee(ctx context.Context, f deis.Formation, layer, addr string) (deis.Node, error) {
	m.adoptMu.Lock()
	defer m.adoptMu.Unlock()
	all, err := m.Store.ListAllNodes(ctx)
	if err != nil {
		return deis.Node{}, err
	}
	for _, n := range all {
		if n.Address != addr {
			continue
		}
		if other, err := m.Store.GetFormation(ctx, store.Viewer{Admin: true}, n.Formation); err == nil && other.Owner == f.Owner {
			return deis.Node{}, fmt.Errorf("%s is already node %s: %w", addr, n.ID, store.ErrConflict)
		}
	}
	return m.Store.CreateNode(ctx, deis.Node{Formation: f.ID, Layer: layer, Address: addr, Status: deis.NodeStatus{State: deis.NodeCreating}})
}

// Destroy destroys one node at its provider and forgets it.
func (m *Manager) Destroy(ctx context.Context, f deis.Formation, n deis.Node, p Progress) error {
	defer m.lockFormation(f.ID)()
	li, err := m.layerInfo(ctx, f, n.Layer)
	if err != nil {
		return err
	}
	return m.destroy(ctx, li.provider, n, p)
}

// DestroyAll destroys every node of a formation (before the formation goes).
func (m *Manager) DestroyAll(ctx context.Context, f deis.Formation, p Progress) error {
	ns, _, err := m.Store.ListNodes(ctx, f.ID, store.PageReq{})
	if err != nil {
		return err
	}
	for _, n := range ns {
		if err := m.Destroy(ctx, f, n, p); err != nil {
			return err
		}
	}
	return nil
}

// Check refreshes the status of a node. A lost node stays lost: its
// machine is gone, whatever answers at its old address.
func (m *Manager) Check(ctx context.Context, f deis.Formation, n deis.Node) (deis.Node, error) {
	if n.Status.State == deis.NodeLost {
		return n, nil
	}
	li, err := m.layerInfo(ctx, f, n.Layer)
	if err != nil {
		return n, err
	}
	return m.check(ctx, li, n)
}

// SSH returns what a shell on the node needs.
func (m *Manager) SSH(ctx context.Context, f deis.Formation, n deis.Node) (deis.NodeSSHInfo, error) {
	l, err := m.Store.GetLayer(ctx, f.ID, n.Layer)
	if err != nil {
		return deis.NodeSSHInfo{}, err
	}
	key, err := m.Store.LayerPrivateKey(ctx, f.ID, n.Layer)
	if err != nil {
		return deis.NodeSSHInfo{}, err
	}
	if n.Address == "" || n.HostKey == "" {
		return deis.NodeSSHInfo{}, fmt.Errorf("node %s has not been reached yet", n.ID)
	}
	return deis.NodeSSHInfo{Address: n.Address, User: l.SSHUser, PrivateKey: key, HostKey: n.HostKey}, nil
}

// Trust forgets a node's pinned host key; the next contact pins the new one.
func (m *Manager) Trust(ctx context.Context, n deis.Node) (deis.Node, error) {
	m.Pool.Forget(n.ID)
	return m.Store.UpdateNode(ctx, n.ID, func(c *deis.Node) error { c.HostKey = ""; return nil })
}

// Reconcile compares what the docker provider runs with the store, at
// controller start (after ReconcileCloud): machines no node names are
// destroyed (a controller that died mid-scale leaves them), nodes still
// "creating" (docker or adopted static hosts: with or without an engine)
// are destroyed and forgotten, nodes whose machine is gone are marked
// lost, and networks of formations the store does not know (or the shared
// one older versions made) are removed when unused.
func (m *Manager) Reconcile(ctx context.Context) error {
	nodes, err := m.Store.ListAllNodes(ctx)
	if err != nil {
		return err
	}
	forms, _, err := m.Store.ListFormations(ctx, store.Viewer{Admin: true}, store.PageReq{})
	if err != nil {
		return err
	}
	owner := map[string]deis.Formation{}
	for _, f := range forms {
		owner[f.ID] = f
	}
	running := map[string]bool{}
	if m.Providers.Docker != nil {
		if running, err = m.reconcileDocker(ctx, nodes, owner); err != nil {
			return err
		}
	}
	for _, n := range nodes {
		switch {
		case n.Status.State == deis.NodeCreating && m.isCloud(ctx, owner[n.Formation], n.Layer):
			// ReconcileCloud handles those: their machine may run.
		case n.Status.State == deis.NodeCreating:
			m.log().Warn("forgetting a node whose creation was interrupted", "node", n.ID)
			if err := m.Store.DeleteNode(ctx, n.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		case m.Providers.Docker != nil && n.ProviderID != "" && isDockerID(n.ProviderID) && !running[n.ID]:
			m.log().Warn("node container is gone: marking the node lost", "node", n.ID)
			lost := deis.NodeStatus{State: deis.NodeLost, Message: "its container is gone"}
			if _, err := m.Store.UpdateNode(ctx, n.ID, setStatus(lost)); err != nil {
				return err
			}
		}
	}
	return nil
}

// reconcileDocker removes node containers no node names and unused
// networks, and returns the nodes whose container runs.
func (m *Manager) reconcileDocker(ctx context.Context, nodes []deis.Node, owner map[string]deis.Formation) (map[string]bool, error) {
	machines, err := m.Providers.Docker.List(ctx)
	if err != nil {
		return nil, err
	}
	known := map[string]deis.Node{}
	for _, n := range nodes {
		known[n.ID] = n
	}
	running := map[string]bool{}
	for _, mach := range machines {
		n, ok := known[mach.Node]
		if !ok || n.ProviderID != mach.ProviderID || n.Status.State == deis.NodeCreating {
			m.log().Warn("removing a node container the store does not track", "node", mach.Node, "container", shortID(mach.ProviderID))
			if err := m.Providers.Docker.Destroy(ctx, mach.ProviderID); err != nil {
				return nil, err
			}
			continue
		}
		running[n.ID] = true
	}
	if _, err := m.Providers.Docker.pruneNetworks(ctx, func(f string) bool { _, ok := owner[f]; return ok }); err != nil {
		m.log().Warn("removing unused node networks", "err", err)
	}
	return running, nil
}

// isDockerID reports whether a provider id looks like a container id.
func isDockerID(id string) bool {
	if len(id) != 64 {
		return false
	}
	for _, c := range id {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// isCloud reports whether layer's nodes come from a cloud provider; a
// layer that cannot be looked up counts as one (its nodes are left alone).
func (m *Manager) isCloud(ctx context.Context, f deis.Formation, layer string) bool {
	ok, err := m.onCloud(ctx, f, layer)
	return ok || err != nil
}
