package api

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/deis/deis"
	"github.com/deis/deis/nodes"
	"github.com/deis/deis/store"
	"github.com/gin-gonic/gin"
)

// providerTypes are the provider types the controller knows.
var providerTypes = []string{deis.ProviderStatic, deis.ProviderDocker, deis.ProviderEC2}

func (s *Server) listProviders(c *gin.Context) {
	list(c, func(p store.PageReq) ([]deis.Provider, int, error) {
		return s.store.ListProviders(c.Request.Context(), currentUser(c).Username, p)
	})
}

// validateNames checks the keys of credentials, flavor params and the like.
func validateNames[V any](what string, m map[string]V) error {
	for k := range m {
		if !deis.ValidEnvName(k) {
			return invalid("%s name %q must be letters, digits and '_', not starting with a digit", what, k)
		}
	}
	return nil
}

func (s *Server) createProvider(c *gin.Context) {
	var req deis.ProviderCreateRequest
	if err := decode(c, &req); err != nil {
		fail(c, err)
		return
	}
	switch {
	case !deis.ValidID(req.ID):
		fail(c, invalid("provider id %q must be 1 to 63 of a-z, 0-9 and '-'", req.ID))
		return
	case !slices.Contains(providerTypes, req.Type):
		fail(c, invalid("provider type %q is unknown: use static, docker or ec2", req.Type))
		return
	}
	if err := validateNames("credential", req.Creds); err != nil {
		fail(c, err)
		return
	}
	ctx := c.Request.Context()
	u := currentUser(c)
	if _, err := s.store.GetProvider(ctx, u.Username, req.ID); err == nil {
		fail(c, conflict("provider %q already exists", req.ID))
		return
	}
	seeds, err := s.verifyProvider(ctx, u, req.Type, req.Creds)
	if err != nil {
		fail(c, err)
		return
	}
	p := deis.Provider{ID: req.ID, Owner: u.Username, Type: req.Type}
	p, err = s.store.CreateProvider(ctx, p, req.Creds)
	if err != nil {
		fail(c, err)
		return
	}
	for _, seed := range seeds {
		id := p.ID + "-" + seed.Suffix
		_, err := s.store.CreateFlavor(ctx, deis.Flavor{ID: id, Owner: u.Username, Provider: p.ID, Params: seed.Params})
		if err != nil && !errors.Is(err, store.ErrConflict) {
			logger(c).Warn("seeding a flavor", "flavor", id, "err", err)
		}
	}
	c.JSON(http.StatusCreated, p)
}

// verifyProvider checks a cloud provider's creds with its API before they
// are stored and returns the flavors it suggests. Empty ec2 creds mean the
// controller's own AWS credentials: only an admin may use those.
func (s *Server) verifyProvider(ctx context.Context, u deis.User, typ string, creds map[string]string) ([]nodes.FlavorSeed, error) {
	if typ != deis.ProviderEC2 {
		return nil, nil
	}
	if creds[deis.CredAccessKeyID] == "" && !u.Admin {
		return nil, invalid("an ec2 provider needs --creds access_key_id=... secret_access_key=... (only an admin may use the controller's own AWS credentials)")
	}
	seeds, err := s.nodes.VerifyProvider(ctx, typ, creds)
	var unavailable nodes.ErrUnavailable
	switch {
	case errors.As(err, &unavailable):
		return nil, notAvailable("the " + typ + " provider")
	case errors.Is(err, nodes.ErrRefused):
		return nil, invalid("%s", err)
	case err != nil:
		return nil, providerFailed(err)
	}
	return seeds, nil
}

func (s *Server) getProvider(c *gin.Context) {
	p, err := s.store.GetProvider(c.Request.Context(), currentUser(c).Username, c.Param("id"))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, p)
}

func (s *Server) updateProvider(c *gin.Context) {
	var req deis.ProviderUpdateRequest
	if err := decode(c, &req); err != nil {
		fail(c, err)
		return
	}
	if err := validateNames("credential", req.Creds); err != nil {
		fail(c, err)
		return
	}
	ctx := c.Request.Context()
	u := currentUser(c)
	cur, err := s.store.GetProvider(ctx, u.Username, c.Param("id"))
	if err != nil {
		fail(c, err)
		return
	}
	if cur.Type == deis.ProviderEC2 {
		creds, err := s.store.ProviderCreds(ctx, u.Username, cur.ID)
		if err != nil {
			fail(c, err)
			return
		}
		for k, v := range req.Creds {
			if v == nil {
				delete(creds, k)
			} else {
				creds[k] = *v
			}
		}
		if _, err := s.verifyProvider(ctx, u, cur.Type, creds); err != nil {
			fail(c, err)
			return
		}
	}
	p, err := s.store.UpdateProviderCreds(ctx, u.Username, cur.ID, req.Creds)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, p)
}

func (s *Server) deleteProvider(c *gin.Context) {
	if err := s.store.DeleteProvider(c.Request.Context(), currentUser(c).Username, c.Param("id")); err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
