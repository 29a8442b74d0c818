package slugbuilder

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/deis/deis"
	"github.com/moby/moby/client"
)

// Defaults of the Builder's zero fields.
const (
	DefaultCABundle = "/etc/ssl/certs/ca-certificates.crt"
	DefaultTimeout  = 15 * time.Minute
	DefaultMemory   = 2 << 30 // bytes
	DefaultCPUs     = 1.5
)

// LabelBuild labels build containers with the app they build.
const LabelBuild = "deis.build"

// dockerAPI is the part of the Docker engine API the builder uses.
type dockerAPI interface {
	ImageInspect(ctx context.Context, image string, opts ...client.ImageInspectOption) (client.ImageInspectResult, error)
	ImageBuild(ctx context.Context, buildContext io.Reader, opts client.ImageBuildOptions) (client.ImageBuildResult, error)
	ContainerCreate(ctx context.Context, opts client.ContainerCreateOptions) (client.ContainerCreateResult, error)
	CopyToContainer(ctx context.Context, id string, opts client.CopyToContainerOptions) (client.CopyToContainerResult, error)
	ContainerStart(ctx context.Context, id string, opts client.ContainerStartOptions) (client.ContainerStartResult, error)
	ContainerLogs(ctx context.Context, id string, opts client.ContainerLogsOptions) (client.ContainerLogsResult, error)
	ContainerWait(ctx context.Context, id string, opts client.ContainerWaitOptions) client.ContainerWaitResult
	CopyFromContainer(ctx context.Context, id string, opts client.CopyFromContainerOptions) (client.CopyFromContainerResult, error)
	ContainerRemove(ctx context.Context, id string, opts client.ContainerRemoveOptions) (client.ContainerRemoveResult, error)
}

var _ dockerAPI = (*client.Client)(nil)

// baseImages makes the base image the builder image starts FROM
// (nodes.Images).
type baseImages interface {
	EnsureBase(ctx context.Context) (string, error)
}

// Builder compiles pushed trees into slugs, one ephemeral container per
// build on a Docker engine. Builds of one app run one at a time (they
// share its cache); builds of different apps run in parallel.
type Builder struct {
	Docker dockerAPI
	Images baseImages
	// CacheDir holds the per-app build caches: <CacheDir>/<app> is mounted
	// at /cache (Go toolchains and modules, npm and pip caches,
	// node_modules). It must be a path on the Docker engine's host. Empty:
	// builds start cold every time.
	CacheDir string
	// SlugDir is the slug store (package slugs) Build writes slugs to.
	// Empty: os.TempDir(). The file is the caller's to keep or remove.
	SlugDir string
	// CABundle is the CA bundle builds trust (default DefaultCABundle, the
	// host's; when that is missing the builder image's own is kept), and
	// ExtraCACerts are PEM files added to it: build containers reach the
	// Go module proxy and npm through TLS-inspecting proxies that way.
	CABundle     string
	ExtraCACerts []string
	// CustomBuildpacks is a host directory of operator-provided buildpacks
	// (<name>/bin/{detect,compile,release}), copied to /buildpacks/<name>
	// in each build. Only BUILDPACK_URL selects them (/buildpacks/<name>
	// or <name>); detection tries the embedded buildpacks only.
	CustomBuildpacks string
	// Labels are added to build containers' (LabelBuild=<app> always is):
	// a controller's id, say, to find its own containers after a crash.
	Labels  map[string]string
	Timeout time.Duration // the whole build (default DefaultTimeout)
	Memory  int64         // bytes (default DefaultMemory)
	CPUs    float64       // (default DefaultCPUs)
	Log     *slog.Logger

	imageMu sync.Mutex // one builder image build at a time
	appMu   sync.Mutex
	apps    map[string]chan struct{} // a build of the app is running
}

// Request is one build.
type Request struct {
	App, SHA string
	// Source is a tar of the tree to build (git archive), gzipped or not.
	Source io.Reader
	// Env is the app's config: buildpacks see it in ENV_DIR, and
	// BUILDPACK_URL selects a buildpack.
	Env map[string]string
}

// Result is a built slug.
type Result struct {
	// Slug is the path of the slug, <SlugDir>/<SHA256>.tgz: a tar.gz of
	// /app with ./ paths and the Procfile at its root.
	Slug   string
	SHA256 string
	Size   int64
	// Procfile is the slug's Procfile: the app's, plus the buildpack's
	// default process types the app's does not declare.
	Procfile map[string]string
	// Buildpack is the embedded buildpack's name (go, nodejs, python,
	// static, procfile) or the BUILDPACK_URL that built the slug.
	Buildpack string
}

// BuildError is a build that ran and failed. Its message is the last line
// the build printed: the buildpack's error, e.g. the compiler's.
type BuildError struct {
	Line     string
	ExitCode int
}

func (e *BuildError) Error() string {
	if e.Line == "" {
		return fmt.Sprintf("build failed with exit code %d", e.ExitCode)
	}
	return e.Line
}

// ErrTimeout is the error of a build that ran past the Builder's Timeout.
var ErrTimeout = errors.New("build timed out")

var ()

// Build compiles req.Source into a slug. out receives the build's output
// live, Heroku-style lines as printed ("-----> Go app detected"); the
// caller prefixes them for git ("remote: "). A build that fails returns a
// *BuildError; the container is removed in every case, on timeout and
// cancellation too.
func (b *Builder) Build(ctx context.Context, req Request, out io.Writer) (Result, error) {
	if !deis.ValidID(req.App) {
		return Result{}, fmt.Errorf("app %q must be 1 to 63 of a-z, 0-9 and '-'", req.App)
	}
	for k := range req.Env {
		if !deis.ValidEnvName(k) {
			return Result{}, fmt.Errorf("config var %q is not an environment variable name", k)
		}
	}
	if out == nil {
		out = io.Discard
	}
	log := b.logger().With("app", req.App, "sha", req.SHA)
	bctx, cancel := context.WithTimeout(ctx, b.timeout())
	defer cancel()

	unlock, err := b.lockApp(bctx, req.App)
	if err != nil {
		return Result{}, b.buildErr(ctx, req.App, err)
	}
	defer unlock()
	start := time.Now()
	res, err := b.build(bctx, req, out, log)
	if err != nil {
		var be *BuildError
		if errors.As(err, &be) {
			log.Info("build failed", "err", be.Line, "exit_code", be.ExitCode, "duration", time.Since(start))
			return Result{}, err
		}
		err = b.buildErr(ctx, req.App, err)
		log.Error("build failed", "err", err, "duration", time.Since(start))
		return Result{}, err
	}
	log.Info("slug built", "slug", res.Slug, "size", res.Size, "buildpack", res.Buildpack, "duration", time.Since(start))
	return res, nil
}

// buildErr wraps err, naming a timeout as ErrTimeout (the caller's ctx was
// not done, ours was).
func (b *Builder) buildErr(ctx context.Context, app string, err error) error {
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return fmt.Errorf("building slug for %q: %w after %s", app, ErrTimeout, b.timeout())
	}
	return fmt.Errorf("building slug for %q: %w", app, err)
}

func (b *Builder) build(ctx context.Context, req Request, out io.Writer, log *slog.Logger) (Result, error) {
	img, err := b.ensureImage(ctx, out)
	if err != nil {
		return Result{}, err
	}
	setup, err := b.setupTar(req)
	if err != nil {
		return Result{}, err
	}
	cache, err := b.appCache(req.App)
	if err != nil {
		return Result{}, err
	}
	return b.run(ctx, runSpec{image: img, req: req, setup: setup, cache: cache}, out, log)
}

// RemoveApp deletes app's build cache: called when the app is destroyed,
// so that a new app of the same name does not build with its cache.
func (b *Builder) RemoveApp(app string) error {
	if b.CacheDir == "" {
		return nil
	}
	if !deis.ValidID(app) {
		return fmt.Errorf("removing the build cache of %q: not an app name", app)
	}
	if err := os.RemoveAll(filepath.Join(b.CacheDir, app)); err != nil {
		return fmt.Errorf("removing the build cache of %s: %w", app, err)
	}
	return nil
}

// appCache makes and returns the app's cache directory ("" without a
// CacheDir).
func (b *Builder) appCache(app string) (string, error) {
	if b.CacheDir == "" {
		return "", nil
	}
	dir, err := filepath.Abs(filepath.Join(b.CacheDir, app))
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("making build cache: %w", err)
	}
	return dir, nil
}

// lockApp waits until no other build of app runs, or ctx is done.
func (b *Builder) lockApp(ctx context.Context, app string) (func(), error) {
	b.appMu.Lock()
	if b.apps == nil {
		b.apps = map[string]chan struct{}{}
	}
	ch, ok := b.apps[app]
	if !ok {
		ch = make(chan struct{}, 1)
		b.apps[app] = ch
	}
	b.appMu.Unlock()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the app's previous build: %w", ctx.Err())
	}
}

func (b *Builder) logger() *slog.Logger {
	if b.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return b.Log
}

func (b *Builder) timeout() time.Duration {
	if b.Timeout > 0 {
		return b.Timeout
	}
	return DefaultTimeout
}

func (b *Builder) memory() int64 {
	if b.Memory > 0 {
		return b.Memory
	}
	return DefaultMemory
}

func (b *Builder) cpus() float64 {
	if b.CPUs > 0 {
		return b.CPUs
	}
	return DefaultCPUs
}

func (b *Builder) slugDir() string {
	if b.SlugDir != "" {
		return b.SlugDir
	}
	return os.TempDir()
}
