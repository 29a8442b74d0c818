//go:build e2e

package e2e

import (
	"archive/tar"
	"compress/gzip"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deis/deis"
)

// helloSlug builds samples/hello-go into a slug: a tar.gz of the static
// binary and its Procfile.
func helloSlug(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "bin", "hello-go"), ".")
	build.Dir = "../samples/hello-go"
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the sample: %v\n%s", err, out)
	}
	slug := filepath.Join(dir, "slug.tgz")
	f, err := os.Create(slug)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	tw := tar.NewWriter(zw)
	// As the Go buildpack lays it out: binaries in bin/, which is on PATH.
	for name, mode := range map[string]int64{"bin/hello-go": 0o755, "Procfile": 0o644} {
		src := filepath.Join(dir, name)
		if name == "Procfile" {
			src = "../samples/hello-go/Procfile"
		}
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		tw.WriteHeader(&tar.Header{Name: "./" + name, Mode: mode, Size: int64(len(b))})
		tw.Write(b)
	}
	tw.Close()
	zw.Close()
	f.Close()
	return slug
}

// proxyAddr is where the formation's proxy node publishes HTTP.
func proxyAddr(t *testing.T, u *user, formation string) string {
	t.Helper()
	var ns []deis.Node
	u.json(&ns, "nodes:list", formation)
	for _, n := range ns {
		if n.Public != "" {
			return n.Public
		}
	}
	t.Fatalf("formation %s has no proxy node with a published port: %+v", formation, ns)
	return ""
}

// get asks the proxy at addr for host's root page.
func get(addr, host string) (int, string, error) {
	req, _ := http.NewRequest("GET", "http://"+addr+"/", nil)
	req.Host = host
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// awaitAnswer asks until the app answers with want in its body.
func awaitAnswer(t *testing.T, addr, host, want string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, body, err := get(addr, host)
		if err == nil && code == 200 && strings.Contains(body, want) {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s via %s: %d %q %v, want 200 with %q", host, addr, code, body, err, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func psByNode(t *testing.T, u *user) map[string]int {
	t.Helper()
	var cs []deis.Container
	u.json(&cs, "ps")
	by := map[string]int{}
	for _, c := range cs {
		if c.Type == "web" {
			by[c.Node]++
		}
	}
	return by
}

// splitFormation makes a formation with a runtime layer of two docker
// nodes and a proxy layer of one.
func (u *user) splitFormation(name string) {
	u.t.Helper()
	u.ok("formations:create", name)
	u.ok("layers:create", name, "runtime", "docker", "--proxy", "n")
	u.ok("layers:create", name, "proxy", "docker", "--runtime", "n")
	u.ok("nodes:scale", name, "runtime=2", "proxy=1")
}

// TestDeploy is the issue-4 story: a slug deployed to a formation with two
// runtime nodes and a proxy node answers through the proxy; config:set
// changes the answer; scaling to 4 spreads 2+2 and the proxy balances over
// all four; scaling back to 1 leaves one.
func TestDeploy(t *testing.T) {
	env := newTestEnv(t)
	alice := env.newUser("alice")
	alice.splitFormation("shop")
	slug := helloSlug(t)

	repo := filepath.Join(alice.home, "hello")
	os.MkdirAll(repo, 0o755)
	alice.dir = repo
	alice.git("init", "-q", "-b", "main")
	alice.ok("apps:create", "hello", "--formation", "shop")
	alice.ok("builds:create", "--slug", slug)
	var rel deis.Release
	alice.json(&rel, "releases:info", "v2")
	if rel.Status != deis.ReleaseDeployed {
		t.Fatalf("v2 = %+v, want deployed", rel)
	}
	addr := proxyAddr(t, alice, "shop")
	host := "hello.shop.localhost"
	awaitAnswer(t, addr, host, "hello from ")

	awkward := `hi "there" = $HOME ünï`
	alice.ok("config:set", "GREETING="+awkward)
	awaitAnswer(t, addr, host, awkward+" from ")

	alice.ok("scale", "web=4")
	if by := psByNode(t, alice); len(by) != 2 || by["shop-runtime-1"] != 2 || by["shop-runtime-2"] != 2 {
		t.Errorf("web=4 placed %v, want 2 on each runtime node", by)
	}
	// nginx reloads asynchronously: give its new workers a moment.
	seen := map[string]bool{}
	for deadline := time.Now().Add(15 * time.Second); len(seen) < 4 && time.Now().Before(deadline); {
		if _, body, err := get(addr, host); err == nil {
			seen[strings.TrimSpace(body)] = true
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(seen) != 4 {
		t.Errorf("the proxy balanced over %d containers, want 4: %v", len(seen), seen)
	}
	alice.ok("scale", "web=1")
	if by := psByNode(t, alice); by["shop-runtime-1"]+by["shop-runtime-2"] != 1 {
		t.Errorf("web=1 left %v", by)
	}
	awaitAnswer(t, addr, host, awkward)

	// A second converge of every node changes nothing, and does not upload
	// the agent again (its checksum recorded at upload is trusted).
	agentAt := func() string {
		return alice.ok("nodes:ssh", "shop-runtime-1", "stat", "-c", "%Y.%i", "/var/lib/deis/bin/deis-node")
	}
	before := agentAt()
	_, progress, err := alice.run(nil, "formations:converge", "shop")
	if err != nil {
		t.Fatalf("formations:converge: %v\n%s", err, progress)
	}
	for _, line := range strings.Split(progress, "\n") {
		if strings.HasPrefix(line, "shop-") && !strings.Contains(line, " 0 changed") {
			t.Errorf("second converge changed something: %s", line)
		}
	}
	if after := agentAt(); after != before {
		t.Errorf("the converge uploaded the agent again: %q then %q", before, after)
	}
	alice.ok("apps:destroy", "--app", "hello", "--confirm", "hello")
	code, _, err := get(addr, host)
	for deadline := time.Now().Add(10 * time.Second); code != 404 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond) // nginx reloads asynchronously
		code, _, err = get(addr, host)
	}
	if code != 404 {
		t.Errorf("after apps:destroy the proxy answers %d, %v; want 404", code, err)
	}
	alice.ok("formations:destroy", "shop", "--confirm", "shop")
}
