//go:build e2e

package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/moby/client"
)

// nodeContainer is the ID of the container of node made by env's controller.
func nodeContainer(t *testing.T, env *testEnv, node string) string {
	t.Helper()
	out, err := exec.Command("docker", "ps", "-q", "--no-trunc", "--filter", "label=deis.node="+node,
		"--filter", "label=deis.controller="+controllerID(t, env)).Output()
	if err != nil || len(strings.Fields(string(out))) != 1 {
		t.Fatalf("container of node %s: %q, %v", node, out, err)
	}
	return strings.TrimSpace(string(out))
}

// networksOf lists the IDs of the networks a container is on.
func networksOf(t *testing.T, ctr string) []string {
	t.Helper()
	out, err := exec.Command("docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.NetworkID}} {{end}}", ctr).Output()
	if err != nil {
		t.Fatalf("inspecting %s: %v", ctr, err)
	}
	return strings.Fields(string(out))
}

// reach reports whether, from inside container from, an HTTP GET of
// host:port answers within 3 seconds.
func reach(from, hostport string) bool {
	return exec.Command("docker", "exec", from, "curl", "-fsS", "-m", "3", "-o", "/dev/null", "http://"+hostport+"/").Run() == nil
}

// TestFormationNetworks is issue 9's story of node networks: duplicates of
// the shared network an older version raced to make are removed at start;
// runtime=3 proxy=1 in one call makes exactly one network for the
// formation, and every runtime node has the runner image before any app;
// a second formation gets its own, and its nodes cannot reach the first's
// app ports while the first's proxy can; destroying a formation removes its
// network.
func TestFormationNetworks(t *testing.T) {
	// What two racing nodes of an older version left behind: the API, unlike
	// the docker CLI, makes a second network of the same name.
	cli, err := client.New(client.FromEnv)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	for range 2 {
		if _, err := cli.NetworkCreate(context.Background(), "deis-nodes", client.NetworkCreateOptions{Driver: "bridge", Labels: map[string]string{"deis.managed": "1"}}); err != nil {
			t.Fatalf("making a legacy network: %v", err)
		}
	}
	env := newTestEnv(t)
	if out, _ := exec.Command("docker", "network", "ls", "-q", "--filter", "name=^deis-nodes$").Output(); len(strings.Fields(string(out))) > 0 {
		t.Errorf("the legacy networks are still there after the controller started: %q", out)
	}
	ctrl := controllerID(t, env)
	if nets := formationNetworks(t, ctrl, ""); len(nets) != 0 {
		t.Fatalf("a fresh controller has networks %v", nets)
	}
	alice := env.newUser("alice")
	alice.ok("formations:create", "one")
	alice.ok("layers:create", "one", "runtime", "docker", "--proxy", "n")
	alice.ok("layers:create", "one", "proxy", "docker", "--runtime", "n")
	alice.ok("nodes:scale", "one", "runtime=3", "proxy=1")
	nets := formationNetworks(t, ctrl, "one")
	if len(nets) != 1 {
		t.Fatalf("formation one has networks %v, want exactly one", nets)
	}
	for _, n := range []string{"one-runtime-1", "one-runtime-2", "one-runtime-3", "one-proxy-1"} {
		if got := networksOf(t, nodeContainer(t, env, n)); !slices.Equal(got, nets) {
			t.Errorf("node %s is on networks %v, want %v", n, got, nets)
		}
	}
	// The runner image is on every runtime node before any app runs: the
	// first deploy onto a new node transfers no image.
	for _, n := range []string{"one-runtime-1", "one-runtime-2", "one-runtime-3"} {
		if got := alice.nodeDocker(n, "images", "--format", "'{{.Repository}}:{{.Tag}}'"); !strings.Contains(got, "deis/runner:") {
			t.Errorf("node %s does not have the runner image: %q", n, got)
		}
	}

	repo := filepath.Join(alice.home, "hello")
	os.MkdirAll(repo, 0o755)
	alice.dir = repo
	alice.git("init", "-q", "-b", "main")
	alice.ok("apps:create", "hello", "--formation", "one")
	alice.ok("builds:create", "--slug", helloSlug(t))
	awaitAnswer(t, proxyAddr(t, alice, "one"), "hello.one.localhost", "hello from ")

	alice.ok("formations:create", "two", "--flavor", "docker")
	alice.ok("nodes:scale", "two", "runtime=1")
	two := formationNetworks(t, ctrl, "two")
	if len(two) != 1 || two[0] == nets[0] {
		t.Fatalf("formation two has networks %v, want one of its own (one's is %s)", two, nets[0])
	}

	// The app's container, as the proxy reaches it.
	var cs []struct {
		Node string
		Port int
	}
	alice.json(&cs, "ps")
	if len(cs) != 1 {
		t.Fatalf("ps: %+v", cs)
	}
	ip, err := exec.Command("docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", nodeContainer(t, env, cs[0].Node)).Output()
	if err != nil {
		t.Fatal(err)
	}
	app := strings.TrimSpace(string(ip)) + ":" + strconv.Itoa(cs[0].Port)
	if !reach(nodeContainer(t, env, "one-proxy-1"), app) {
		t.Errorf("formation one's proxy cannot reach its app at %s", app)
	}
	if reach(nodeContainer(t, env, "two-runtime-1"), app) {
		t.Errorf("a node of formation two reaches formation one's app at %s", app)
	}

	alice.ok("formations:destroy", "one", "--confirm", "one")
	if left := formationNetworks(t, ctrl, "one"); len(left) > 0 {
		t.Errorf("formation one destroyed, its networks %v remain", left)
	}
	if got := formationNetworks(t, ctrl, "two"); !slices.Equal(got, two) {
		t.Errorf("destroying one changed two's networks: %v, want %v", got, two)
	}
	alice.ok("formations:destroy", "two", "--confirm", "two")
}
