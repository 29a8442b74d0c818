package api

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"strconv"

	"github.com/deis/deis"
	"github.com/deis/deis/store"
	"github.com/gin-gonic/gin"
)

func (s *Server) listApps(c *gin.Context) {
	list(c, func(p store.PageReq) ([]deis.App, int, error) {
		apps, total, err := s.store.ListApps(c.Request.Context(), viewer(c), p)
		for i := range apps {
			apps[i] = s.decorate(c, apps[i], "")
		}
		return apps, total, err
	})
}

// decorate fills in what is derived, not stored: the git remote and URL.
// The URL is http://APP.DOMAIN/, with the port a proxy node publishes on
// this host when it publishes one (the docker provider).
func (s *Server) decorate(c *gin.Context, a deis.App, domain string) deis.App {
	host := s.cfg.GitHost
	if host == "" {
		h, _, err := net.SplitHostPort(c.Request.Host)
		if err != nil {
			h = c.Request.Host
		}
		host = net.JoinHostPort(h, strconv.Itoa(s.cfg.GitPort))
	}
	a.GitRemote = fmt.Sprintf("ssh://git@%s/%s.git", host, a.ID)
	a.URL = s.deploy.AppURL(c.Request.Context(), a, domain)
	return a
}

func (s *Server) createApp(c *gin.Context) {
	var req deis.AppCreateRequest
	if err := decode(c, &req); err != nil {
		fail(c, err)
		return
	}
	if req.ID != "" && !deis.ValidID(req.ID) {
		fail(c, invalid("app id %q must be 1 to 63 of a-z, 0-9 and '-'", req.ID))
		return
	}
	ctx := c.Request.Context()
	f, err := s.store.GetFormation(ctx, viewer(c), req.Formation)
	if errors.Is(err, store.ErrNotFound) {
		fail(c, invalid("formation %q does not exist: see deis formations:list", req.Formation))
		return
	} else if err != nil {
		fail(c, err)
		return
	}
	if f.Domain == "" {
		apps, err := s.store.ListFormationApps(ctx, f.ID)
		if err != nil {
			fail(c, err)
			return
		}
		if len(apps) > 0 {
			fail(c, invalid("formation %q has no domain, so it hosts one app (%s): give it one with deis formations:update %s --domain DOMAIN", f.ID, apps[0].ID, f.ID))
			return
		}
	}
	a := deis.App{ID: req.ID, Formation: f.ID, Owner: currentUser(c).Username, Structure: map[string]int{}}
	for try := 0; ; try++ {
		if req.ID == "" {
			a.ID = randomName()
		}
		a, err = s.store.CreateApp(ctx, a)
		if !errors.Is(err, store.ErrConflict) || req.ID != "" || try == 5 {
			break
		}
	}
	if errors.Is(err, store.ErrConflict) {
		fail(c, conflict("app %q already exists", a.ID))
		return
	} else if err != nil {
		fail(c, err)
		return
	}
	logger(c).Info("app created", "app", a.ID, "formation", f.ID)
	c.JSON(http.StatusCreated, s.decorate(c, a, f.Domain))
}

var (
	adjectives = []string{"autumn", "bold", "brave", "calm", "crisp", "dapper", "eager", "fancy", "gentle", "happy",
		"hidden", "icy", "jolly", "lively", "lucky", "misty", "nimble", "polite", "quiet", "rapid", "rustic",
		"shiny", "silent", "snowy", "steady", "sunny", "tidy", "vivid", "wise", "young"}
	nouns = []string{"anchor", "badger", "beacon", "cactus", "canyon", "comet", "dolphin", "falcon", "forest",
		"glacier", "harbor", "island", "lantern", "meadow", "nebula", "orchard", "otter", "pebble", "quasar",
		"river", "sparrow", "summit", "thicket", "tundra", "valley", "walrus", "willow", "zephyr"}
)

func pick(words []string) string {
	n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(words))))
	return words[n.Int64()]
}

// randomName returns an adjective-noun app name, as Deis and Heroku do.
func randomName() string { return pick(adjectives) + "-" + pick(nouns) }

// loadApp puts the app named in the path in the context, or answers 404
// when the user is neither its owner, a collaborator nor an admin.
func (s *Server) loadApp(c *gin.Context) {
	a, err := s.store.GetApp(c.Request.Context(), viewer(c), c.Param("id"))
	if err != nil {
		fail(c, err)
		return
	}
	c.Set("app", a)
	c.Next()
}

func appOf(c *gin.Context) deis.App { return c.MustGet("app").(deis.App) }

// ownerOnly answers 403 unless the user owns the app (or is an admin).
func ownerOnly(c *gin.Context, action string) error {
	a, u := appOf(c), currentUser(c)
	if a.Owner != u.Username && !u.Admin {
		return forbidden("only %s, the owner of app %s, can %s", a.Owner, a.ID, action)
	}
	return nil
}

func (s *Server) getApp(c *gin.Context) {
	a := appOf(c)
	f, err := s.store.GetFormation(c.Request.Context(), store.Viewer{Admin: true}, a.Formation)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, s.decorate(c, a, f.Domain))
}

func (s *Server) destroyApp(c *gin.Context) {
	if err := ownerOnly(c, "destroy it"); err != nil {
		fail(c, err)
		return
	}
	a := appOf(c)
	s.startJob(c, "app.destroy", a.ID, func(ctx context.Context, p *progress) error {
		return s.deploy.Destroy(ctx, a.ID, p)
	})
}

func (s *Server) listPerms(c *gin.Context) { s.writePerms(c, http.StatusOK) }

func (s *Server) writePerms(c *gin.Context, status int) {
	users, err := s.store.ListCollaborators(c.Request.Context(), appOf(c).ID)
	if err != nil {
		fail(c, err)
		return
	}
	if users == nil {
		users = []string{}
	}
	c.JSON(status, deis.Perms{Users: users})
}

func (s *Server) createPerm(c *gin.Context) {
	var req deis.PermCreateRequest
	if err := decode(c, &req); err != nil {
		fail(c, err)
		return
	}
	if err := ownerOnly(c, "share it"); err != nil {
		fail(c, err)
		return
	}
	a := appOf(c)
	if req.Username == a.Owner {
		fail(c, invalid("%s owns app %s already", req.Username, a.ID))
		return
	}
	err := s.store.AddCollaborator(c.Request.Context(), a.ID, req.Username)
	switch {
	case errors.Is(err, store.ErrNotFound):
		fail(c, invalid("user %q does not exist", req.Username))
		return
	case errors.Is(err, store.ErrConflict):
		fail(c, conflict("%s is already a collaborator on %s", req.Username, a.ID))
		return
	case err != nil:
		fail(c, err)
		return
	}
	s.writePerms(c, http.StatusCreated)
}

func (s *Server) deletePerm(c *gin.Context) {
	if err := ownerOnly(c, "change who shares it"); err != nil {
		fail(c, err)
		return
	}
	if err := s.store.RemoveCollaborator(c.Request.Context(), appOf(c).ID, c.Param("username")); err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
