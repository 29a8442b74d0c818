// Package slugs is the controller's slug store, the one owner of its
// layout: each slug (a tar.gz of /app) is a file named by its sha256 in
// one directory, written through a temp file and a rename so a name never
// holds part of a slug, served to nodes at a URL of the controller's API,
// and pruned when no build kept needs it.
package slugs

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/deis/deis"
)

// ErrNotFound is a slug the store does not hold.
var ErrNotFound = errors.New("slug not found")

// Store holds slugs in Dir.
type Store struct {
	Dir string
}

// Path is where the slug sum is (or would be) kept.
func (s Store) Path(sum string) string {
	return filepath.Join(s.Dir, sum+".tgz")
}

// Has reports whether the store holds slug sum.
func (s Store) Has(sum string) bool {
	if !deis.ValidSHA256(sum) {
		return false
	}
	_, err := os.Stat(s.Path(sum))
	return err == nil
}

// Open opens slug sum; ErrNotFound when the store does not hold it.
func (s Store) Open(sum string) (*os.File, error) {
	if !deis.ValidSHA256(sum) {
		return nil, fmt.Errorf("%w: %q is not a sha256", ErrNotFound, sum)
	}
	f, err := os.Open(s.Path(sum))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, sum)
	}
	return f, err
}

// Put stores what r holds under its sha256 and returns it and the size.
// check, if not nil, reads the slug before it is named (it is at the start
// of f) and can refuse it: nothing is stored then.
func (s Store) Put(r io.Reader, check func(f *os.File) error) (sum string, size int64, err error) {
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return "", 0, fmt.Errorf("storing slug: %w", err)
	}
	f, err := os.CreateTemp(s.Dir, ".slug-*")
	if err != nil {
		return "", 0, fmt.Errorf("storing slug: %w", err)
	}
	defer os.Remove(f.Name()) // a no-op once renamed
	defer f.Close()
	h := sha256.New()
	if size, err = io.Copy(io.MultiWriter(f, h), r); err != nil {
		return "", 0, fmt.Errorf("storing slug: %w", err)
	}
	if check != nil {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return "", 0, fmt.Errorf("storing slug: %w", err)
		}
		if err := check(f); err != nil {
			return "", 0, err
		}
	}
	if err := f.Sync(); err != nil {
		return "", 0, fmt.Errorf("storing slug: %w", err)
	}
	sum = hex.EncodeToString(h.Sum(nil))
	if err := os.Rename(f.Name(), s.Path(sum)); err != nil {
		return "", 0, fmt.Errorf("storing slug: %w", err)
	}
	return sum, size, nil
}

// Remove deletes slug sum; a slug already gone is no error.
func (s Store) Remove(sum string) error {
	if !deis.ValidSHA256(sum) {
		return nil
	}
	if err := os.Remove(s.Path(sum)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing slug %s: %w", sum, err)
	}
	return nil
}

// URL is where nodes and users fetch app's slug sum from the controller
// whose API is at base (http://host:port).
func URL(base, app, sum string) string {
	return strings.TrimSuffix(base, "/") + "/v1/apps/" + app + "/slugs/" + sum + ".tgz"
}

// Stored is one slug of the store and when it was last written.
type Stored struct {
	SHA256   string
	Modified time.Time
}

// List returns the slugs the store holds (temp files of writes under way
// are not slugs).
func (s Store) List() ([]Stored, error) {
	ents, err := os.ReadDir(s.Dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("listing slugs: %w", err)
	}
	var out []Stored
	for _, e := range ents {
		sum, ok := strings.CutSuffix(e.Name(), ".tgz")
		if !ok || !deis.ValidSHA256(sum) {
			continue
		}
		if fi, err := e.Info(); err == nil {
			out = append(out, Stored{SHA256: sum, Modified: fi.ModTime()})
		}
	}
	return out, nil
}
