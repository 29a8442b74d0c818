package api

import (
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/deis/deis"
	"github.com/deis/deis/slugbuilder"
	"github.com/deis/deis/slugs"
	"github.com/gin-gonic/gin"
)

// maxSlug bounds an uploaded slug.
const maxSlug = 2 << 30

// uploadSlug stores a slug (the request body, a tar.gz of /app) under its
// sha256 and answers where it is and the Procfile it holds.
func (s *Server) uploadSlug(c *gin.Context) {
	if s.cfg.Slugs.Dir == "" {
		fail(c, notAvailable("storing slugs"))
		return
	}
	extendDeadlines(c)
	var procfile map[string]string
	body := http.MaxBytesReader(c.Writer, c.Request.Body, maxSlug)
	sum, size, err := s.cfg.Slugs.Put(body, func(f *os.File) (err error) {
		if procfile, err = slugbuilder.SlugProcfile(f); err != nil {
			return invalid("the slug is not a tar.gz of an app: %s", err)
		}
		return nil
	})
	if err != nil {
		fail(c, err)
		return
	}
	if err := s.store.AddAppSlug(c.Request.Context(), appOf(c).ID, sum); err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, deis.Slug{URL: slugs.URL(s.baseURL(c), appOf(c).ID, sum), SHA256: sum, Size: size, Procfile: procfile})
}

// baseURL is where users and nodes reach the API: the advertised URL, else
// this request's scheme and host.
func (s *Server) baseURL(c *gin.Context) string {
	if s.cfg.BaseURL != "" {
		return s.cfg.BaseURL
	}
	scheme := "http"
	if c.Request.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + c.Request.Host
}

// getSlug serves a stored slug of one of the app's builds to users who can
// see the app: a slug is not reached through another app.
func (s *Server) getSlug(c *gin.Context) {
	name := c.Param("file")
	sum := strings.TrimSuffix(name, ".tgz")
	ours, err := s.store.AppUsesSlug(c.Request.Context(), appOf(c).ID, sum)
	if err != nil {
		fail(c, err)
		return
	}
	if s.cfg.Slugs.Dir == "" || !ours || !s.cfg.Slugs.Has(sum) {
		fail(c, notFound("slug %q not found", name))
		return
	}
	extendDeadlines(c)
	c.File(s.cfg.Slugs.Path(sum))
}

// slugTransfer bounds a slug upload or download, beyond the server's
// usual read and write timeouts.
const slugTransfer = 30 * time.Minute

// extendDeadlines gives this request slugTransfer to be read and answered.
func extendDeadlines(c *gin.Context) {
	rc := http.NewResponseController(c.Writer)
	deadline := time.Now().Add(slugTransfer)
	rc.SetReadDeadline(deadline)
	rc.SetWriteDeadline(deadline)
}
