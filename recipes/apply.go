package recipes

import (
	"context"
	"strings"
	"time"
)

// Apply brings a node to db, as deis-node apply does: the runtime recipe
// with rt when db.Runtime is set, then the proxy recipe when db.Proxy is
// set. A nil db.Runtime leaves the node's app containers alone; an empty
// one removes them all. What failed is in the report, never an error.
// The report ends with the state of every app container on the node.
func Apply(ctx context.Context, db Databag, rt *Runtime) AgentReport {
	rep := run(ctx, db, rt, (*Runtime).Apply, ApplyProxy)
	if db.Runtime != nil && rt != nil && rt.Docker != nil {
		// What was applied stands even if the engine cannot say more now:
		// the report then has no container states, and none are recorded.
		cs, err := rt.Status(ctx, "")
		if err != nil {
			rt.logger().Warn("reporting container states", "err", err)
		}
		rep.Containers = cs
	}
	return rep
}

// run runs the runtime and proxy halves of Apply or Plan.
func run(ctx context.Context, db Databag, rt *Runtime,
	runtime func(*Runtime, context.Context, RuntimeState) ([]ResourceResult, error),
	proxy func(context.Context, ProxyState) []ResourceResult) AgentReport {
	start := time.Now()
	rep := AgentReport{Node: db.Node, Resources: []ResourceResult{}}
	var errs []string
	if db.Runtime != nil {
		if rt == nil || rt.Docker == nil {
			errs = append(errs, "runtime: no Docker engine")
		} else {
			res, err := runtime(rt, ctx, *db.Runtime)
			rep.Resources = append(rep.Resources, res...)
			if err != nil {
				errs = append(errs, "runtime: "+err.Error())
			}
		}
	}
	if db.Proxy != nil {
		rep.Resources = append(rep.Resources, proxy(ctx, *db.Proxy)...)
	}
	rep.Error = strings.Join(errs, "; ")
	rep.Duration = time.Since(start)
	return rep
}

// OK reports whether the agent applied everything: no error and no failed
// resource. deis-node exits 1 when it is not.
func (r AgentReport) OK() bool {
	if r.Error != "" {
		return false
	}
	for _, res := range r.Resources {
		if res.Result == Failed {
			return false
		}
	}
	return true
}
