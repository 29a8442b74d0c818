package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/deis/deis"
	"github.com/deis/deis/store"
	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/ssh"
)

func (s *Server) listKeys(c *gin.Context) {
	list(c, func(p store.PageReq) ([]deis.Key, int, error) {
		return s.store.ListKeys(c.Request.Context(), currentUser(c).Username, p)
	})
}

func (s *Server) createKey(c *gin.Context) {
	var req deis.KeyCreateRequest
	if err := decode(c, &req); err != nil {
		fail(c, err)
		return
	}
	pub, comment, _, rest, err := ssh.ParseAuthorizedKey([]byte(req.Public))
	if err != nil || strings.TrimSpace(string(rest)) != "" {
		fail(c, invalid("public key is not one OpenSSH public key line"))
		return
	}
	if req.ID == "" {
		req.ID = comment
	}
	if !deis.ValidID(req.ID) {
		fail(c, invalid("key id %q must be 1 to 63 of a-z, 0-9 and '-'", req.ID))
		return
	}
	k := deis.Key{
		ID:          req.ID,
		Owner:       currentUser(c).Username,
		Public:      strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub))),
		Fingerprint: ssh.FingerprintSHA256(pub),
	}
	k, err = s.store.CreateKey(c.Request.Context(), k)
	if errors.Is(err, store.ErrConflict) {
		fail(c, conflict("key %q or a key with fingerprint %s already exists", req.ID, ssh.FingerprintSHA256(pub)))
		return
	} else if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, k)
}

func (s *Server) getKey(c *gin.Context) {
	k, err := s.store.GetKey(c.Request.Context(), currentUser(c).Username, c.Param("id"))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, k)
}

func (s *Server) deleteKey(c *gin.Context) {
	if err := s.store.DeleteKey(c.Request.Context(), currentUser(c).Username, c.Param("id")); err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
