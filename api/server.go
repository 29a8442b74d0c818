// Package api is the controller's HTTP API under /v1: authentication,
// per-user scoping, strict request decoding and the one mapping from errors
// to statuses. Wire types live in package client; state lives in package
// store.
package api

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/deis/deis"
	"github.com/deis/deis/deploy"
	"github.com/deis/deis/slugs"
	"github.com/deis/deis/store"
	"github.com/gin-gonic/gin"
)

// Config holds what the API needs from the controller.
type Config struct {
	Store *store.Store
	Nodes NodeManager
	Conv  Converger
	// Deploy runs the release workflows; nil means one on Store and Conv.
	Deploy *deploy.Service
	Logger *slog.Logger
	// Docker is true when the controller reaches a Docker engine: users get
	// the docker provider and flavor.
	Docker bool
	// GitHost is host:port of the SSH git endpoint as users reach it; empty
	// means the host of each request with GitPort.
	GitHost string
	GitPort int
	// Slugs is the controller's slug store.
	Slugs slugs.Store
	// BaseURL is where users and nodes reach the API (--advertise); empty
	// means each request's own scheme and host.
	BaseURL string
	// TokenTTL is how long a login token lives.
	TokenTTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Server serves the API.
type Server struct {
	cfg    Config
	store  *store.Store
	log    *slog.Logger
	jobs   *jobRunner
	nodes  NodeManager
	conv   Converger
	deploy *deploy.Service
	auth   authCache
	engine *gin.Engine
}

// New returns a Server ready to serve.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = 30 * 24 * time.Hour
	}
	if cfg.GitPort == 0 {
		cfg.GitPort = 2222
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Deploy == nil {
		cfg.Deploy = &deploy.Service{Store: cfg.Store, Conv: cfg.Conv, Log: cfg.Logger}
	}
	s := &Server{cfg: cfg, store: cfg.Store, nodes: cfg.Nodes, conv: cfg.Conv, deploy: cfg.Deploy, log: cfg.Logger, auth: authCache{ttl: 5 * time.Second}}
	s.jobs = newJobRunner(cfg.Store, cfg.Logger)
	gin.SetMode(gin.ReleaseMode)
	s.engine = gin.New()
	s.engine.HandleMethodNotAllowed = true
	s.routes()
	return s
}

// Handler returns the http.Handler of the API.
func (s *Server) Handler() http.Handler { return s.engine }

// Wait blocks until the jobs started by the server have ended.
func (s *Server) Wait() { s.jobs.wait() }

func (s *Server) routes() {
	e := s.engine
	e.Use(s.requestID, s.accessLog, s.recover)
	e.NoRoute(func(c *gin.Context) { fail(c, notFound("no route for %s %s", c.Request.Method, c.Request.URL.Path)) })
	e.NoMethod(func(c *gin.Context) {
		fail(c, &Error{http.StatusMethodNotAllowed, deis.CodeBadRequest, "method " + c.Request.Method + " is not allowed here"})
	})
	e.GET("/healthz", s.healthz)

	v1 := e.Group("/v1")
	v1.POST("/auth/register", s.register)
	v1.POST("/auth/login", s.login)

	a := v1.Group("", s.authenticate)
	a.POST("/auth/logout", s.logout)
	a.GET("/auth/whoami", s.whoami)

	a.GET("/keys", s.listKeys)
	a.POST("/keys", s.createKey)
	a.GET("/keys/:id", s.getKey)
	a.DELETE("/keys/:id", s.deleteKey)

	a.GET("/providers", s.listProviders)
	a.POST("/providers", s.createProvider)
	a.GET("/providers/:id", s.getProvider)
	a.PATCH("/providers/:id", s.updateProvider)
	a.DELETE("/providers/:id", s.deleteProvider)

	a.GET("/flavors", s.listFlavors)
	a.POST("/flavors", s.createFlavor)
	a.GET("/flavors/:id", s.getFlavor)
	a.PATCH("/flavors/:id", s.updateFlavor)
	a.DELETE("/flavors/:id", s.deleteFlavor)

	a.GET("/formations", s.listFormations)
	a.POST("/formations", s.createFormation)
	f := a.Group("/formations/:id", s.loadFormation)
	f.GET("", s.getFormation)
	f.PATCH("", s.updateFormation)
	f.DELETE("", s.destroyFormation)
	f.GET("/calculate", s.calculate)
	f.POST("/converge", s.convergeFormation)
	f.POST("/scale", s.scaleNodes)
	f.GET("/layers", s.listLayers)
	f.POST("/layers", s.createLayer)
	f.GET("/layers/:layer", s.getLayer)
	f.PATCH("/layers/:layer", s.updateLayer)
	f.DELETE("/layers/:layer", s.deleteLayer)
	f.GET("/nodes", s.listNodes)
	f.POST("/nodes", s.adoptNode)
	f.POST("/nodes/reconcile", s.reconcileNodes)

	n := a.Group("/nodes/:id", s.loadNode)
	n.GET("", s.getNode)
	n.DELETE("", s.destroyNode)
	n.POST("/converge", s.convergeNode)
	n.GET("/ssh", s.nodeSSH)
	n.POST("/trust", s.trustNode)

	a.GET("/apps", s.listApps)
	a.POST("/apps", s.createApp)
	ap := a.Group("/apps/:id", s.loadApp)
	ap.GET("", s.getApp)
	ap.DELETE("", s.destroyApp)
	ap.GET("/logs", s.unavailable("app logs"))
	ap.POST("/run", s.unavailable("one-off commands (apps:run)"))
	ap.GET("/config", s.getConfig)
	ap.POST("/config", s.updateConfig)
	ap.GET("/builds", s.listBuilds)
	ap.POST("/builds", s.createBuild)
	ap.GET("/builds/:uuid", s.getBuild)
	ap.POST("/slugs", s.uploadSlug)
	ap.GET("/slugs/:file", s.getSlug)
	ap.GET("/releases", s.listReleases)
	ap.GET("/releases/:version", s.getRelease)
	ap.POST("/releases/rollback", s.rollback)
	ap.GET("/containers", s.listContainers)
	ap.POST("/scale", s.scale)
	ap.GET("/perms", s.listPerms)
	ap.POST("/perms", s.createPerm)
	ap.DELETE("/perms/:username", s.deletePerm)

	a.GET("/jobs/:id", s.getJob)
	a.GET("/jobs/:id/lines", s.jobLines)
}

func (s *Server) healthz(c *gin.Context) {
	if err := s.store.Ping(c.Request.Context()); err != nil {
		c.JSON(http.StatusServiceUnavailable, deis.Error{Message: "store unavailable", Code: deis.CodeInternal})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

func (s *Server) unavailable(what string) gin.HandlerFunc {
	return func(c *gin.Context) { fail(c, notAvailable(what)) }
}

const requestIDHeader = "X-Deis-Request-ID"

func (s *Server) requestID(c *gin.Context) {
	id := c.GetHeader(requestIDHeader)
	if id == "" || len(id) > 128 {
		var b [8]byte
		rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	c.Header(requestIDHeader, id)
	c.Set("log", s.log.With("request_id", id))
	c.Next()
}

func (s *Server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	logger(c).Debug("request", "method", c.Request.Method, "path", c.Request.URL.Path,
		"status", c.Writer.Status(), "duration", time.Since(start), "user", c.GetString("username"))
}

func (s *Server) recover(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			logger(c).Error("panic in handler", "panic", r, "path", c.Request.URL.Path)
			fail(c, &Error{http.StatusInternalServerError, deis.CodeInternal, "internal error"})
		}
	}()
	c.Next()
}

func logger(c *gin.Context) *slog.Logger {
	if l, ok := c.Get("log"); ok {
		return l.(*slog.Logger)
	}
	return slog.New(slog.DiscardHandler)
}

const (
	defaultLimit = 100
	maxLimit     = 1000
)

// pageReq reads ?limit= and ?offset=.
func pageReq(c *gin.Context) (store.PageReq, error) {
	p := store.PageReq{Limit: defaultLimit}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			return p, invalid("limit must be a number from 1 to %d", maxLimit)
		}
		p.Limit = n
	}
	if v := c.Query("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return p, invalid("offset must be a number from 0")
		}
		p.Offset = n
	}
	return p, nil
}

// listed writes a page of results with the link to the next one.
func listed[T any](c *gin.Context, p store.PageReq, items []T, total int) {
	if items == nil {
		items = []T{}
	}
	page := deis.Page[T]{Count: total, Results: items}
	if end := p.Offset + len(items); end < total && len(items) > 0 {
		q := url.Values{}
		for k, v := range c.Request.URL.Query() {
			q[k] = v
		}
		q.Set("limit", strconv.Itoa(p.Limit))
		q.Set("offset", strconv.Itoa(end))
		page.Next = c.Request.URL.Path + "?" + q.Encode()
	}
	c.JSON(http.StatusOK, page)
}

// list runs a store list call with the request's page and writes the page.
func list[T any](c *gin.Context, fetch func(store.PageReq) ([]T, int, error)) {
	p, err := pageReq(c)
	if err != nil {
		fail(c, err)
		return
	}
	items, total, err := fetch(p)
	if err != nil {
		fail(c, err)
		return
	}
	listed(c, p, items, total)
}
