package api

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/deis/deis"
	"github.com/deis/deis/slugbuilder"
	"github.com/gin-gonic/gin"
)

// maxSlug bounds an uploaded slug.
const maxSlug = 2 << 30

// uploadSlug stores a slug (the request body, a tar.gz of /app) under its
// sha256 and answers where it is and the Procfile it holds.
func (s *Server) uploadSlug(c *gin.Context) {
	if s.cfg.SlugDir == "" {
		fail(c, notAvailable("storing slugs"))
		return
	}
	if err := os.MkdirAll(s.cfg.SlugDir, 0o700); err != nil {
		fail(c, err)
		return
	}
	tmp, err := os.CreateTemp(s.cfg.SlugDir, "upload-*")
	if err != nil {
		fail(c, err)
		return
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	h := sha256.New()
	body := http.MaxBytesReader(c.Writer, c.Request.Body, maxSlug)
	size, err := io.Copy(io.MultiWriter(tmp, h), body)
	if err != nil {
		fail(c, err)
		return
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		fail(c, err)
		return
	}
	procfile, err := slugbuilder.SlugProcfile(tmp)
	if err != nil {
		fail(c, invalid("the slug is not a tar.gz of an app: %s", err))
		return
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if err := os.Rename(tmp.Name(), filepath.Join(s.cfg.SlugDir, sum+".tgz")); err != nil {
		fail(c, err)
		return
	}
	scheme := "http"
	if c.Request.TLS != nil {
		scheme = "https"
	}
	url := fmt.Sprintf("%s://%s/v1/apps/%s/slugs/%s.tgz", scheme, c.Request.Host, appOf(c).ID, sum)
	c.JSON(http.StatusCreated, deis.Slug{URL: url, SHA256: sum, Size: size, Procfile: procfile})
}

// getSlug serves a stored slug to users who can see the app.
func (s *Server) getSlug(c *gin.Context) {
	name := c.Param("file")
	sum := strings.TrimSuffix(name, ".tgz")
	if !deis.ValidSHA256(sum) || s.cfg.SlugDir == "" {
		fail(c, notFound("slug %q not found", name))
		return
	}
	p := filepath.Join(s.cfg.SlugDir, sum+".tgz")
	if _, err := os.Stat(p); err != nil {
		fail(c, notFound("slug %q not found", name))
		return
	}
	c.File(p)
}
