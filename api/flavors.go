package api

import (
	"errors"
	"net/http"

	"github.com/deis/deis"
	"github.com/deis/deis/store"
	"github.com/gin-gonic/gin"
)

func (s *Server) listFlavors(c *gin.Context) {
	list(c, func(p store.PageReq) ([]deis.Flavor, int, error) {
		return s.store.ListFlavors(c.Request.Context(), currentUser(c).Username, p)
	})
}

func (s *Server) createFlavor(c *gin.Context) {
	var req deis.FlavorCreateRequest
	if err := decode(c, &req); err != nil {
		fail(c, err)
		return
	}
	if !deis.ValidID(req.ID) {
		fail(c, invalid("flavor id %q must be 1 to 63 of a-z, 0-9 and '-'", req.ID))
		return
	}
	if err := validateNames("param", req.Params); err != nil {
		fail(c, err)
		return
	}
	ctx := c.Request.Context()
	owner := currentUser(c).Username
	if _, err := s.store.GetProvider(ctx, owner, req.Provider); errors.Is(err, store.ErrNotFound) {
		fail(c, invalid("provider %q does not exist: see deis providers:list", req.Provider))
		return
	} else if err != nil {
		fail(c, err)
		return
	}
	if req.Params == nil {
		req.Params = map[string]string{}
	}
	f, err := s.store.CreateFlavor(ctx, deis.Flavor{ID: req.ID, Owner: owner, Provider: req.Provider, Params: req.Params})
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, f)
}

func (s *Server) getFlavor(c *gin.Context) {
	f, err := s.store.GetFlavor(c.Request.Context(), currentUser(c).Username, c.Param("id"))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, f)
}

func (s *Server) updateFlavor(c *gin.Context) {
	var req deis.FlavorUpdateRequest
	if err := decode(c, &req); err != nil {
		fail(c, err)
		return
	}
	if err := validateNames("param", req.Params); err != nil {
		fail(c, err)
		return
	}
	ctx := c.Request.Context()
	owner := currentUser(c).Username
	if _, err := s.store.GetFlavor(ctx, owner, c.Param("id")); err != nil {
		fail(c, err)
		return
	}
	if req.Provider != nil {
		if _, err := s.store.GetProvider(ctx, owner, *req.Provider); errors.Is(err, store.ErrNotFound) {
			fail(c, invalid("provider %q does not exist: see deis providers:list", *req.Provider))
			return
		}
	}
	f, err := s.store.UpdateFlavor(ctx, owner, c.Param("id"), func(f *deis.Flavor) error {
		req.Apply(f)
		return nil
	})
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, f)
}

func (s *Server) deleteFlavor(c *gin.Context) {
	if err := s.store.DeleteFlavor(c.Request.Context(), currentUser(c).Username, c.Param("id")); err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
