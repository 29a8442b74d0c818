package converge

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/deis/deis"
	"github.com/deis/deis/nodes"
	"github.com/deis/deis/recipes"
	"github.com/deis/deis/store"
)

// refreshTimeout bounds a refresh of one node: a node that does not answer
// in time keeps what was last seen of its containers.
const refreshTimeout = 5 * time.Second

// Refresh asks the nodes that run app's containers what their engines say
// of them, in one SSH round trip per node (in parallel), and records it,
// so that a container that died shows as down. A node that does not
// answer, or runs an older agent, keeps what was last seen; the error
// names the nodes that could not be asked.
func (c *Converger) Refresh(ctx context.Context, appID string) error {
	a, err := c.Store.GetApp(ctx, admin, appID)
	if err != nil {
		return err
	}
	f, err := c.Store.GetFormation(ctx, admin, a.Formation)
	if err != nil {
		return err
	}
	cs, _, err := c.Store.ListContainers(ctx, appID, store.PageReq{})
	if err != nil || len(cs) == 0 {
		return err
	}
	all, _, err := c.Store.ListNodes(ctx, f.ID, store.PageReq{})
	if err != nil {
		return err
	}
	if err := c.agentChecksum(); err != nil {
		return err
	}
	var targets []deis.Node
	for _, n := range all {
		if n.Status.State != deis.NodeLost && slices.ContainsFunc(cs, func(k deis.Container) bool { return k.Node == n.ID }) {
			targets = append(targets, n)
		}
	}
	results := c.fanOut(targets, func(n deis.Node) NodeResult {
		return NodeResult{Node: n.ID, Err: c.refreshNode(ctx, f, n, appID)}
	})
	var failed []string
	for _, r := range results {
		if r.Err != nil {
			failed = append(failed, r.Node+": "+r.Err.Error())
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("refreshing containers of %s: %v", appID, failed)
	}
	return nil
}

func (c *Converger) refreshNode(ctx context.Context, f deis.Formation, n deis.Node, app string) error {
	at := time.Now()
	res, err := c.askStatus(ctx, f, n, app)
	switch {
	case err != nil:
		return err
	case res.ExitCode == preflightMissing:
		return fmt.Errorf("its agent is out of date until the next converge")
	case res.ExitCode != 0:
		return fmt.Errorf("deis-node status exited %d: %s", res.ExitCode, lastLine(res.Stderr))
	}
	var sts []recipes.ContainerStatus
	if err := json.Unmarshal(res.Stdout, &sts); err != nil {
		return fmt.Errorf("reading deis-node status: %w", err)
	}
	return c.Store.ObserveContainers(ctx, n.ID, app, observations(sts), at)
}

// askStatus runs deis-node status on n, within refreshTimeout.
func (c *Converger) askStatus(ctx context.Context, f deis.Formation, n deis.Node, app string) (nodes.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, refreshTimeout)
	defer cancel()
	s, err := c.Dialer.Dial(ctx, f, n)
	if err != nil {
		return nodes.Result{}, err
	}
	return s.Run(ctx, preflight(c.agentSum, "", nil, "status --app "+app), nil)
}

// observations turns an agent's container states into the store's.
func observations(sts []recipes.ContainerStatus) []deis.ContainerObservation {
	out := make([]deis.ContainerObservation, 0, len(sts))
	for _, st := range sts {
		out = append(out, deis.ContainerObservation{
			App: st.App, Type: st.Type, Num: st.Num, Release: st.Release,
			State: st.State, ExitCode: st.ExitCode, Restarts: st.Restarts, Died: st.Finished,
		})
	}
	return out
}
