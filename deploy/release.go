package deploy

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strings"

	"github.com/deis/deis"
	"github.com/deis/deis/store"
)

// MaxConfigValue bounds one config value.
const MaxConfigValue = 64 << 10

// MaxProcesses bounds the count of one process type.
const MaxProcesses = 100

// CheckConfig refuses config changes no environment can carry (what
// UpdateConfig would refuse), before any work starts.
func CheckConfig(changes map[string]*string) error {
	if len(changes) == 0 {
		return invalid("values must name at least one key to set or unset")
	}
	for _, k := range slices.Sorted(maps.Keys(changes)) {
		v := changes[k]
		switch {
		case !deis.ValidEnvName(k):
			return invalid("config key %q is not a valid environment variable name", k)
		case v != nil && len(*v) > MaxConfigValue:
			return invalid("config value of %s is longer than %d bytes", k, MaxConfigValue)
		case v != nil && strings.IndexByte(*v, 0) >= 0:
			return invalid("config value of %s holds a NUL byte, which no environment can carry", k)
		}
	}
	return nil
}

// UpdateConfig merges changes (a nil value unsets its key) into the app's
// config as a new release, and rolls it out.
func (s *Service) UpdateConfig(ctx context.Context, app, who string, changes map[string]*string, p Progress) (deis.Release, error) {
	if err := CheckConfig(changes); err != nil {
		return deis.Release{}, err
	}
	return s.roll(ctx, app, func(ctx context.Context) (deis.Release, error) {
		_, rel, err := s.Store.UpdateConfig(ctx, app, changes, who)
		return rel, err
	}, p)
}

// PlanConfig is what UpdateConfig would do: the release it would make
// (its summary names keys, never values) and how the containers move.
func (s *Service) PlanConfig(ctx context.Context, app string, changes map[string]*string) (deis.ReleasePlan, error) {
	if err := CheckConfig(changes); err != nil {
		return deis.ReleasePlan{}, err
	}
	a, err := s.Store.GetApp(ctx, admin, app)
	if err != nil {
		return deis.ReleasePlan{}, err
	}
	cur, err := s.Store.GetConfig(ctx, app)
	if err != nil {
		return deis.ReleasePlan{}, err
	}
	next, err := s.nextRelease(ctx, app)
	if err != nil {
		return deis.ReleasePlan{}, err
	}
	return s.plan(ctx, a, a.Structure, next, next, "would "+deis.ConfigSummary(cur.Values, changes))
}

// Build makes the release of build b (from a git push or a registered
// slug) and rolls it out. The app's first build with a web process scales
// web=1 first, as on Heroku, when its formation has runtime nodes.
func (s *Service) Build(ctx context.Context, b deis.Build, p Progress) (deis.Release, error) {
	a, err := s.Store.GetApp(ctx, admin, b.App)
	if err != nil {
		return deis.Release{}, err
	}
	return s.roll(ctx, a.ID, func(ctx context.Context) (deis.Release, error) {
		undo, err := s.firstWeb(ctx, a, b.Procfile)
		if err != nil {
			return deis.Release{}, err
		}
		_, rel, err := s.Store.CreateBuild(ctx, b)
		if err != nil {
			undo()
		}
		return rel, err
	}, p)
}

// firstWeb scales a new app to web=1 before its first build when the
// Procfile has a web process and its formation has runtime nodes. It
// returns how to undo that.
func (s *Service) firstWeb(ctx context.Context, a deis.App, procfile map[string]string) (func(), error) {
	nothing := func() {}
	if _, ok := procfile[deis.WebType]; !ok || hasProcesses(a) {
		return nothing, nil
	}
	builds, _, err := s.Store.ListBuilds(ctx, a.ID, store.PageReq{Limit: 1})
	if err != nil || len(builds) > 0 {
		return nothing, err
	}
	n, err := s.runtimeNodes(ctx, a.Formation)
	if err != nil || n == 0 {
		return nothing, err
	}
	if _, err := s.Store.SetStructure(ctx, a.ID, map[string]int{deis.WebType: 1}); err != nil {
		return nothing, err
	}
	return func() { s.Store.SetStructure(context.WithoutCancel(ctx), a.ID, a.Structure) }, nil
}

// Rollback makes a new release of release version's build and config (0:
// the one before the latest) and rolls it out.
func (s *Service) Rollback(ctx context.Context, app string, version int, who string, p Progress) (deis.Release, error) {
	if version < 0 {
		return deis.Release{}, invalid("version must be positive")
	}
	return s.roll(ctx, app, func(ctx context.Context) (deis.Release, error) {
		return s.Store.Rollback(ctx, app, version, who)
	}, p)
}

// PlanRollback is what Rollback would do.
func (s *Service) PlanRollback(ctx context.Context, app string, version int) (deis.ReleasePlan, error) {
	a, err := s.Store.GetApp(ctx, admin, app)
	if err != nil {
		return deis.ReleasePlan{}, err
	}
	next, target, err := s.rollbackTarget(ctx, app, version)
	if err != nil {
		return deis.ReleasePlan{}, err
	}
	return s.plan(ctx, a, a.Structure, next, next, fmt.Sprintf("would roll back to v%d as v%d", target, next))
}

// CheckRollback refuses what Rollback would refuse, before any work starts.
func (s *Service) CheckRollback(ctx context.Context, app string, version int) error {
	_, _, err := s.rollbackTarget(ctx, app, version)
	return err
}

// rollbackTarget returns the version a rollback to version (0: the one
// before the latest) makes, and the release it goes back to.
func (s *Service) rollbackTarget(ctx context.Context, app string, version int) (next, target int, err error) {
	if next, err = s.nextRelease(ctx, app); err != nil {
		return 0, 0, err
	}
	last, target := next-1, version
	switch {
	case version < 0:
		return 0, 0, invalid("version must be positive")
	case last == 0:
		return 0, 0, invalid("app %s has no release", app)
	case version == 0 && last == 1:
		return 0, 0, invalid("no release before v1")
	case version == 0:
		target = last - 1
	case version >= last:
		return 0, 0, invalid("v%d is not a release before the current one, v%d", version, last)
	}
	if _, err := s.Store.GetRelease(ctx, app, target); err != nil {
		return 0, 0, err
	}
	return next, target, nil
}

// Scale sets the counts of req's process types (the others keep theirs)
// and rolls the app's deployed release out to them. Every type must be in
// the Procfile of the app's latest build.
func (s *Service) Scale(ctx context.Context, app string, req deis.ScaleRequest, p Progress) (deis.App, error) {
	// The app is read under its lock: two scales of different types both
	// stand.
	unlock := s.Conv.Lock(app)
	defer unlock()
	a, structure, err := s.scaled(ctx, app, req)
	if err != nil {
		return a, err
	}
	a, err = s.rollStructure(ctx, a, structure, p)
	if err != nil {
		return a, invalid("scaling %s: %s", app, err)
	}
	return a, nil
}

// CheckScale refuses what Scale would refuse before rolling anything out.
func (s *Service) CheckScale(ctx context.Context, app string, req deis.ScaleRequest) error {
	_, _, err := s.scaled(ctx, app, req)
	return err
}

// PlanScale is what Scale would do.
func (s *Service) PlanScale(ctx context.Context, app string, req deis.ScaleRequest) (deis.ReleasePlan, error) {
	a, structure, err := s.scaled(ctx, app, req)
	if err != nil {
		return deis.ReleasePlan{}, err
	}
	rel, err := s.Conv.Deployed(ctx, a.ID)
	if err != nil {
		return deis.ReleasePlan{}, invalid("app %s has no deployed release to scale", a.ID)
	}
	return s.plan(ctx, a, structure, rel.Version, 0, fmt.Sprintf("would scale v%d to %s", rel.Version, deis.StructureString(structure)))
}

// scaled checks req against the app and returns the structure it asks for.
func (s *Service) scaled(ctx context.Context, app string, req deis.ScaleRequest) (deis.App, map[string]int, error) {
	a, err := s.Store.GetApp(ctx, admin, app)
	if err != nil {
		return a, nil, err
	}
	procfile, err := s.currentProcfile(ctx, a)
	if err != nil {
		return a, nil, err
	}
	if err := validateScale(req, procfile); err != nil {
		return a, nil, err
	}
	structure := map[string]int{}
	for t, n := range a.Structure {
		structure[t] = n
	}
	total := 0
	for t, n := range req {
		structure[t] = n
	}
	for _, n := range structure {
		total += n
	}
	if total > 0 {
		runtime, err := s.runtimeNodes(ctx, a.Formation)
		if err != nil {
			return a, nil, err
		}
		if runtime == 0 {
			return a, nil, invalid("formation %q has no runtime nodes: add some with deis nodes:scale %s LAYER=N", a.Formation, a.Formation)
		}
	}
	return a, structure, nil
}

func validateScale(req deis.ScaleRequest, procfile map[string]string) error {
	if len(req) == 0 {
		return invalid("name at least one process type to scale, like web=2")
	}
	for _, t := range slices.Sorted(maps.Keys(req)) {
		n := req[t]
		if n < 0 || n > MaxProcesses {
			return invalid("%s=%d: a count must be from 0 to %d", t, n, MaxProcesses)
		}
		if _, ok := procfile[t]; !ok {
			known := slices.Sorted(maps.Keys(procfile))
			if len(known) == 0 {
				return invalid("unknown process type %q: the app has no build yet, push it first", t)
			}
			return invalid("unknown process type %q: the Procfile has %s", t, strings.Join(known, ", "))
		}
	}
	return nil
}

// currentProcfile returns the Procfile of the app's latest release's build.
func (s *Service) currentProcfile(ctx context.Context, a deis.App) (map[string]string, error) {
	rels, _, err := s.Store.ListReleases(ctx, a.ID, store.PageReq{Limit: 1})
	if err != nil || len(rels) == 0 || rels[0].Build == "" {
		return nil, err
	}
	b, err := s.Store.GetBuild(ctx, a.ID, rels[0].Build)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return b.Procfile, err
}

// runtimeNodes counts the nodes of the formation's runtime layers.
func (s *Service) runtimeNodes(ctx context.Context, formation string) (int, error) {
	ls, _, err := s.Store.ListLayers(ctx, formation, store.PageReq{})
	if err != nil {
		return 0, err
	}
	f, err := s.Store.GetFormation(ctx, admin, formation)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, l := range ls {
		if l.Runtime {
			n += f.Nodes[l.ID]
		}
	}
	return n, nil
}

// nextRelease is the version the app's next release gets.
func (s *Service) nextRelease(ctx context.Context, app string) (int, error) {
	rels, _, err := s.Store.ListReleases(ctx, app, store.PageReq{Limit: 1})
	if err != nil {
		return 0, err
	}
	if len(rels) == 0 {
		return 1, nil
	}
	return rels[0].Version + 1, nil
}

// plan is the plan of moving a to release (made as version made, 0 when
// none) with structure.
func (s *Service) plan(ctx context.Context, a deis.App, structure map[string]int, release, made int, summary string) (deis.ReleasePlan, error) {
	plan, err := s.Conv.PlanApp(ctx, a.ID, structure, release)
	if err != nil {
		return deis.ReleasePlan{}, err
	}
	nz := func(cs []deis.Container) []deis.Container {
		if cs == nil {
			return []deis.Container{}
		}
		return cs
	}
	return deis.ReleasePlan{Release: made, Summary: summary, Start: nz(plan.Start), Keep: nz(plan.Keep), Retire: nz(plan.Retire)}, nil
}

// AppURL is where app answers: http://APP.DOMAIN/, with the port a proxy
// node publishes on this host when one does (the docker provider); ""
// when its formation has no domain.
func (s *Service) AppURL(ctx context.Context, a deis.App, domain string) string {
	if domain == "" {
		return ""
	}
	host := a.ID + "." + domain
	if port := s.proxyPort(ctx, a.Formation); port != "" {
		host = net.JoinHostPort(host, port)
	}
	return "http://" + host + "/"
}

// URL is AppURL of the app named app; "" when it cannot be known.
func (s *Service) URL(ctx context.Context, app string) string {
	a, err := s.Store.GetApp(ctx, admin, app)
	if err != nil {
		return ""
	}
	f, err := s.Store.GetFormation(ctx, admin, a.Formation)
	if err != nil {
		return ""
	}
	return s.AppURL(ctx, a, f.Domain)
}

// proxyPort is the port at which the first proxy node of a formation
// publishes HTTP on this host, or "" when none does.
func (s *Service) proxyPort(ctx context.Context, formation string) string {
	ls, _, err := s.Store.ListLayers(ctx, formation, store.PageReq{})
	if err != nil {
		return ""
	}
	proxy := map[string]bool{}
	for _, l := range ls {
		proxy[l.ID] = l.Proxy
	}
	ns, _, err := s.Store.ListNodes(ctx, formation, store.PageReq{})
	if err != nil {
		return ""
	}
	for _, n := range ns {
		if _, port, err := net.SplitHostPort(n.Public); err == nil && proxy[n.Layer] {
			return port
		}
	}
	return ""
}
