package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/deis/deis"
	"github.com/deis/deis/converge"
	"github.com/deis/deis/deploy"
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

func (s *Server) updateConfig(c *gin.Context) {
	var req deis.ConfigUpdateRequest
	if err := decode(c, &req); err != nil {
		fail(c, err)
		return
	}
	app, who := appOf(c).ID, currentUser(c).Username
	if c.Query("dry_run") == "true" {
		s.answerPlan(c, func(ctx context.Context) (deis.ReleasePlan, error) { return s.deploy.PlanConfig(ctx, app, req.Values) })
		return
	}
	if err := deploy.CheckConfig(req.Values); err != nil {
		fail(c, err)
		return
	}
	s.releaseJob(c, "app.config", func(ctx context.Context, p converge.Progress) (deis.Release, error) {
		return s.deploy.UpdateConfig(ctx, app, who, req.Values, p)
	})
}

// releaseJob answers 202 with a job of kind on the app that runs do: its
// lines are the rollout's progress, it records the release do made, ends
// with "done, vN (rolled out in Ns)", and fails when the release did not
// start (the previous one serves on). Refusals are checked before.
func (s *Server) releaseJob(c *gin.Context, kind string, do func(ctx context.Context, p converge.Progress) (deis.Release, error)) {
	s.startJob(c, kind, appOf(c).ID, func(ctx context.Context, p *progress) error {
		start := time.Now()
		rel, err := do(ctx, p)
		if err != nil {
			return err
		}
		p.setRelease(rel.Version)
		if rel.Status == deis.ReleaseFailed {
			return fmt.Errorf("v%d did not start, the previous release keeps serving: %s", rel.Version, rel.Error)
		}
		p.Printf("done, v%d (rolled out in %s)", rel.Version, time.Since(start).Round(100*time.Millisecond))
		return nil
	})
}

// answerPlan answers a dry run's plan.
func (s *Server) answerPlan(c *gin.Context, plan func(ctx context.Context) (deis.ReleasePlan, error)) {
	p, err := plan(c.Request.Context())
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, p)
}

func (s *Server) listBuilds(c *gin.Context) {
	list(c, func(p store.PageReq) ([]deis.Build, int, error) {
		return s.store.ListBuilds(c.Request.Context(), appOf(c).ID, p)
	})
}

var gitSHARE = regexp.MustCompile(`^[0-9a-f]{4,64}$`)

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
	if err := s.ownSlug(c, req.SlugSHA256); err != nil {
		fail(c, err)
		return
	}
	b := deis.Build{
		App: appOf(c).ID, Owner: currentUser(c).Username, SHA: req.SHA, SlugURL: req.SlugURL,
		SlugSize: req.SlugSize, SlugSHA256: req.SlugSHA256, Procfile: req.Procfile, Buildpack: req.Buildpack,
	}
	s.releaseJob(c, "app.build", func(ctx context.Context, p converge.Progress) (deis.Release, error) {
		return s.deploy.Build(ctx, b, p)
	})
}

// ownSlug refuses a build of a slug the controller stores that the app was
// never given (uploaded to it, or built for it): the controller would
// ship another app's slug to this app's nodes.
func (s *Server) ownSlug(c *gin.Context, sum string) error {
	ctx, app := c.Request.Context(), appOf(c).ID
	if !s.cfg.Slugs.Has(sum) {
		return nil
	}
	ours, err := s.store.AppUsesSlug(ctx, app, sum)
	if err != nil || ours {
		return err
	}
	return invalid("slug %s is not one of %s's: upload it with deis builds:create --slug", sum[:12], app)
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
	app, who := appOf(c).ID, currentUser(c).Username
	if c.Query("dry_run") == "true" {
		s.answerPlan(c, func(ctx context.Context) (deis.ReleasePlan, error) {
			return s.deploy.PlanRollback(ctx, app, req.Version)
		})
		return
	}
	if err := s.deploy.CheckRollback(c.Request.Context(), app, req.Version); err != nil {
		fail(c, err)
		return
	}
	s.releaseJob(c, "app.rollback", func(ctx context.Context, p converge.Progress) (deis.Release, error) {
		return s.deploy.Rollback(ctx, app, req.Version, who, p)
	})
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

func (s *Server) scale(c *gin.Context) {
	var req deis.ScaleRequest
	if err := decode(c, &req); err != nil {
		fail(c, err)
		return
	}
	app := appOf(c).ID
	if c.Query("dry_run") == "true" {
		s.answerPlan(c, func(ctx context.Context) (deis.ReleasePlan, error) { return s.deploy.PlanScale(ctx, app, req) })
		return
	}
	if err := s.deploy.CheckScale(c.Request.Context(), app, req); err != nil {
		fail(c, err)
		return
	}
	s.startJob(c, "app.scale", app, func(ctx context.Context, p *progress) error {
		start := time.Now()
		a, err := s.deploy.Scale(ctx, app, req, p)
		if err != nil {
			return err
		}
		p.Printf("done, %s (rolled out in %s)", deis.StructureString(a.Structure), time.Since(start).Round(100*time.Millisecond))
		return nil
	})
}
