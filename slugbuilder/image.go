package slugbuilder

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/moby/moby/client"
)

// builderPackages are the Debian packages buildpacks need: curl and unzip
// for the Go toolchain, git for BUILDPACK_URL, python3 (its interpreter is
// vendored into slugs, pip installs requirements), nodejs and npm,
// build-essential for native npm and pip modules, busybox-static for the
// static buildpack's web server and patchelf to vendor shared libraries.
// tar and gzip are Essential, hence already in the base image.
const builderPackages = "ca-certificates curl git unzip xz-utils python3 python3-pip nodejs npm " +
	"build-essential busybox-static patchelf"

// The builder image: image/ (Dockerfile, the driver build.sh and the shell
// helpers buildpacks source) and buildpacks/<name>/bin/{detect,compile,release}.
//
//go:embed image buildpacks
var imageFiles embed.FS

// imageFile is one file of the builder image's build context.
type imageFile struct {
	name string // path in the build context
	mode int64
	data []byte
}

// contextFiles lists the build context in a fixed order: the image's files
// at the root, the buildpacks under buildpacks/. Scripts are executable.
func contextFiles() ([]imageFile, error) {
	var files []imageFile
	err := fs.WalkDir(imageFiles, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := imageFiles.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "image/")
		mode := int64(0o644)
		if path.Base(path.Dir(p)) == "bin" || strings.HasSuffix(p, "build.sh") {
			mode = 0o755
		}
		files = append(files, imageFile{name, mode, data})
		return nil
	})
	return files, err
}

// buildContext is the tar build context of the builder image and a hash of
// everything that goes into the image.
func buildContext(base string) ([]byte, string, error) {
	files, err := contextFiles()
	if err != nil {
		return nil, "", err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	h := sha256.New()
	fmt.Fprintf(h, "base %s\npackages %s\n", base, builderPackages)
	for _, f := range files {
		fmt.Fprintf(h, "%s %o %d\n", f.name, f.mode, len(f.data))
		h.Write(f.data)
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data))}); err != nil {
			return nil, "", err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, "", err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), hex.EncodeToString(h.Sum(nil)), nil
}

// EnsureImage returns the builder image, deis/builder:<hash of its
// content>, building it FROM the base image when it is missing. The first
// build takes a few minutes (Debian packages); later calls find it.
// Build calls it; a controller may call it at start to warm up.
func (b *Builder) EnsureImage(ctx context.Context) (string, error) {
	return b.ensureImage(ctx, io.Discard)
}

// ensureImage is EnsureImage telling out when it must build the image.
func (b *Builder) ensureImage(ctx context.Context, out io.Writer) (string, error) {
	b.imageMu.Lock()
	defer b.imageMu.Unlock()
	base, err := b.Images.EnsureBase(ctx)
	if err != nil {
		return "", fmt.Errorf("base image: %w", err)
	}
	// The base image's ID goes into the hash: a new base makes a new builder.
	bi, err := b.Docker.ImageInspect(ctx, base)
	if err != nil {
		return "", fmt.Errorf("inspecting base image %s: %w", base, err)
	}
	buildCtx, sum, err := buildContext(base + "@" + bi.ID)
	if err != nil {
		return "", fmt.Errorf("builder image context: %w", err)
	}
	tag := "deis/builder:" + sum[:12]
	if _, err := b.Docker.ImageInspect(ctx, tag); err == nil {
		return tag, nil
	}
	b.logger().Info("building image", "image", tag)
	fmt.Fprintf(out, "-----> Preparing the build image %s (once per engine: a few minutes)\n", tag)
	res, err := b.Docker.ImageBuild(ctx, bytes.NewReader(buildCtx), client.ImageBuildOptions{
		Tags: []string{tag}, Remove: true, ForceRemove: true, Dockerfile: "Dockerfile",
		BuildArgs: map[string]*string{"BASE": &base, "PACKAGES": ptr(builderPackages)},
		Labels:    map[string]string{"deis.image": "builder"},
	})
	if err != nil {
		return "", fmt.Errorf("building %s: %w", tag, err)
	}
	defer res.Body.Close()
	if err := readProgress(res.Body); err != nil {
		return "", fmt.Errorf("building %s: %w", tag, err)
	}
	b.logger().Info("image built", "image", tag)
	return tag, nil
}

func ptr[T any](v T) *T { return &v }

// readProgress drains a Docker JSON progress stream and returns the error
// it reports, if any, with the last lines of output before it.
func readProgress(r io.Reader) error {
	dec := json.NewDecoder(r)
	var tail []string
	for {
		var m struct {
			Stream string `json:"stream"`
			Error  string `json:"error"`
		}
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("reading docker progress: %w", err)
		}
		if m.Error != "" {
			return fmt.Errorf("%s (after: %s)", strings.TrimSpace(m.Error), strings.Join(tail, " | "))
		}
		if line := strings.TrimSpace(m.Stream); line != "" {
			tail = append(tail, line)
			if len(tail) > 5 {
				tail = tail[1:]
			}
		}
	}
}
