package nodes

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
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/moby/moby/client"
)

// BaseImage is the Debian image that node and build images start FROM.
const BaseImage = "deis/base:bookworm"

// Node image kinds.
const (
	// NodeFull has sshd, its own Docker engine and nginx: a ready node.
	NodeFull = "full"
	// NodeBare has only sshd: a bare host for the bootstrap recipe to fill.
	NodeBare = "bare"
)

var nodePackages = map[string]string{
	NodeFull: "openssh-server docker.io nginx ca-certificates curl iproute2 procps sudo",
	NodeBare: "openssh-server ca-certificates procps sudo",
}

//go:embed image/Dockerfile image/entrypoint.sh image/runner.Dockerfile
var imageFiles embed.FS

// imageAPI is the part of the Docker engine API images need.
type imageAPI interface {
	ImageInspect(ctx context.Context, image string, opts ...client.ImageInspectOption) (client.ImageInspectResult, error)
	ImagePull(ctx context.Context, ref string, opts client.ImagePullOptions) (client.ImagePullResponse, error)
	ImageTag(ctx context.Context, opts client.ImageTagOptions) (client.ImageTagResult, error)
	ImageImport(ctx context.Context, src client.ImageImportSource, ref string, opts client.ImageImportOptions) (client.ImageImportResult, error)
	ImageBuild(ctx context.Context, buildContext io.Reader, opts client.ImageBuildOptions) (client.ImageBuildResult, error)
	ImageSave(ctx context.Context, images []string, opts ...client.ImageSaveOption) (client.ImageSaveResult, error)
}

// Images makes the images the docker provider runs, caching them in the
// engine: a second call finds them and returns at once.
type Images struct {
	Docker imageAPI
	Log    *slog.Logger
	// CABundle is the CA bundle nodes trust (the controller host's, plus any
	// extra CAs), so HTTPS works behind TLS-inspecting proxies.
	CABundle string
	// Mirror is the Debian mirror for debootstrap.
	Mirror string
	// ArchiveDir, when set, keeps a docker save archive of the runner
	// image that node containers mount at NodeArchiveDir.
	ArchiveDir string

	mu     sync.Mutex // one build at a time
	archMu sync.Mutex // one archive write at a time
}

// EnsureBase returns BaseImage, making it when missing: from a local
// debian:bookworm, else a pull of it, else debootstrap + docker import.
func (im *Images) EnsureBase(ctx context.Context) (string, error) {
	im.mu.Lock()
	defer im.mu.Unlock()
	if im.exists(ctx, BaseImage) {
		return BaseImage, nil
	}
	for _, src := range []string{"debian:bookworm"} {
		if !im.exists(ctx, src) {
			im.Log.Info("pulling base image", "image", src)
			if err := im.pull(ctx, src); err != nil {
				im.Log.Info("pull failed, will debootstrap", "image", src, "err", err)
				continue
			}
		}
		if _, err := im.Docker.ImageTag(ctx, client.ImageTagOptions{Source: src, Target: BaseImage}); err != nil {
			return "", fmt.Errorf("tagging %s as %s: %w", src, BaseImage, err)
		}
		return BaseImage, nil
	}
	return BaseImage, im.debootstrap(ctx)
}

func (im *Images) exists(ctx context.Context, ref string) bool {
	_, err := im.Docker.ImageInspect(ctx, ref)
	return err == nil
}

func (im *Images) pull(ctx context.Context, ref string) error {
	resp, err := im.Docker.ImagePull(ctx, ref, client.ImagePullOptions{})
	if err != nil {
		return err
	}
	defer resp.Close()
	return readProgress(resp, nil)
}

func (im *Images) debootstrap(ctx context.Context) error {
	if _, err := exec.LookPath("debootstrap"); err != nil {
		return errors.New("no base image: debian:bookworm is not local, cannot be pulled, and debootstrap is not installed")
	}
	dir, err := os.MkdirTemp("", "deis-rootfs-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	mirror := im.Mirror
	if mirror == "" {
		mirror = "http://deb.debian.org/debian"
	}
	im.Log.Info("building base image with debootstrap (about a minute)", "mirror", mirror)
	cmd := exec.CommandContext(ctx, "debootstrap", "--variant=minbase", "bookworm", dir, mirror)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("debootstrap: %w: %s", err, lastLine(out))
	}
	tr := exec.CommandContext(ctx, "tar", "-C", dir, "-c", ".")
	stdout, err := tr.StdoutPipe()
	if err != nil {
		return err
	}
	if err := tr.Start(); err != nil {
		return fmt.Errorf("tar of rootfs: %w", err)
	}
	res, err := im.Docker.ImageImport(ctx, client.ImageImportSource{Source: stdout, SourceName: "-"}, BaseImage, client.ImageImportOptions{})
	if err != nil {
		tr.Wait()
		return fmt.Errorf("importing base image: %w", err)
	}
	defer res.Close()
	if err := readProgress(res, nil); err != nil {
		return fmt.Errorf("importing base image: %w", err)
	}
	return tr.Wait()
}

// EnsureNode returns the node image of kind (NodeFull or NodeBare), building
// it FROM the base image when its content changed. The tag names a hash of
// everything that goes into it.
func (im *Images) EnsureNode(ctx context.Context, kind string) (string, error) {
	pkgs, ok := nodePackages[kind]
	if !ok {
		return "", fmt.Errorf("unknown node image kind %q", kind)
	}
	return im.ensure(ctx, "node-"+kind, "Dockerfile", pkgs)
}

// EnsureRunner returns the runner image slugs run in, building it when its
// content changed, and archives it when there is an ArchiveDir, so that
// docker nodes find it there. The archive is a shortcut: when it cannot be
// written, nodes get the image streamed instead.
func (im *Images) EnsureRunner(ctx context.Context) (string, error) {
	tag, err := im.ensure(ctx, "runner", "runner.Dockerfile", "")
	if err != nil || im.ArchiveDir == "" {
		return tag, err
	}
	if _, err := im.Archive(ctx, tag); err != nil {
		im.Log.Warn("archiving the runner image: nodes will have it streamed", "image", tag, "err", err)
	}
	return tag, nil
}

func (im *Images) ensure(ctx context.Context, name, dockerfile, pkgs string) (string, error) {
	base, err := im.EnsureBase(ctx)
	if err != nil {
		return "", err
	}
	buildCtx, sum, err := im.nodeContext()
	if err != nil {
		return "", err
	}
	h := sha256.Sum256([]byte(sum + name + dockerfile + pkgs + base))
	tag := "deis/" + name + ":" + hex.EncodeToString(h[:6])
	im.mu.Lock()
	defer im.mu.Unlock()
	if im.exists(ctx, tag) {
		return tag, nil
	}
	im.Log.Info("building image", "image", tag)
	res, err := im.Docker.ImageBuild(ctx, bytes.NewReader(buildCtx), client.ImageBuildOptions{
		Tags: []string{tag}, Remove: true, ForceRemove: true, Dockerfile: dockerfile,
		BuildArgs: map[string]*string{"BASE": &base, "PACKAGES": &pkgs},
		Labels:    map[string]string{"deis.image": name},
	})
	if err != nil {
		return "", fmt.Errorf("building %s: %w", tag, err)
	}
	defer res.Body.Close()
	var out bytes.Buffer
	if err := readProgress(res.Body, &out); err != nil {
		return "", fmt.Errorf("building %s: %w", tag, err)
	}
	return tag, nil
}

// nodeContext is the tar build context of the node image and a hash of it.
func (im *Images) nodeContext() ([]byte, string, error) {
	files := map[string][]byte{}
	for _, name := range []string{"Dockerfile", "entrypoint.sh", "runner.Dockerfile"} {
		b, err := imageFiles.ReadFile("image/" + name)
		if err != nil {
			return nil, "", err
		}
		files[name] = b
	}
	ca, err := os.ReadFile(im.caBundle())
	if err != nil {
		return nil, "", fmt.Errorf("reading CA bundle: %w", err)
	}
	files["ca-certificates.crt"] = ca
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	h := sha256.New()
	for _, name := range []string{"Dockerfile", "entrypoint.sh", "runner.Dockerfile", "ca-certificates.crt"} {
		b := files[name]
		h.Write([]byte(name))
		h.Write(b)
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b))}); err != nil {
			return nil, "", err
		}
		tw.Write(b)
	}
	if err := tw.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), hex.EncodeToString(h.Sum(nil)), nil
}

func (im *Images) caBundle() string {
	if im.CABundle != "" {
		return im.CABundle
	}
	return filepath.Join("/etc/ssl/certs", "ca-certificates.crt")
}

// readProgress drains a Docker JSON progress stream, copying build output
// to w (if not nil) and returning the first error it reports.
func readProgress(r io.Reader, w io.Writer) error {
	dec := json.NewDecoder(r)
	for {
		var m struct {
			Stream      string `json:"stream"`
			Error       string `json:"error"`
			ErrorDetail struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if err := dec.Decode(&m); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("reading docker progress: %w", err)
		}
		if m.Error != "" {
			return errors.New(strings.TrimSpace(m.Error))
		}
		if w != nil && m.Stream != "" {
			io.WriteString(w, m.Stream)
		}
	}
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}
