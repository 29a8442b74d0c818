package api

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/deis/deis"
	"github.com/deis/deis/store"
	"github.com/gin-gonic/gin"
)

func (s *Server) getConfig(c *gin.Context) {
	cfg, err := s.store.GetConfig(c.Request.Context(), appOf(c).ID)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, cfg)
}

// maxConfigValue bounds one config value; the body limit bounds the rest.
const maxConfigValue = 64 << 10

func (s *Server) updateConfig(c *gin.Context) {
	var req deis.ConfigUpdateRequest
	if err := decode(c, &req); err != nil {
		fail(c, err)
		return
	}
	if len(req.Values) == 0 {
		fail(c, invalid("values must name at least one key to set or unset"))
		return
	}
	for k, v := range req.Values {
		switch {
		case !deis.ValidEnvName(k):
			fail(c, invalid("config key %q is not a valid environment variable name", k))
			return
		case v != nil && len(*v) > maxConfigValue:
			fail(c, invalid("config value of %s is longer than %d bytes", k, maxConfigValue))
			return
		case v != nil && strings.IndexByte(*v, 0) >= 0:
			fail(c, invalid("config value of %s holds a NUL byte, which no environment can carry", k))
			return
		}
	}
	if c.Query("dry_run") == "true" {
		s.planConfig(c, req)
		return
	}
	s.releaseAndRoll(c, func(ctx context.Context) (deis.Release, error) {
		_, rel, err := s.store.UpdateConfig(ctx, appOf(c).ID, req.Values, currentUser(c).Username)
		return rel, err
	})
}

// planConfig answers what a config update would do: the keys it changes
// (values are not echoed) and the rollout of the next release.
func (s *Server) planConfig(c *gin.Context, req deis.ConfigUpdateRequest) {
	ctx, a := c.Request.Context(), appOf(c)
	cur, err := s.store.GetConfig(ctx, a.ID)
	if err != nil {
		fail(c, err)
		return
	}
	var set, unset, same []string
	for k, v := range req.Values {
		old, had := cur.Values[k]
		switch {
		case v == nil && had:
			unset = append(unset, k)
		case v == nil, *v == old && had:
			same = append(same, k)
		default:
			set = append(set, k)
		}
	}
	var parts []string
	for _, p := range []struct {
		verb string
		keys []string
	}{{"set", set}, {"unset", unset}, {"leave as they are", same}} {
		if len(p.keys) > 0 {
			slices.Sort(p.keys)
			parts = append(parts, p.verb+" "+strings.Join(p.keys, ", "))
		}
	}
	s.planRelease(c, a, a.Structure, "would "+strings.Join(parts, "; "))
}

// planRelease answers the plan of the release after the latest, with
// structure.
func (s *Server) planRelease(c *gin.Context, a deis.App, structure map[string]int, summary string) {
	ctx := c.Request.Context()
	rels, _, err := s.store.ListReleases(ctx, a.ID, store.PageReq{Limit: 1})
	if err != nil {
		fail(c, err)
		return
	}
	next := 1
	if len(rels) > 0 {
		next = rels[0].Version + 1
	}
	s.answerPlan(c, a, structure, next, next, summary)
}

// answerPlan answers the plan of moving a to release (made as version
// made, 0 when none) with structure.
func (s *Server) answerPlan(c *gin.Context, a deis.App, structure map[string]int, release, made int, summary string) {
	plan, err := s.conv.PlanApp(c.Request.Context(), a.ID, structure, release)
	if err != nil {
		fail(c, err)
		return
	}
	nz := func(cs []deis.Container) []deis.Container {
		if cs == nil {
			return []deis.Container{}
		}
		return cs
	}
	c.JSON(http.StatusOK, deis.ReleasePlan{Release: made, Summary: summary,
		Start: nz(plan.Start), Keep: nz(plan.Keep), Retire: nz(plan.Retire)})
}

func (s *Server) listBuilds(c *gin.Context) {
	list(c, func(p store.PageReq) ([]deis.Build, int, error) {
		return s.store.ListBuilds(c.Request.Context(), appOf(c).ID, p)
	})
}

var (
	gitSHARE = regexp.MustCompile(`^[0-9a-f]{4,64}$`)
)

func validateBuild(b deis.BuildCreateRequest) error {
	u, err := url.Parse(b.SlugURL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return invalid("slug_url %q must be an http or https URL", b.SlugURL)
	case !deis.ValidSHA256(b.SlugSHA256):
		return invalid("slug_sha256 must be 64 lowercase hex digits")
	case b.SHA != "" && !gitSHARE.MatchString(b.SHA):
		return invalid("sha %q is not a git commit id", b.SHA)
	case b.SlugSize < 0:
		return invalid("slug_size must not be negative")
	case len(b.Procfile) == 0:
		return invalid("procfile must name at least one process type")
	}
	for typ, cmd := range b.Procfile {
		if !deis.ValidProcessType(typ) {
			return invalid("process type %q must be a-z, 0-9, '_' or '-'", typ)
		}
		if strings.TrimSpace(cmd) == "" {
			return invalid("process type %q has an empty command", typ)
		}
	}
	return nil
}

func (s *Server) createBuild(c *gin.Context) {
	var req deis.BuildCreateRequest
	if err := decode(c, &req); err != nil {
		fail(c, err)
		return
	}
	if err := validateBuild(req); err != nil {
		fail(c, err)
		return
	}
	b := deis.Build{
		App: appOf(c).ID, Owner: currentUser(c).Username, SHA: req.SHA, SlugURL: req.SlugURL,
		SlugSize: req.SlugSize, SlugSHA256: req.SlugSHA256, Procfile: req.Procfile, Buildpack: req.Buildpack,
	}
	s.releaseAndRoll(c, s.newBuild(appOf(c), b))
}

func (s *Server) getBuild(c *gin.Context) {
	b, err := s.store.GetBuild(c.Request.Context(), appOf(c).ID, c.Param("uuid"))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, b)
}

func (s *Server) listReleases(c *gin.Context) {
	list(c, func(p store.PageReq) ([]deis.Release, int, error) {
		return s.store.ListReleases(c.Request.Context(), appOf(c).ID, p)
	})
}

// parseVersion reads "v2" or "2".
func parseVersion(v string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimPrefix(v, "v"))
	return n, err == nil && n > 0
}

func (s *Server) getRelease(c *gin.Context) {
	v, ok := parseVersion(c.Param("version"))
	if !ok {
		fail(c, notFound("release %q not found: versions look like v2", c.Param("version")))
		return
	}
	r, err := s.store.GetRelease(c.Request.Context(), appOf(c).ID, v)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, r)
}

func (s *Server) rollback(c *gin.Context) {
	var req deis.RollbackRequest
	if err := decode(c, &req); err != nil {
		fail(c, err)
		return
	}
	if req.Version < 0 {
		fail(c, invalid("version must be positive"))
		return
	}
	if c.Query("dry_run") == "true" {
		s.planRollback(c, req.Version)
		return
	}
	s.releaseAndRoll(c, func(ctx context.Context) (deis.Release, error) {
		return s.store.Rollback(ctx, appOf(c).ID, req.Version, currentUser(c).Username)
	})
}

// planRollback answers what a rollback to version (0: the one before the
// latest) would do, with the store's rules.
func (s *Server) planRollback(c *gin.Context, version int) {
	ctx, a := c.Request.Context(), appOf(c)
	rels, _, err := s.store.ListReleases(ctx, a.ID, store.PageReq{Limit: 1})
	if err != nil {
		fail(c, err)
		return
	}
	if len(rels) == 0 {
		fail(c, invalid("app %s has no release", a.ID))
		return
	}
	last := rels[0].Version
	target := version
	switch {
	case version == 0 && last == 1:
		fail(c, invalid("no release before v1"))
		return
	case version == 0:
		target = last - 1
	case version >= last:
		fail(c, invalid("v%d is not a release before the current one, v%d", version, last))
		return
	}
	if _, err := s.store.GetRelease(ctx, a.ID, target); err != nil {
		fail(c, err)
		return
	}
	s.answerPlan(c, a, a.Structure, last+1, last+1, fmt.Sprintf("would roll back to v%d as v%d", target, last+1))
}

// listContainers answers the app's containers, refreshed first from their
// nodes (refresh=false skips that): what the engines say now.
func (s *Server) listContainers(c *gin.Context) {
	if c.Query("refresh") != "false" {
		if err := s.conv.Refresh(c.Request.Context(), appOf(c).ID); err != nil {
			logger(c).Warn("refreshing containers", "app", appOf(c).ID, "err", err)
		}
	}
	list(c, func(p store.PageReq) ([]deis.Container, int, error) {
		return s.store.ListContainers(c.Request.Context(), appOf(c).ID, p)
	})
}

// maxProcesses bounds the count of one process type.
const maxProcesses = 100

func (s *Server) scale(c *gin.Context) {
	var req deis.ScaleRequest
	if err := decode(c, &req); err != nil {
		fail(c, err)
		return
	}
	a := appOf(c)
	ctx := c.Request.Context()
	procfile, err := s.currentProcfile(c, a)
	if err != nil {
		fail(c, err)
		return
	}
	if err := validateScale(req, procfile); err != nil {
		fail(c, err)
		return
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
		runtime, err := s.runtimeNodes(c, a.Formation)
		if err != nil {
			fail(c, err)
			return
		}
		if runtime == 0 {
			fail(c, invalid("formation %q has no runtime nodes: add some with deis nodes:scale %s LAYER=N", a.Formation, a.Formation))
			return
		}
	}
	if c.Query("dry_run") == "true" {
		rel, err := s.conv.Deployed(ctx, a.ID)
		if err != nil {
			fail(c, invalid("app %s has no deployed release to scale", a.ID))
			return
		}
		s.answerPlan(c, a, structure, rel.Version, 0, fmt.Sprintf("would scale v%d to %s", rel.Version, structureString(structure)))
		return
	}
	ctx = context.WithoutCancel(ctx)
	unlock := s.conv.Lock(a.ID)
	defer unlock()
	before := a.Structure
	if a, err = s.store.SetStructure(ctx, a.ID, structure); err != nil {
		fail(c, err)
		return
	}
	rel, err := s.conv.Deployed(ctx, a.ID)
	if err == nil {
		err = s.conv.Rollout(ctx, a.ID, rel.Version, logProgress{logger(c)})
	}
	if err != nil {
		if _, rerr := s.store.SetStructure(ctx, a.ID, before); rerr != nil {
			logger(c).Error("restoring structure after a failed scale", "app", a.ID, "err", rerr)
		}
		fail(c, invalid("scaling %s: %s", a.ID, err))
		return
	}
	c.JSON(http.StatusOK, a)
}

// firstWeb scales a new app to web=1 before its first build when the
// Procfile has a web process, as Heroku and Deis do, if its formation has
// runtime nodes. It returns how to undo that.
func (s *Server) firstWeb(ctx context.Context, a deis.App, procfile map[string]string) (func(), error) {
	nothing := func() {}
	if _, ok := procfile["web"]; !ok || hasProcesses(a) {
		return nothing, nil
	}
	builds, _, err := s.store.ListBuilds(ctx, a.ID, store.PageReq{Limit: 1})
	if err != nil || len(builds) > 0 {
		return nothing, err
	}
	n, err := s.runtimeNodesOf(ctx, a.Formation)
	if err != nil || n == 0 {
		return nothing, err
	}
	if _, err := s.store.SetStructure(ctx, a.ID, map[string]int{"web": 1}); err != nil {
		return nothing, err
	}
	return func() { s.store.SetStructure(context.WithoutCancel(ctx), a.ID, a.Structure) }, nil
}

func validateScale(req deis.ScaleRequest, procfile map[string]string) error {
	if len(req) == 0 {
		return invalid("name at least one process type to scale, like web=2")
	}
	types := make([]string, 0, len(req))
	for t := range req {
		types = append(types, t)
	}
	sort.Strings(types)
	for _, t := range types {
		n := req[t]
		if n < 0 || n > maxProcesses {
			return invalid("%s=%d: a count must be from 0 to %d", t, n, maxProcesses)
		}
		if _, ok := procfile[t]; !ok {
			known := make([]string, 0, len(procfile))
			for k := range procfile {
				known = append(known, k)
			}
			sort.Strings(known)
			if len(known) == 0 {
				return invalid("unknown process type %q: the app has no build yet, push it first", t)
			}
			return invalid("unknown process type %q: the Procfile has %s", t, strings.Join(known, ", "))
		}
	}
	return nil
}

// currentProcfile returns the Procfile of the app's latest release's build.
func (s *Server) currentProcfile(c *gin.Context, a deis.App) (map[string]string, error) {
	ctx := c.Request.Context()
	rels, _, err := s.store.ListReleases(ctx, a.ID, store.PageReq{Limit: 1})
	if err != nil || len(rels) == 0 || rels[0].Build == "" {
		return nil, err
	}
	b, err := s.store.GetBuild(ctx, a.ID, rels[0].Build)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return b.Procfile, err
}

// runtimeNodes counts the nodes of the formation's runtime layers.
func (s *Server) runtimeNodes(c *gin.Context, formation string) (int, error) {
	return s.runtimeNodesOf(c.Request.Context(), formation)
}

func (s *Server) runtimeNodesOf(ctx context.Context, formation string) (int, error) {
	ls, _, err := s.store.ListLayers(ctx, formation, store.PageReq{})
	if err != nil {
		return 0, err
	}
	f, err := s.store.GetFormation(ctx, store.Viewer{Admin: true}, formation)
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

// structureString is "web=2 worker=1", by type.
func structureString(structure map[string]int) string {
	var parts []string
	for _, t := range slices.Sorted(maps.Keys(structure)) {
		parts = append(parts, fmt.Sprintf("%s=%d", t, structure[t]))
	}
	return strings.Join(parts, " ")
}
