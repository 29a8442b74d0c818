package api

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/mail"
	"regexp"
	"strings"
	"time"

	"github.com/deis/deis"
	"github.com/deis/deis/store"
	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/bcrypt"
)

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

func validateRegistration(r deis.RegisterRequest) error {
	switch {
	case !usernameRE.MatchString(r.Username):
		return invalid("username %q must be 1 to 63 of a-z, 0-9, '.', '_' or '-', starting with a letter or digit", r.Username)
	case len(r.Password) < 8:
		return invalid("password must be at least 8 characters")
	case len(r.Password) > 72:
		return invalid("password must be at most 72 bytes")
	}
	if r.Email != "" {
		if a, err := mail.ParseAddress(r.Email); err != nil || a.Address != r.Email {
			return invalid("email %q is not a valid address", r.Email)
		}
	}
	return nil
}

func (s *Server) register(c *gin.Context) {
	var req deis.RegisterRequest
	if err := decode(c, &req); err != nil {
		fail(c, err)
		return
	}
	if err := validateRegistration(req); err != nil {
		fail(c, err)
		return
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(req.Password), bcrypt.DefaultCost)
	if err != nil {
		fail(c, err)
		return
	}
	ctx := c.Request.Context()
	u, err := s.store.CreateUser(ctx, deis.User{Username: req.Username, Email: req.Email}, string(hash))
	if errors.Is(err, store.ErrConflict) {
		fail(c, conflict("username %q is taken", req.Username))
		return
	} else if err != nil {
		fail(c, err)
		return
	}
	if err := s.seed(c, u.Username); err != nil {
		fail(c, err)
		return
	}
	logger(c).Info("user registered", "user", u.Username, "admin", u.Admin)
	c.JSON(http.StatusCreated, u)
}

// seed gives a new user the providers and flavors every user starts with:
// static (machines the user already has) and, when the controller reaches a
// Docker engine, docker (node containers on it), each with a flavor of the
// same name.
func (s *Server) seed(c *gin.Context, username string) error {
	ctx := c.Request.Context()
	types := []string{deis.ProviderStatic}
	if s.cfg.Docker {
		types = append(types, deis.ProviderDocker)
	}
	for _, typ := range types {
		p := deis.Provider{ID: typ, Owner: username, Type: typ}
		if _, err := s.store.CreateProvider(ctx, p, nil); err != nil {
			return err
		}
		f := deis.Flavor{ID: typ, Owner: username, Provider: typ, Params: map[string]string{}}
		if _, err := s.store.CreateFlavor(ctx, f); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) login(c *gin.Context) {
	var req deis.LoginRequest
	if err := decode(c, &req); err != nil {
		fail(c, err)
		return
	}
	ctx := c.Request.Context()
	u, hash, err := s.store.GetUser(ctx, req.Username)
	if errors.Is(err, store.ErrNotFound) {
		// Spend the same time as a wrong password, so usernames do not leak.
		bcrypt.CompareHashAndPassword(dummyHash, []byte(req.Password))
		fail(c, unauthorized("wrong username or password"))
		return
	} else if err != nil {
		fail(c, err)
		return
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(req.Password)) != nil {
		fail(c, unauthorized("wrong username or password"))
		return
	}
	var raw [32]byte
	rand.Read(raw[:])
	token := hex.EncodeToString(raw[:])
	expires := s.cfg.Now().Add(s.cfg.TokenTTL).UTC()
	if err := s.store.CreateToken(ctx, u.Username, hashToken(token), expires); err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, deis.Token{Token: token, Username: u.Username, Expires: expires})
}

var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("not a password"), bcrypt.DefaultCost)

func hashToken(t string) string {
	sum := sha256.Sum256([]byte(t))
	return hex.EncodeToString(sum[:])
}

// authenticate resolves the bearer token to a user, or answers 401.
func (s *Server) authenticate(c *gin.Context) {
	h := c.GetHeader("Authorization")
	token, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || token == "" {
		fail(c, unauthorized("missing bearer token: run deis login"))
		return
	}
	hash, now := hashToken(token), s.cfg.Now()
	u, ok := s.auth.get(hash, now)
	if !ok {
		var expires time.Time
		var err error
		u, expires, err = s.store.UserForToken(c.Request.Context(), hash, now)
		if errors.Is(err, store.ErrNotFound) {
			fail(c, unauthorized("token is unknown or expired: run deis login"))
			return
		} else if err != nil {
			fail(c, err)
			return
		}
		s.auth.put(hash, u, expires, now)
	}
	c.Set("user", u)
	c.Set("username", u.Username)
	c.Set("token", token)
	c.Next()
}

func currentUser(c *gin.Context) deis.User { return c.MustGet("user").(deis.User) }

func viewer(c *gin.Context) store.Viewer {
	u := currentUser(c)
	return store.Viewer{Username: u.Username, Admin: u.Admin}
}

func (s *Server) logout(c *gin.Context) {
	hash := hashToken(c.GetString("token"))
	s.auth.evict(hash)
	if err := s.store.DeleteToken(c.Request.Context(), hash); err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) whoami(c *gin.Context) { c.JSON(http.StatusOK, currentUser(c)) }
