package nodes

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// NodeArchiveDir is where node containers of the docker provider see the
// controller's image archives (read-only): a node loads the runner image
// from there, with no transfer over SSH.
const NodeArchiveDir = "/var/lib/deis/images"

// ArchiveName is the file name of image's archive: deis/runner:abc ->
// deis-runner-abc.tar.
func ArchiveName(image string) string {
	return strings.NewReplacer("/", "-", ":", "-").Replace(image) + ".tar"
}

// archivePrefix is what archives of image's other tags start with.
func archivePrefix(image string) string {
	repo, _, _ := strings.Cut(image, ":")
	return strings.ReplaceAll(repo, "/", "-") + "-"
}

// Archive returns the path of a docker save archive of image in
// ArchiveDir, writing it the first time (to a temp file renamed into
// place, so a reader never sees half of it). Archives of the image's
// other tags are removed then: they are out of date.
func (im *Images) Archive(ctx context.Context, image string) (string, error) {
	if im.ArchiveDir == "" {
		return "", fmt.Errorf("no archive directory for %s", image)
	}
	path := filepath.Join(im.ArchiveDir, ArchiveName(image))
	im.archMu.Lock()
	defer im.archMu.Unlock()
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if err := os.MkdirAll(im.ArchiveDir, 0o755); err != nil {
		return "", fmt.Errorf("image archive dir: %w", err)
	}
	tmp, err := os.CreateTemp(im.ArchiveDir, ".save-*")
	if err != nil {
		return "", fmt.Errorf("archiving %s: %w", image, err)
	}
	defer os.Remove(tmp.Name())
	rc, err := im.Docker.ImageSave(ctx, []string{image})
	if err != nil {
		tmp.Close()
		return "", fmt.Errorf("saving %s: %w", image, err)
	}
	_, err = io.Copy(tmp, rc)
	rc.Close()
	if err == nil {
		err = tmp.Sync() // a crash must not leave a short archive in place
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return "", fmt.Errorf("saving %s: %w", image, err)
	}
	old, _ := filepath.Glob(filepath.Join(im.ArchiveDir, archivePrefix(image)+"*.tar"))
	for _, o := range old {
		if o != path {
			os.Remove(o)
		}
	}
	im.Log.Info("image archived", "image", image, "path", path)
	return path, nil
}

// Save streams image as a tar, for docker load on a node: its archive when
// there is one (saved once, read many times), else a docker save.
func (im *Images) Save(ctx context.Context, image string) (io.ReadCloser, error) {
	if im.ArchiveDir != "" {
		path, err := im.Archive(ctx, image)
		if err == nil {
			return os.Open(path)
		}
		im.Log.Warn("archiving an image: streaming it instead", "image", image, "err", err)
	}
	return im.Docker.ImageSave(ctx, []string{image})
}
