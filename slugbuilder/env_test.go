//go:build docker

// The test environment of the slug builder's end-to-end tests: a Builder
// on the local Docker engine, trees as tars, slugs run in the runner image.

package slugbuilder_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/big"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/deis/deis/nodes"
	"github.com/deis/deis/slugbuilder"
)

// cacheDir is the builds' CacheDir for the whole run: the Go toolchain
// and npm packages are downloaded once per run, as on a controller.
var cacheDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "deis-slugbuilder-test-")
	if err != nil {
		panic(err)
	}
	cacheDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// labelTest labels the containers and images the tests make, with runID:
// build containers of other runs or of a controller are none of ours.
const labelTest = "deis.slugbuilder-test"

var runID = fmt.Sprintf("%d-%d", os.Getpid(), time.Now().UnixNano())

type testEnv struct {
	t      *testing.T
	ctx    context.Context
	cli    *client.Client
	images *nodes.Images
	b      *slugbuilder.Builder
}

// newTestEnv returns a Builder on the local engine, or skips t when there
// is none. At the end it checks that no build container is left.
func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	if testing.Short() {
		t.Skip("builds in containers: not in -short")
	}
	cli := dockerClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	t.Cleanup(cancel)
	log := slog.New(slog.DiscardHandler)
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	images := &nodes.Images{Docker: cli, Log: log}
	e := &testEnv{t: t, ctx: ctx, cli: cli, images: images, b: &slugbuilder.Builder{
		Docker: cli, Images: images, CacheDir: cacheDir, SlugDir: t.TempDir(), Log: log, Labels: testLabels,
	}}
	t.Cleanup(e.checkNoBuildContainers)
	return e
}

func dockerClient(t *testing.T) *client.Client {
	t.Helper()
	if os.Getenv("DOCKER_HOST") == "" {
		if _, err := os.Stat("/var/run/docker.sock"); err != nil {
			t.Fatal("no Docker engine: /var/run/docker.sock is absent (scripts/setup-debian.sh)")
		}
	}
	cli, err := client.New(client.FromEnv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := cli.Ping(ctx, client.PingOptions{}); err != nil {
		t.Fatalf("no Docker engine: %v", err)
	}
	return cli
}

var testLabels = map[string]string{labelTest: runID}

// checkNoBuildContainers fails the test when one of this run's build
// containers is left, and removes it.
func (e *testEnv) checkNoBuildContainers() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := e.cli.ContainerList(ctx, client.ContainerListOptions{All: true,
		Filters: client.Filters{}.Add("label", slugbuilder.LabelBuild, labelTest+"="+runID)})
	if err != nil {
		e.t.Errorf("listing build containers: %v", err)
		return
	}
	for _, c := range res.Items {
		e.t.Errorf("build container %s (%s=%s) was left behind", c.ID[:12], slugbuilder.LabelBuild, c.Labels[slugbuilder.LabelBuild])
		e.cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true})
	}
}

// build builds the tree at dir as app, returning the result, the output
// and how long it took. The output is logged too.
func (e *testEnv) build(b *slugbuilder.Builder, app, dir string, env map[string]string) (slugbuilder.Result, string, time.Duration, error) {
	e.t.Helper()
	var out bytes.Buffer
	w := io.Writer(&out)
	if testing.Verbose() {
		w = io.MultiWriter(&out, prefixWriter{os.Stderr, app})
	}
	start := time.Now()
	res, err := b.Build(e.ctx, slugbuilder.Request{App: app, SHA: "0123abcd", Source: tarDir(e.t, dir), Env: env}, w)
	took := time.Since(start)
	e.t.Logf("build of %s took %s (err: %v)", app, took.Round(100*time.Millisecond), err)
	return res, out.String(), took, err
}

// mustBuild is build failing the test on an error.
func (e *testEnv) mustBuild(app, dir string, env map[string]string) (slugbuilder.Result, string, time.Duration) {
	e.t.Helper()
	res, out, took, err := e.build(e.b, app, dir, env)
	if err != nil {
		e.t.Fatalf("Build(%s): %v\noutput:\n%s", app, err, out)
	}
	return res, out, took
}

type prefixWriter struct {
	w      io.Writer
	prefix string
}

func (p prefixWriter) Write(b []byte) (int, error) {
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if line != "" {
			fmt.Fprintf(p.w, "[%s] %s", p.prefix, line)
		}
	}
	return len(b), nil
}

// tarDir is a tar of the tree at dir, as git archive would send it.
func tarDir(t *testing.T, dir string) io.Reader {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		hdr, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		hdr.Name = filepath.ToSlash(rel)
		if d.IsDir() {
			hdr.Name += "/"
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		_, err = tw.Write(data)
		return err
	})
	if err == nil {
		err = tw.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return &buf
}

// slugFiles lists a slug's entries by path (without "./").
func slugFiles(t *testing.T, p string) map[string]*tar.Header {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]*tar.Header{}
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return files
		} else if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(hdr.Name, "./") {
			t.Fatalf("slug entry %q does not start with ./", hdr.Name)
		}
		files[strings.TrimSuffix(strings.TrimPrefix(hdr.Name, "./"), "/")] = hdr
	}
}

func wantLines(t *testing.T, out string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(out, l) {
			t.Errorf("output lacks %q:\n%s", l, out)
		}
	}
}

// runSlug runs the slug's web process in image as a runtime node would
// (the slug copied into /app, sh -c COMMAND, $PORT) and returns the
// answer to GET /.
func (e *testEnv) runSlug(res slugbuilder.Result, image string) string {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, 2*time.Minute)
	defer cancel()
	port := network.MustParsePort("5000/tcp")
	cr, err := e.cli.ContainerCreate(ctx, client.ContainerCreateOptions{
		Config: &container.Config{
			Image: image, Cmd: []string{"/bin/sh", "-c", res.Procfile["web"]}, WorkingDir: "/app",
			Env: []string{"PORT=5000"}, ExposedPorts: network.PortSet{port: {}}, Labels: testLabels,
		},
		HostConfig: &container.HostConfig{PortBindings: network.PortMap{port: {{HostIP: netip.MustParseAddr("127.0.0.1")}}}},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		e.cli.ContainerRemove(ctx, cr.ID, client.ContainerRemoveOptions{Force: true})
	})
	slug, err := os.Open(res.Slug)
	if err != nil {
		e.t.Fatal(err)
	}
	defer slug.Close()
	if _, err := e.cli.CopyToContainer(ctx, cr.ID, client.CopyToContainerOptions{DestinationPath: "/app", Content: slug}); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.cli.ContainerStart(ctx, cr.ID, client.ContainerStartOptions{}); err != nil {
		e.t.Fatal(err)
	}
	url := "http://127.0.0.1:" + e.hostPort(ctx, cr.ID, port) + "/"
	hc := &http.Client{Timeout: 2 * time.Second}
	var lastErr error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		resp, err := hc.Get(url)
		if err != nil {
			lastErr = err
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return string(body)
		}
		lastErr = fmt.Errorf("%s: %s", resp.Status, body)
	}
	e.t.Fatalf("GET %s: %v\ncontainer output:\n%s", url, lastErr, e.logs(cr.ID))
	return ""
}

// hostPort waits for the host port the engine bound to the container's
// port.
func (e *testEnv) hostPort(ctx context.Context, id string, port network.Port) string {
	e.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		ins, err := e.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
		if err != nil {
			e.t.Fatal(err)
		}
		if ns := ins.Container.NetworkSettings; ns != nil && len(ns.Ports[port]) > 0 && ns.Ports[port][0].HostPort != "" {
			return ns.Ports[port][0].HostPort
		}
	}
	e.t.Fatalf("no host port bound to %s\ncontainer output:\n%s", port, e.logs(id))
	return ""
}

func (e *testEnv) logs(id string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := e.cli.ContainerLogs(ctx, id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		return err.Error()
	}
	defer r.Close()
	b, _ := io.ReadAll(r)
	return string(b)
}

func (e *testEnv) runner() string {
	e.t.Helper()
	img, err := e.images.EnsureRunner(e.ctx)
	if err != nil {
		e.t.Fatalf("runner image: %v", err)
	}
	return img
}

var nodeRunnerMu sync.Mutex

// nodeRunner is the runner image with Debian's nodejs added, as proposed
// for runner.Dockerfile: node slugs carry node_modules, not node (Debian's
// node loads builtins from /usr/share/nodejs, so it cannot move to /app).
func (e *testEnv) nodeRunner() string {
	e.t.Helper()
	nodeRunnerMu.Lock()
	defer nodeRunnerMu.Unlock()
	runner := e.runner()
	tag := "deis/runner-nodejs-test:" + runner[strings.LastIndex(runner, ":")+1:] + "-2"
	if _, err := e.cli.ImageInspect(e.ctx, tag); err == nil {
		return tag
	}
	dockerfile := "FROM " + runner + "\n" +
		"RUN apt-get update -qq \\\n" +
		" && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs \\\n" +
		" && apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin\n"
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "Dockerfile", Mode: 0o644, Size: int64(len(dockerfile))})
	tw.Write([]byte(dockerfile))
	tw.Close()
	res, err := e.cli.ImageBuild(e.ctx, &buf, client.ImageBuildOptions{
		Tags: []string{tag}, Remove: true, ForceRemove: true, Labels: map[string]string{labelTest: "1"},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	progress, _ := io.ReadAll(res.Body)
	if bytes.Contains(progress, []byte(`"error"`)) {
		e.t.Fatalf("building %s: %s", tag, progress)
	}
	return tag
}

func sample(name string) string { return filepath.Join("..", "samples", name) }

// testBuildpack writes a buildpack into dir/name: detect names it, compile
// writes the config var GREETING into the tree, release declares web and
// worker, and the app's Procfile declares web, which wins.
func testBuildpack(t *testing.T, dir, name, compile string) {
	t.Helper()
	bin := filepath.Join(dir, name, "bin")
	for file, script := range map[string]string{
		"detect":  "#!/bin/sh\necho Test\n",
		"compile": "#!/bin/sh\n" + compile,
		"release": "#!/bin/sh\nprintf -- '---\\ndefault_process_types:\\n  web: ./default-web\\n  worker: \"./work --hard\"\\n'\n",
	} {
		writeFile(t, filepath.Join(bin, file), script)
		if err := os.Chmod(filepath.Join(bin, file), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// testCA writes a self-signed CA certificate and returns its path and a
// line of its PEM.
func testCA(t *testing.T) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "deis test CA"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pemData := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	p := filepath.Join(t.TempDir(), "extra-ca.crt")
	writeFile(t, p, string(pemData))
	return p, strings.Split(string(pemData), "\n")[1]
}

// signalWriter closes seen once its output contains match.
type signalWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	match string
	seen  chan struct{}
	once  sync.Once
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.match) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

func writeFile(t *testing.T, p, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
