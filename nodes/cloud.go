package nodes

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/deis/deis"
	"github.com/deis/deis/store"
)

// cloud reports whether machines of provider type typ are made by a cloud:
// they can exist without the store knowing, and are reconciled.
func cloud(typ string) bool { return typ != deis.ProviderDocker && typ != deis.ProviderStatic }

// VerifyProvider opens a provider of type typ with creds and checks them
// with a cheap call when the provider can, so that bad credentials are
// refused when the provider is created, not at the first scale. It returns
// the flavors the provider suggests.
func (m *Manager) VerifyProvider(ctx context.Context, typ string, creds map[string]string) ([]FlavorSeed, error) {
	p, err := m.Providers.Open(typ, creds)
	if err != nil {
		return nil, err
	}
	if v, ok := p.(Verifier); ok {
		vctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if err := v.Verify(vctx); err != nil {
			return nil, err
		}
	}
	s, ok := p.(Seeder)
	if !ok {
		return nil, nil
	}
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return s.SeedFlavors(sctx)
}

func (li layerInfo) spec(f deis.Formation) Layer {
	return Layer{Formation: f.ID, Layer: li.layer.ID, PublicKey: li.layer.SSHPublicKey, Proxy: li.layer.Proxy, Params: li.flavor.Params}
}

// BuildLayer makes the layer's resources at its provider (a cloud's key
// pair and security groups); nothing for providers without any.
func (m *Manager) BuildLayer(ctx context.Context, f deis.Formation, layer string) error {
	return m.layerBuilder(ctx, f, layer, "building", LayerBuilder.BuildLayer)
}

// TeardownLayer removes the layer's machines and resources at its provider.
func (m *Manager) TeardownLayer(ctx context.Context, f deis.Formation, layer string) error {
	return m.layerBuilder(ctx, f, layer, "removing", LayerBuilder.TeardownLayer)
}

// layerBuilder calls do with the layer's provider when it is a cloud's
// LayerBuilder.
func (m *Manager) layerBuilder(ctx context.Context, f deis.Formation, layer, verb string, do func(LayerBuilder, context.Context, Layer) error) error {
	if ok, err := m.onCloud(ctx, f, layer); !ok {
		return err
	}
	defer m.lockFormation(f.ID)() // not while a scale makes or destroys the layer's machines
	li, err := m.layerInfo(ctx, f, layer)
	if err != nil {
		return err
	}
	if b, ok := li.provider.(LayerBuilder); ok {
		if err := do(b, ctx, li.spec(f)); err != nil {
			return fmt.Errorf("%s layer %s at its provider: %w", verb, layer, err)
		}
	}
	return nil
}

// onCloud reports whether a layer's nodes come from a cloud provider.
func (m *Manager) onCloud(ctx context.Context, f deis.Formation, layer string) (bool, error) {
	l, err := m.Store.GetLayer(ctx, f.ID, layer)
	if err != nil {
		return false, err
	}
	fl, err := m.Store.GetFlavor(ctx, f.Owner, l.Flavor)
	if err != nil {
		return false, fmt.Errorf("flavor of layer %s: %w", layer, err)
	}
	p, err := m.Store.GetProvider(ctx, f.Owner, fl.Provider)
	if err != nil {
		return false, fmt.Errorf("provider of flavor %s: %w", fl.ID, err)
	}
	return cloud(p.Type), nil
}

// TeardownFormation tears down every layer of a formation at its
// provider, then the formation's node network on the local engine (after
// its nodes are destroyed, before the formation goes).
func (m *Manager) TeardownFormation(ctx context.Context, f deis.Formation) error {
	ls, _, err := m.Store.ListLayers(ctx, f.ID, store.PageReq{})
	if err != nil {
		return err
	}
	for _, l := range ls {
		if err := m.TeardownLayer(ctx, f, l.ID); err != nil {
			return err
		}
	}
	if m.Providers.Docker != nil {
		return m.Providers.Docker.RemoveNetwork(ctx, f.ID)
	}
	return nil
}

// Drain marks the nodes a scale to want would destroy (the newest of each
// layer that shrinks) as draining, so that placement moves their containers
// elsewhere before Scale destroys them. It returns their ids. Undrain puts
// them back when the move fails.
func (m *Manager) Drain(ctx context.Context, f deis.Formation, want map[string]int) ([]string, error) {
	defer m.lockFormation(f.ID)()
	all, _, err := m.Store.ListNodes(ctx, f.ID, store.PageReq{})
	if err != nil {
		return nil, err
	}
	var ids []string
	for layer, n := range want {
		var cur []deis.Node
		for _, node := range all {
			if node.Layer == layer {
				cur = append(cur, node)
			}
		}
		if n >= len(cur) {
			continue
		}
		for _, node := range retiring(cur, n) {
			switch node.Status.State {
			case deis.NodeLost:
				continue // gone already: nothing to move, Scale removes it first
			case deis.NodeDraining:
				ids = append(ids, node.ID)
				continue
			}
			if _, err := m.Store.UpdateNode(ctx, node.ID, func(c *deis.Node) error {
				c.Status.State, c.Status.Message = deis.NodeDraining, "its containers move before it is destroyed"
				return nil
			}); err != nil {
				return ids, err
			}
			ids = append(ids, node.ID)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// Undrain makes draining nodes ready again (their status is rechecked by
// the next converge). Each node's update is atomic: no lock is needed.
func (m *Manager) Undrain(ctx context.Context, ids []string) error {
	for _, id := range ids {
		_, err := m.Store.UpdateNode(ctx, id, func(c *deis.Node) error {
			if c.Status.State == deis.NodeDraining {
				c.Status.State, c.Status.Message = deis.NodeReady, ""
			}
			return nil
		})
		if err != nil && !errors.Is(err, store.ErrNotFound) { // a node destroyed meanwhile is fine
			return err
		}
	}
	return nil
}

// retiring returns the nodes of one layer that go when it shrinks to n:
// lost and draining ones first, then the newest.
func retiring(cur []deis.Node, n int) []deis.Node {
	rank := func(s deis.NodeState) int {
		switch s {
		case deis.NodeLost:
			return 0
		case deis.NodeDraining:
			return 1
		}
		return 2
	}
	cur = slices.Clone(cur)
	slices.SortStableFunc(cur, func(a, b deis.Node) int {
		if ra, rb := rank(a.Status.State), rank(b.Status.State); ra != rb {
			return ra - rb
		}
		return b.Num - a.Num
	})
	return cur[:len(cur)-n]
}

// CloudPolicy says what ReconcileCloud does with machines the store does
// not know.
type CloudPolicy int

// Policies for untracked machines.
const (
	Report    CloudPolicy = iota // say so
	AdoptThem                    // make them nodes of their layer
	Terminate                    // destroy them
)

// ReconcileCloud compares what cloud providers run for this controller with
// the store, for formation only (or every formation when only is nil, at
// controller start): machines no node names are reported (or adopted, or
// terminated, as policy says); nodes whose machine is gone are marked lost.
// At start, a node whose creation was interrupted has its machine
// destroyed and is forgotten. It returns the formations that have newly
// lost nodes, whose containers must move.
func (m *Manager) ReconcileCloud(ctx context.Context, only *deis.Formation, policy CloudPolicy, p Progress) ([]string, error) {
	byProvider, err := m.cloudProviders(ctx, only)
	if err != nil || len(byProvider) == 0 {
		return nil, err // nothing on a cloud: no need to wait for a scale
	}
	if only != nil {
		defer m.lockFormation(only.ID)()
	} else {
		m.all.Lock()
		defer m.all.Unlock()
	}
	nodes, err := m.Store.ListAllNodes(ctx)
	if err != nil {
		return nil, err
	}
	var lostIn []string
	var errs []error
	for _, key := range slices.Sorted(maps.Keys(byProvider)) {
		lost, err := m.reconcileProvider(ctx, byProvider[key], nodes, only == nil, policy, p)
		for _, f := range lost {
			if !slices.Contains(lostIn, f) {
				lostIn = append(lostIn, f)
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("provider %s: %w", key, err))
		}
	}
	return lostIn, errors.Join(errs...)
}

// served is a cloud provider with the layers it serves.
type served struct {
	provider Provider
	layers   map[string]layerInfo // formation/layer -> info
	forms    map[string]deis.Formation
}

// cloudProviders returns the cloud providers of formation only's layers
// (every formation's when only is nil), by owner/provider.
func (m *Manager) cloudProviders(ctx context.Context, only *deis.Formation) (map[string]*served, error) {
	var forms []deis.Formation
	if only != nil {
		forms = []deis.Formation{*only}
	} else {
		all, _, err := m.Store.ListFormations(ctx, store.Viewer{Admin: true}, store.PageReq{})
		if err != nil {
			return nil, err
		}
		forms = all
	}
	byProvider := map[string]*served{}
	var errs []error
	for _, f := range forms {
		ls, _, err := m.Store.ListLayers(ctx, f.ID, store.PageReq{})
		if err != nil {
			return nil, err
		}
		for _, l := range ls {
			fl, err := m.Store.GetFlavor(ctx, f.Owner, l.Flavor)
			if err != nil {
				errs = append(errs, fmt.Errorf("flavor of layer %s/%s: %w", f.ID, l.ID, err))
				continue
			}
			pr, err := m.Store.GetProvider(ctx, f.Owner, fl.Provider)
			if err != nil {
				errs = append(errs, fmt.Errorf("provider of flavor %s: %w", fl.ID, err))
				continue
			}
			if !cloud(pr.Type) {
				continue
			}
			li, err := m.layerInfo(ctx, f, l.ID)
			if err != nil {
				errs = append(errs, fmt.Errorf("layer %s/%s: %w", f.ID, l.ID, err))
				continue
			}
			key := f.Owner + "/" + pr.ID
			if byProvider[key] == nil {
				byProvider[key] = &served{provider: li.provider, layers: map[string]layerInfo{}, forms: map[string]deis.Formation{}}
			}
			byProvider[key].layers[f.ID+"/"+l.ID] = li
			byProvider[key].forms[f.ID] = f
		}
	}
	return byProvider, errors.Join(errs...)
}

// reconcileProvider reconciles one cloud provider's machines with the
// nodes of the layers it serves and returns the formations with newly lost
// nodes. atStart handles nodes whose creation a restart interrupted.
func (m *Manager) reconcileProvider(ctx context.Context, sv *served, nodes []deis.Node, atStart bool, policy CloudPolicy, p Progress) ([]string, error) {
	// List fails as a whole when a region cannot be listed: then nothing
	// is marked lost on a partial view.
	machines, err := sv.provider.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing its machines: %w", err)
	}
	live := map[string]Machine{}
	byNode := map[string]Machine{}
	for _, mach := range machines {
		live[mach.ProviderID] = mach
		byNode[mach.Formation+"/"+mach.Node] = mach
	}
	var lostIn []string
	known := map[string]bool{}
	for _, n := range nodes {
		if _, ok := sv.layers[n.Formation+"/"+n.Layer]; !ok {
			continue
		}
		if atStart && n.Status.State == deis.NodeCreating {
			// The machine may run without the store knowing its id: find
			// it by its node tag.
			id := n.ProviderID
			if mach, ok := byNode[n.Formation+"/"+n.ID]; ok && id == "" {
				id = mach.ProviderID
			}
			p.Printf("%s: its creation was interrupted: destroying %s", n.ID, orNone(id))
			if _, alive := live[id]; alive {
				known[id] = true
				if err := sv.provider.Destroy(ctx, id); err != nil {
					return lostIn, fmt.Errorf("destroying %s of interrupted node %s: %w", id, n.ID, err)
				}
			}
			if err := m.Store.DeleteNode(ctx, n.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return lostIn, err
			}
			continue
		}
		if n.ProviderID == "" {
			continue
		}
		known[n.ProviderID] = true
		mach, alive := live[n.ProviderID]
		switch {
		case !alive && n.Status.State != deis.NodeLost && n.Status.State != deis.NodeCreating:
			p.Printf("%s: machine %s is gone: marked lost", n.ID, n.ProviderID)
			m.Pool.Forget(n.ID)
			lost := deis.NodeStatus{State: deis.NodeLost, Message: "its machine " + n.ProviderID + " is gone", Checked: time.Now()}
			if _, err := m.Store.UpdateNode(ctx, n.ID, setStatus(lost)); err != nil {
				return lostIn, err
			}
			lostIn = append(lostIn, n.Formation)
		case alive && n.Status.State == deis.NodeLost:
			// Seen again (a region that could not be listed before): it
			// is checked before anything runs on it again.
			p.Printf("%s: machine %s is back: marked unreachable until checked", n.ID, n.ProviderID)
			back := deis.NodeStatus{State: deis.NodeUnreachable, Message: "its machine is back: check it with nodes:info --refresh", Checked: time.Now()}
			if _, err := m.Store.UpdateNode(ctx, n.ID, setStatus(back)); err != nil {
				return lostIn, err
			}
		case alive && !mach.Running && n.Status.State == deis.NodeReady:
			p.Printf("%s: machine %s is not running", n.ID, n.ProviderID)
			stopped := deis.NodeStatus{State: deis.NodeUnreachable, Message: "its machine is not running", Checked: time.Now()}
			if _, err := m.Store.UpdateNode(ctx, n.ID, setStatus(stopped)); err != nil {
				return lostIn, err
			}
		}
	}
	for _, mach := range machines {
		if known[mach.ProviderID] {
			continue
		}
		f, ours := sv.forms[mach.Formation]
		if !ours {
			continue // another formation's, or one this call does not cover
		}
		what := fmt.Sprintf("untracked machine %s (tagged %s, layer %s, address %s)", mach.ProviderID, orNone(mach.Node), orNone(mach.Layer), orNone(mach.Address))
		switch policy {
		case Terminate:
			if err := sv.provider.Destroy(ctx, mach.ProviderID); err != nil {
				return lostIn, fmt.Errorf("terminating %s: %w", what, err)
			}
			p.Printf("%s: terminated", what)
		case AdoptThem:
			li, ok := sv.layers[f.ID+"/"+mach.Layer]
			if !ok {
				p.Printf("%s: not adopted: formation %s has no layer %q", what, f.ID, mach.Layer)
				continue
			}
			n, err := m.adoptMachine(ctx, f, li, mach, p)
			if err != nil {
				p.Printf("%s: not adopted: %v", what, err)
				continue
			}
			p.Printf("%s: adopted as %s", what, n.ID)
		default:
			p.Printf("%s: not in the store; adopt it with deis nodes:list %s --refresh --adopt, or terminate it with --terminate", what, f.ID)
		}
	}
	return lostIn, nil
}

// adoptMachine makes a machine the store does not know a node of li's
// layer: reached (host key pinned), bootstrapped and checked. On failure
// the node is forgotten and the machine left as it was.
func (m *Manager) adoptMachine(ctx context.Context, f deis.Formation, li layerInfo, mach Machine, p Progress) (deis.Node, error) {
	if mach.Address == "" || !mach.Running {
		return deis.Node{}, errors.New("it is not running with an address")
	}
	if li.layer.Proxy && mach.Public == "" {
		mach.Public = net.JoinHostPort(mach.Address, "80")
	}
	n, err := m.Store.CreateNode(ctx, deis.Node{Formation: f.ID, Layer: li.layer.ID, ProviderID: mach.ProviderID,
		Address: net.JoinHostPort(mach.Address, strconv.Itoa(mach.SSHPort)), Public: mach.Public, Private: mach.Private,
		Status: deis.NodeStatus{State: deis.NodeCreating}})
	if err != nil {
		return deis.Node{}, err
	}
	fail := func(err error) (deis.Node, error) {
		m.Pool.Forget(n.ID)
		m.Store.DeleteNode(context.WithoutCancel(ctx), n.ID)
		return deis.Node{}, err
	}
	if n, err = m.reach(ctx, li, n); err != nil {
		return fail(err)
	}
	if err := m.bootstrap(ctx, li, n, p); err != nil {
		return fail(err)
	}
	if n, err = m.check(ctx, li, n); err != nil {
		return fail(err)
	}
	return n, nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
