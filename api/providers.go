package api

import (
	"net/http"

	"github.com/deis/deis/client"
	"github.com/deis/deis/store"
	"github.com/gin-gonic/gin"
)

// providerTypes are the provider types the controller knows, and whether
// their back end is built.
var providerTypes = map[string]bool{
	client.ProviderStatic: true,
	client.ProviderDocker: true,
	client.ProviderEC2:    false,
}

func (s *Server) listProviders(c *gin.Context) {
	list(c, func(p store.PageReq) ([]client.Provider, int, error) {
		return s.store.ListProviders(c.Request.Context(), currentUser(c).Username, p)
	})
}

// validateNames checks the keys of credentials, flavor params and the like.
func validateNames[V any](what string, m map[string]V) error {
	for k := range m {
		if !client.ValidEnvName(k) {
			return invalid("%s name %q must be letters, digits and '_', not starting with a digit", what, k)
		}
	}
	return nil
}

func (s *Server) createProvider(c *gin.Context) {
	var req client.ProviderCreateRequest
	if err := decode(c, &req); err != nil {
		fail(c, err)
		return
	}
	built, known := providerTypes[req.Type]
	switch {
	case !client.ValidID(req.ID):
		fail(c, invalid("provider id %q must be 1 to 63 of a-z, 0-9 and '-'", req.ID))
		return
	case !known:
		fail(c, invalid("provider type %q is unknown: use static, docker or ec2", req.Type))
		return
	case !built:
		fail(c, notAvailable("the "+req.Type+" provider"))
		return
	}
	if err := validateNames("credential", req.Creds); err != nil {
		fail(c, err)
		return
	}
	p := client.Provider{ID: req.ID, Owner: currentUser(c).Username, Type: req.Type}
	p, err := s.store.CreateProvider(c.Request.Context(), p, req.Creds)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, p)
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
	var req client.ProviderUpdateRequest
	if err := decode(c, &req); err != nil {
		fail(c, err)
		return
	}
	if err := validateNames("credential", req.Creds); err != nil {
		fail(c, err)
		return
	}
	p, err := s.store.UpdateProviderCreds(c.Request.Context(), currentUser(c).Username, c.Param("id"), req.Creds)
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
