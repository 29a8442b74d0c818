package recipes

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// SlugDir is where a node keeps slugs: <sha256>.tgz, plus an empty
// <sha256>.ok once the file's checksum was verified. The controller may
// upload a slug there over SFTP before it runs the agent; the agent
// downloads the ones that are missing.
const SlugDir = "/var/lib/deis/slugs"

// SlugPath is where the slug with that sha256 lives in dir.
func SlugPath(dir, sha string) string { return filepath.Join(dir, sha+".tgz") }

// slugMarker is the file saying the slug at SlugPath was verified.
func slugMarker(dir, sha string) string { return filepath.Join(dir, sha+".ok") }

// errChecksum is a slug whose content does not have the expected sha256.
var errChecksum = errors.New("checksum mismatch")

// slugResource ensures one slug and reports it.
func (r *Runtime) slugResource(ctx context.Context, ref SlugRef) ResourceResult {
	start := time.Now()
	res := ResourceResult{Resource: "slug:" + shortSHA(ref.SHA256), Result: Unchanged}
	msg, err := r.ensureSlug(ctx, ref)
	switch {
	case err != nil:
		res.Result, res.Message = Failed, oneLine(err.Error())
		r.logger().Warn("slug failed", "sha256", ref.SHA256, "err", err)
	case msg != "":
		res.Result, res.Message = Changed, msg
		r.logger().Info("slug ready", "sha256", ref.SHA256, "how", msg)
	}
	res.Duration = time.Since(start)
	return res
}

// ensureSlug makes SlugPath hold the verified slug. It says what it did
// ("verified", "downloaded"), or "" when the slug was already there.
func (r *Runtime) ensureSlug(ctx context.Context, ref SlugRef) (string, error) {
	path, marker := SlugPath(r.SlugDir, ref.SHA256), slugMarker(r.SlugDir, ref.SHA256)
	_, err := os.Stat(path)
	switch {
	case err == nil && exists(marker):
		return "", nil
	case err == nil:
		// Placed by the controller, or left by an older agent: verify once.
		sum, err := FileSHA256(path)
		if err != nil {
			return "", err
		}
		if sum == ref.SHA256 {
			return "verified", os.WriteFile(marker, nil, 0o644)
		}
		r.logger().Warn("slug on the node has the wrong checksum, fetching it again", "sha256", ref.SHA256, "got", sum)
		if err := os.Remove(path); err != nil {
			return "", err
		}
	case !errors.Is(err, fs.ErrNotExist):
		return "", err
	}
	if err := os.Remove(marker); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if err := os.MkdirAll(r.SlugDir, 0o755); err != nil {
		return "", err
	}
	if err := r.download(ctx, ref, path); err != nil {
		return "", fmt.Errorf("fetching %s: %w", redactURL(ref.URL), err)
	}
	return "downloaded", os.WriteFile(marker, nil, 0o644)
}

// download writes the slug at ref.URL to path, through a temporary file in
// the same directory renamed only once its sha256 is the expected one.
func (r *Runtime) download(ctx context.Context, ref SlugRef, path string) (err error) {
	body, err := r.openSlug(ctx, ref.URL)
	if err != nil {
		return err
	}
	defer body.Close()
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+shortSHA(ref.SHA256)+"-*.part")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tmp, h), body); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != ref.SHA256 {
		return fmt.Errorf("%w: got sha256 %s, want %s", errChecksum, got, ref.SHA256)
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// openSlug opens an http, https or file URL.
func (r *Runtime) openSlug(ctx context.Context, raw string) (io.ReadCloser, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	switch u.Scheme {
	case "file":
		return os.Open(u.Path)
	case "http", "https":
	default:
		return nil, fmt.Errorf("unsupported URL scheme %q", u.Scheme)
	}
	hc := r.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Minute}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			ue.URL = redactURL(ue.URL)
		}
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("server answered %s", resp.Status)
	}
	return resp.Body, nil
}

// redactURL drops a URL's query and user info (slug URLs carry a token).
// Anything not a URL is returned as it is.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return raw
	}
	u.RawQuery, u.User, u.Fragment = "", nil, ""
	return u.String()
}

// FileSHA256 is the hex sha256 of a file.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
