package recipes

import (
	"bytes"
	"context"
	"os"

	"github.com/deis/deis/proxy"
)

// WouldChange is the result of a resource that Apply would change; Plan
// reports it and changes nothing.
const WouldChange = "would change"

// Plan reports what Apply would do with db, as deis-node plan does,
// without changing anything: each resource is checked, none applied. A
// container whose replacement Apply would health-check is reported as
// would change; whether it would become healthy cannot be known.
func Plan(ctx context.Context, db Databag, rt *Runtime) AgentReport {
	return run(ctx, db, rt, (*Runtime).Plan, func(ctx context.Context, st ProxyState) []ResourceResult {
		return debianNginx().plan(st)
	})
}

// Plan is what Apply would do with the node's app containers.
func (r *Runtime) Plan(ctx context.Context, st RuntimeState) ([]ResourceResult, error) {
	existing, err := r.list(ctx, "")
	if err != nil {
		return nil, err
	}
	p := planRuntime(st.Containers, existing)
	var out []ResourceResult
	for _, ref := range p.slugs {
		res := ResourceResult{Resource: "slug:" + shortSHA(ref.SHA256), Result: Unchanged}
		if !exists(slugMarker(r.SlugDir, ref.SHA256)) {
			res.Result, res.Message = WouldChange, "fetch and verify"
			if exists(SlugPath(r.SlugDir, ref.SHA256)) {
				res.Message = "verify"
			}
		}
		out = append(out, res)
	}
	for _, c := range p.remove {
		out = append(out, ResourceResult{Resource: "container:" + summaryName(c), Result: WouldChange, Message: "remove"})
	}
	for _, s := range p.containers {
		res := ResourceResult{Resource: "container:" + s.spec.Name(), Result: Unchanged}
		switch {
		case s.invalid:
			res.Result, res.Message = Failed, s.reason
		case s.create:
			res.Result, res.Message = WouldChange, s.reason
		}
		out = append(out, res)
	}
	return out, nil
}

// plan is what apply would do with nginx.
func (n nginxSetup) plan(st ProxyState) []ResourceResult {
	var out []ResourceResult
	if exists(n.DebianDefault) {
		out = append(out, ResourceResult{Resource: debianDefaultResource, Result: WouldChange, Message: "remove"})
	}
	site := ResourceResult{Resource: siteResource, Result: Unchanged}
	sites := make([]proxy.Site, len(st.Sites))
	for i, s := range st.Sites {
		sites[i] = proxy.Site(s)
	}
	conf, err := proxy.Config{Listen: n.Listen}.Render(sites)
	switch prev, rerr := os.ReadFile(n.Conf); {
	case err != nil:
		site.Result, site.Message = Failed, proxyOneLine("rendering: "+err.Error())
	case rerr != nil || !bytes.Equal(prev, conf):
		site.Result, site.Message = WouldChange, "write, nginx -t, reload"
	}
	out = append(out, site)
	if !n.running() {
		out = append(out, ResourceResult{Resource: nginxServiceResource, Result: WouldChange, Message: "start"})
	}
	return out
}
