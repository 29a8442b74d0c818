// Package recipestest helps test the node recipes against the local Docker
// engine: a runner image, a slug of a tiny Go web app, free host ports, and
// the cleanup of all of it. A test package using it runs its tests through
// Main.
package recipestest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"
)

// BaseImage is the project's Debian image the runner image is built from.
const BaseImage = "deis/base:bookworm"

// server is the slug's app: it answers GET / with $GREETING and GET
// /healthz with 204, and logs one line when it starts.
const server = `package main

import (
	"fmt"
	"net/http"
	"os"
)

func main() {
	http.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(os.Getenv("GREETING")))
	})
	http.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	fmt.Println("listening on", os.Getenv("PORT"))
	if err := http.ListenAndServe(":"+os.Getenv("PORT"), nil); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
}
`

// process-wide state, cleaned up by Main.
var (
	mu      sync.Mutex
	tmpDir  string
	image   string
	slug    string
	slugSHA string
)

// Main runs m's tests, then removes the runner image and files they made.
func Main(m *testing.M) {
	code := m.Run()
	mu.Lock()
	defer mu.Unlock()
	if image != "" {
		if cli, err := client.New(client.FromEnv); err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			if _, err := cli.ImageRemove(ctx, image, client.ImageRemoveOptions{PruneChildren: true}); err != nil {
				fmt.Fprintln(os.Stderr, "recipestest: removing", image+":", err)
			}
			cancel()
			cli.Close()
		}
	}
	if tmpDir != "" {
		os.RemoveAll(tmpDir)
	}
	os.Exit(code)
}

// Docker returns a client of the local engine, failing t when there is
// none: these tests are about the real engine (scripts/setup-debian.sh).
func Docker(t testing.TB) *client.Client {
	t.Helper()
	if os.Getenv("DOCKER_HOST") == "" {
		if _, err := os.Stat("/var/run/docker.sock"); err != nil {
			t.Fatal("no Docker engine: /var/run/docker.sock is absent (run scripts/setup-debian.sh)")
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
	if _, err := cli.ImageInspect(ctx, BaseImage); err != nil {
		t.Fatalf("no %s image (scripts/test.sh builds it first): %v", BaseImage, err)
	}
	return cli
}

// RunnerImage returns a runner image, BaseImage with an empty /app, built
// once per test process under a tag of its own.
func RunnerImage(t testing.TB, cli *client.Client) string {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if image != "" {
		return image
	}
	tag := fmt.Sprintf("deis-test/runner:%d", os.Getpid())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	buildCtx, err := tarGz(false, file{"Dockerfile", 0o644, []byte("FROM " + BaseImage + "\nWORKDIR /app\n")})
	if err != nil {
		t.Fatal(err)
	}
	res, err := cli.ImageBuild(ctx, bytes.NewReader(buildCtx), client.ImageBuildOptions{Tags: []string{tag}, Remove: true})
	if err != nil {
		t.Fatalf("building %s: %v", tag, err)
	}
	defer res.Body.Close()
	if err := drainBuild(res.Body); err != nil {
		t.Fatalf("building %s: %v", tag, err)
	}
	image = tag
	return image
}

// Slug returns the path and sha256 of a slug (a tar.gz of /app) holding a
// Procfile ("web: ./server") and server, a static build of a web app that
// answers GET / with $GREETING and GET /healthz with 204.
func Slug(t testing.TB) (path, sha string) {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if slug != "" {
		return slug, slugSHA
	}
	dir, err := processDir()
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte(server), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "server")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, src)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the slug's server: %v\n%s", err, out)
	}
	exe, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	data, err := tarGz(true, file{"Procfile", 0o644, []byte("web: ./server\n")}, file{"server", 0o755, exe})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	path = filepath.Join(dir, "slug.tgz")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	slug, slugSHA = path, hex.EncodeToString(sum[:])
	return slug, slugSHA
}

// FreePort returns a TCP port free on every host address.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// App returns a new app name and removes the app's containers when t ends.
func App(t testing.TB, cli *client.Client) string {
	t.Helper()
	b := make([]byte, 4)
	rand.Read(b)
	app := "t" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for _, id := range Containers(t, cli, app) {
			if _, err := cli.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true}); err != nil {
				t.Errorf("removing container %s: %v", id, err)
			}
		}
	})
	return app
}

// Containers returns the IDs of app's containers, running or not.
func Containers(t testing.TB, cli *client.Client, app string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f := make(client.Filters).Add("label", "deis.app="+app)
	res, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 0, len(res.Items))
	for _, c := range res.Items {
		ids = append(ids, c.ID)
	}
	return ids
}

func processDir() (string, error) {
	if tmpDir == "" {
		d, err := os.MkdirTemp("", "recipestest-")
		if err != nil {
			return "", err
		}
		tmpDir = d
	}
	return tmpDir, nil
}

type file struct {
	name string
	mode int64
	data []byte
}

// tarGz is a tar of files, gzipped when gz.
func tarGz(gz bool, files ...file) ([]byte, error) {
	var buf bytes.Buffer
	var w io.Writer = &buf
	zw := gzip.NewWriter(&buf)
	if gz {
		w = zw
	}
	tw := tar.NewWriter(w)
	for _, f := range files {
		hdr := &tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data)), ModTime: time.Unix(0, 0)}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if gz {
		if err := zw.Close(); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

// drainBuild reads a build's JSON progress stream to its end and returns
// the first error it reports.
func drainBuild(r io.Reader) error {
	dec := json.NewDecoder(r)
	for {
		var m struct {
			Error string `json:"error"`
		}
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
		if m.Error != "" {
			return errors.New(strings.TrimSpace(m.Error))
		}
	}
}
