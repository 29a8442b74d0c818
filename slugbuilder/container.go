package slugbuilder

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"sort"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// Paths in the build container (image/build.sh).
const (
	buildDir  = "/tmp/build"
	outDir    = "/tmp/out"
	caInImage = "/etc/ssl/certs/ca-certificates.crt"
	buildCmd  = "/usr/local/bin/deis-slug-build"
)

// removeTimeout bounds removing a build container, which runs on a context
// of its own: it must happen after the build's was cancelled too.
const removeTimeout = 30 * time.Second

// runSpec is one build container's content.
type runSpec struct {
	image string
	req   Request
	setup []byte // a tar unpacked at / before the build starts
	cache string // the app's cache dir on the engine's host, or ""
}

// run builds in a new container and collects the slug, removing the
// container whatever happens.
func (b *Builder) run(ctx context.Context, spec runSpec, out io.Writer, log *slog.Logger) (Result, error) {
	if spec.req.Source == nil {
		return Result{}, errors.New("no source to build")
	}
	cfg, hc := b.containerConfig(spec)
	name := "deis-build-" + spec.req.App + "-" + randomHex(4)
	cr, err := b.Docker.ContainerCreate(ctx, client.ContainerCreateOptions{Name: name, Config: cfg, HostConfig: hc})
	if err != nil {
		return Result{}, fmt.Errorf("creating build container: %w", err)
	}
	id := cr.ID
	log = log.With("container", name)
	defer b.remove(id, log)

	if _, err := b.Docker.CopyToContainer(ctx, id, client.CopyToContainerOptions{
		DestinationPath: "/", Content: bytes.NewReader(spec.setup),
	}); err != nil {
		return Result{}, fmt.Errorf("copying config and CAs into the build container: %w", err)
	}
	if _, err := b.Docker.CopyToContainer(ctx, id, client.CopyToContainerOptions{
		DestinationPath: buildDir, Content: spec.req.Source,
	}); err != nil {
		return Result{}, fmt.Errorf("copying the source into the build container: %w", err)
	}
	if _, err := b.Docker.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		return Result{}, fmt.Errorf("starting build container: %w", err)
	}
	lw := &lastLine{w: out}
	if err := b.stream(ctx, id, lw); err != nil {
		return Result{}, err
	}
	code, err := b.wait(ctx, id)
	if err != nil {
		return Result{}, err
	}
	if code != 0 {
		line := lw.Line()
		if code == 137 {
			line = fmt.Sprintf("The build was killed (exit 137): out of memory? The limit is %.1f GiB", float64(b.memory())/(1<<30))
			fmt.Fprintf(out, " !     %s\n", line)
		}
		return Result{}, &BuildError{Line: line, ExitCode: int(code)}
	}
	res, err := b.collect(ctx, id)
	var pe *procfileError
	if errors.As(err, &pe) {
		// The app's own mistake: the pusher sees it like a buildpack's.
		fmt.Fprintf(out, " !     %s\n", pe.msg)
		return Result{}, &BuildError{Line: pe.msg}
	}
	return res, err
}

// containerConfig is the build container's: no privileges beyond what
// file ownership needs, limits, the default bridge network (builds
// download modules), the app's cache at /cache.
func (b *Builder) containerConfig(spec runSpec) (*container.Config, *container.HostConfig) {
	env := []string{
		"SOURCE_VERSION=" + spec.req.SHA,
		// One bundle for every TLS stack the buildpacks use.
		"SSL_CERT_FILE=" + caInImage, "NODE_EXTRA_CA_CERTS=" + caInImage,
		"GIT_SSL_CAINFO=" + caInImage, "PIP_CERT=" + caInImage,
	}
	labels := map[string]string{}
	for k, v := range b.Labels {
		labels[k] = v
	}
	labels[LabelBuild], labels[LabelBuild+".sha"] = spec.req.App, spec.req.SHA
	cfg := &container.Config{
		Image:      spec.image,
		Cmd:        []string{buildCmd},
		Env:        env,
		WorkingDir: buildDir,
		Labels:     labels,
	}
	pids := int64(4096)
	hc := &container.HostConfig{
		NetworkMode: "bridge",
		CapDrop:     []string{"ALL"},
		CapAdd:      []string{"CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "SETGID", "SETUID"},
		SecurityOpt: []string{"no-new-privileges"},
		Resources: container.Resources{
			Memory: b.memory(), MemorySwap: b.memory(), NanoCPUs: int64(b.cpus() * 1e9), PidsLimit: &pids,
		},
		// ContainerLogs needs a log driver that can be read back.
		LogConfig: container.LogConfig{Type: "json-file"},
	}
	if spec.cache != "" {
		hc.Binds = []string{spec.cache + ":/cache"}
	}
	return cfg, hc
}

// stream copies the build's output to w as it comes, until it exits.
func (b *Builder) stream(ctx context.Context, id string, w io.Writer) error {
	logs, err := b.Docker.ContainerLogs(ctx, id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Follow: true})
	if err != nil {
		return fmt.Errorf("reading build output: %w", err)
	}
	defer logs.Close()
	_, err = stdcopy.StdCopy(w, w, logs)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		return fmt.Errorf("reading build output: %w", err)
	}
	return nil
}

// wait returns the build container's exit code.
func (b *Builder) wait(ctx context.Context, id string) (int64, error) {
	w := b.Docker.ContainerWait(ctx, id, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	select {
	case r := <-w.Result:
		if r.Error != nil && r.Error.Message != "" {
			return 0, fmt.Errorf("waiting for the build: %s", r.Error.Message)
		}
		return r.StatusCode, nil
	case err := <-w.Error:
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return 0, fmt.Errorf("waiting for the build: %w", err)
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// collect copies the slug out of the build container into SlugDir.
func (b *Builder) collect(ctx context.Context, id string) (Result, error) {
	cf, err := b.Docker.CopyFromContainer(ctx, id, client.CopyFromContainerOptions{SourcePath: outDir})
	if err != nil {
		return Result{}, fmt.Errorf("copying the slug out: %w", err)
	}
	defer cf.Content.Close()
	var res Result
	tr := tar.NewReader(cf.Content)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return Result{}, fmt.Errorf("copying the slug out: %w", err)
		}
		switch path.Base(hdr.Name) {
		case "slug.tgz":
			if res.Slug, res.SHA256, res.Size, err = saveSlug(b.slugDir(), tr); err != nil {
				return Result{}, err
			}
		case "buildpack":
			bp, _ := io.ReadAll(io.LimitReader(tr, 4096))
			res.Buildpack = string(bytes.TrimSpace(bp))
		}
	}
	if res.Slug == "" {
		return Result{}, errors.New("the build made no slug")
	}
	if res.Procfile, err = slugProcfile(res.Slug); err != nil {
		os.Remove(res.Slug)
		return Result{}, &procfileError{err.Error()}
	}
	return res, nil
}

// procfileError is a slug whose Procfile does not parse.
type procfileError struct{ msg string }

func (e *procfileError) Error() string { return e.msg }

// remove force-removes the build container: it kills the build if it
// still runs (timeout, cancellation).
func (b *Builder) remove(id string, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), removeTimeout)
	defer cancel()
	if _, err := b.Docker.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
		log.Warn("removing build container", "err", err)
	}
}

// setupTar is what goes into the build container at / before it starts:
// the app's config as ENV_DIR (/tmp/env/<KEY>), the host's CA bundle over
// the image's, extra CAs for build.sh to append (/tmp/ca/extra.crt), and
// the custom buildpacks (/buildpacks/<name>).
func (b *Builder) setupTar(req Request) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, mode int64, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: int64(len(data))}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	keys := make([]string, 0, len(req.Env))
	for k := range req.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := add("tmp/env/"+k, 0o600, []byte(req.Env[k])); err != nil {
			return nil, err
		}
	}
	bundle, extra, err := b.caCerts()
	if err != nil {
		return nil, err
	}
	if bundle != nil {
		if err := add(caInImage[1:], 0o644, bundle); err != nil {
			return nil, err
		}
	}
	if extra != nil {
		if err := tw.WriteHeader(&tar.Header{Name: "tmp/ca/", Typeflag: tar.TypeDir, Mode: 0o755}); err != nil {
			return nil, err
		}
		if err := add("tmp/ca/extra.crt", 0o644, extra); err != nil {
			return nil, err
		}
	}
	if b.CustomBuildpacks != "" {
		if err := addDir(tw, b.CustomBuildpacks, "buildpacks"); err != nil {
			return nil, fmt.Errorf("custom buildpacks: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// caCerts reads the CA bundle (nil when the default one is missing: the
// image's stays) and the extra CAs concatenated (nil when none).
func (b *Builder) caCerts() (bundle, extra []byte, err error) {
	p := b.CABundle
	if p == "" {
		p = DefaultCABundle
	}
	bundle, err = os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) && b.CABundle == "" {
		bundle, err = nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("reading CA bundle: %w", err)
	}
	for _, f := range b.ExtraCACerts {
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, fmt.Errorf("reading extra CA certificate: %w", err)
		}
		if !bytes.Contains(pem, []byte("-----BEGIN CERTIFICATE-----")) {
			return nil, nil, fmt.Errorf("extra CA certificate %s holds no PEM certificate", f)
		}
		extra = append(extra, '\n')
		extra = append(extra, pem...)
	}
	return bundle, extra, nil
}

// addDir adds the tree at dir to tw under prefix: directories, regular
// files and symlinks, with their modes.
func addDir(tw *tar.Writer, dir, prefix string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		} else if !info.Mode().IsRegular() && !info.IsDir() {
			return nil
		}
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		hdr.Name = path.Join(prefix, filepath.ToSlash(rel))
		if info.IsDir() {
			hdr.Name += "/"
		}
		hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
