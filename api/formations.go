package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"

	"github.com/deis/deis"
	"github.com/deis/deis/layers"
	"github.com/deis/deis/nodes"
	"github.com/deis/deis/store"
	"github.com/gin-gonic/gin"
)

var domainRE = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

func validDomain(d string) bool { return d == "" || (len(d) <= 253 && domainRE.MatchString(d)) }

func (s *Server) listFormations(c *gin.Context) {
	list(c, func(p store.PageReq) ([]deis.Formation, int, error) {
		return s.store.ListFormations(c.Request.Context(), viewer(c), p)
	})
}

func (s *Server) createFormation(c *gin.Context) {
	var req deis.FormationCreateRequest
	if err := decode(c, &req); err != nil {
		fail(c, err)
		return
	}
	switch {
	case !deis.ValidID(req.ID):
		fail(c, invalid("formation id %q must be 1 to 63 of a-z, 0-9 and '-'", req.ID))
		return
	case !validDomain(req.Domain):
		fail(c, invalid("domain %q is not a valid DNS name", req.Domain))
		return
	}
	ctx := c.Request.Context()
	owner := currentUser(c).Username
	var specs []store.LayerSpec
	if req.Flavor != "" {
		spec, err := s.newLayer(ctx, owner, req.ID, deis.LayerCreateRequest{ID: "runtime", Flavor: req.Flavor})
		if err != nil {
			fail(c, err)
			return
		}
		specs = append(specs, spec.LayerSpec)
		if req.Domain == "" && spec.Docker {
			req.Domain = req.ID + ".localhost"
		}
	}
	f, err := s.store.CreateFormation(ctx, deis.Formation{ID: req.ID, Owner: owner, Domain: req.Domain}, specs...)
	if errors.Is(err, store.ErrConflict) {
		fail(c, conflict("formation %q already exists", req.ID))
		return
	} else if err != nil {
		fail(c, err)
		return
	}
	for _, l := range specs {
		if err := s.buildLayer(ctx, f, l.Layer.ID); err != nil {
			s.store.DeleteFormation(context.WithoutCancel(ctx), f.ID)
			fail(c, err)
			return
		}
	}
	logger(c).Info("formation created", "formation", f.ID, "owner", owner)
	c.JSON(http.StatusCreated, f)
}

// layerSpec is a new layer with its key pair, and whether its nodes come
// from the docker provider.
type layerSpec struct {
	store.LayerSpec
	Docker bool
}

// newLayer checks a layer request against the owner's flavors and generates
// the layer's key pair. Layers on the docker and ec2 providers reach their
// nodes as root on port 22, whatever the request says: the provider makes
// them so.
func (s *Server) newLayer(ctx context.Context, owner, formation string, req deis.LayerCreateRequest) (layerSpec, error) {
	l, err := layers.New(formation, req)
	if err != nil {
		return layerSpec{}, invalid("%s", err)
	}
	typ, err := s.flavorType(ctx, owner, l.Flavor)
	if err != nil {
		return layerSpec{}, err
	}
	if typ == deis.ProviderDocker || typ == deis.ProviderEC2 {
		// The provider authorizes the layer key for root on port 22.
		l.SSHUser, l.SSHPort = layers.DefaultSSHUser, layers.DefaultSSHPort
	}
	pub, priv, err := layers.NewKeyPair(fmt.Sprintf("deis-%s-%s", formation, l.ID))
	if err != nil {
		return layerSpec{}, err
	}
	l.SSHPublicKey = pub
	return layerSpec{LayerSpec: store.LayerSpec{Layer: l, PrivateKey: priv}, Docker: typ == deis.ProviderDocker}, nil
}

// flavorType returns the provider type of one of owner's flavors.
func (s *Server) flavorType(ctx context.Context, owner, flavor string) (string, error) {
	f, err := s.store.GetFlavor(ctx, owner, flavor)
	if errors.Is(err, store.ErrNotFound) {
		return "", invalid("flavor %q does not exist: see deis flavors:list", flavor)
	} else if err != nil {
		return "", err
	}
	p, err := s.store.GetProvider(ctx, owner, f.Provider)
	if err != nil {
		return "", err
	}
	return p.Type, nil
}

// loadFormation puts the formation named in the path in the context, or
// answers 404 when the user cannot see it.
func (s *Server) loadFormation(c *gin.Context) {
	f, err := s.store.GetFormation(c.Request.Context(), viewer(c), c.Param("id"))
	if err != nil {
		fail(c, err)
		return
	}
	c.Set("formation", f)
	c.Next()
}

func formationOf(c *gin.Context) deis.Formation { return c.MustGet("formation").(deis.Formation) }

func (s *Server) getFormation(c *gin.Context) { c.JSON(http.StatusOK, formationOf(c)) }

func (s *Server) updateFormation(c *gin.Context) {
	var req deis.FormationUpdateRequest
	if err := decode(c, &req); err != nil {
		fail(c, err)
		return
	}
	f := formationOf(c)
	if req.Domain == nil {
		c.JSON(http.StatusOK, f)
		return
	}
	if !validDomain(*req.Domain) {
		fail(c, invalid("domain %q is not a valid DNS name", *req.Domain))
		return
	}
	f, err := s.store.UpdateFormation(c.Request.Context(), f.ID, *req.Domain)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, f)
}

func (s *Server) listLayers(c *gin.Context) {
	list(c, func(p store.PageReq) ([]deis.Layer, int, error) {
		return s.store.ListLayers(c.Request.Context(), formationOf(c).ID, p)
	})
}

func (s *Server) createLayer(c *gin.Context) {
	var req deis.LayerCreateRequest
	if err := decode(c, &req); err != nil {
		fail(c, err)
		return
	}
	f := formationOf(c)
	ctx := c.Request.Context()
	spec, err := s.newLayer(ctx, f.Owner, f.ID, req)
	if err != nil {
		fail(c, err)
		return
	}
	l, err := s.store.CreateLayer(ctx, spec.Layer, spec.PrivateKey)
	if errors.Is(err, store.ErrConflict) {
		fail(c, conflict("layer %q already exists in formation %q", req.ID, f.ID))
		return
	} else if err != nil {
		fail(c, err)
		return
	}
	if err := s.buildLayer(ctx, f, l.ID); err != nil {
		s.store.DeleteLayer(context.WithoutCancel(ctx), f.ID, l.ID)
		fail(c, err)
		return
	}
	if spec.Docker && f.Domain == "" {
		// Nodes on this machine: *.localhost resolves to loopback.
		if _, err := s.store.UpdateFormation(ctx, f.ID, f.ID+".localhost"); err != nil {
			fail(c, err)
			return
		}
	}
	c.JSON(http.StatusCreated, l)
}

func (s *Server) getLayer(c *gin.Context) {
	l, err := s.store.GetLayer(c.Request.Context(), formationOf(c).ID, c.Param("layer"))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, l)
}

func (s *Server) updateLayer(c *gin.Context) {
	var req deis.LayerUpdateRequest
	if err := decode(c, &req); err != nil {
		fail(c, err)
		return
	}
	f := formationOf(c)
	ctx := c.Request.Context()
	if req.Flavor != nil {
		if _, err := s.flavorType(ctx, f.Owner, *req.Flavor); err != nil {
			fail(c, err)
			return
		}
	}
	l, err := s.store.UpdateLayer(ctx, f.ID, c.Param("layer"), func(l *deis.Layer) error {
		updated, err := layers.Update(*l, req)
		if err != nil {
			return invalid("%s", err)
		}
		*l = updated
		return nil
	})
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, l)
}

func (s *Server) deleteLayer(c *gin.Context) {
	f := formationOf(c)
	ctx := c.Request.Context()
	if _, err := s.store.GetLayer(ctx, f.ID, c.Param("layer")); err != nil {
		fail(c, err)
		return
	}
	ns, _, err := s.store.ListNodes(ctx, f.ID, store.PageReq{})
	if err != nil {
		fail(c, err)
		return
	}
	for _, n := range ns {
		if n.Layer == c.Param("layer") {
			if err := s.nodes.Destroy(ctx, f, n, logProgress{logger(c)}); err != nil {
				fail(c, err)
				return
			}
		}
	}
	if err := s.nodes.TeardownLayer(ctx, f, c.Param("layer")); err != nil {
		fail(c, cloudError(err))
		return
	}
	if err := s.store.DeleteLayer(ctx, f.ID, c.Param("layer")); err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// buildLayer makes a new layer's resources at its provider (a cloud's key
// pair and security groups). On failure whatever was made is removed; the
// caller forgets the layer.
func (s *Server) buildLayer(ctx context.Context, f deis.Formation, layer string) error {
	err := s.nodes.BuildLayer(ctx, f, layer)
	if err == nil {
		return nil
	}
	if terr := s.nodes.TeardownLayer(context.WithoutCancel(ctx), f, layer); terr != nil {
		s.log.Warn("removing a layer that failed to build", "formation", f.ID, "layer", layer, "err", terr)
	}
	return cloudError(err)
}

// cloudError answers a provider's error: 422 when it refused what the user
// gave, the store's status for the store's errors, else 502.
func cloudError(err error) error {
	switch {
	case errors.Is(err, nodes.ErrRefused):
		return invalid("%s", err)
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrConflict):
		return err
	}
	return providerFailed(err)
}
