package e2e

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/deis/deis/client"
)

func nodeIDs(ns []client.Node) []string {
	return ids(ns, func(n client.Node) string { return n.ID })
}

// TestNodesOnDocker is the issue-3 story: a formation with a runtime and a
// proxy layer on the docker provider gets real node containers that answer
// SSH with their own Docker engine and nginx, scales down, and leaves
// nothing behind when destroyed.
func TestNodesOnDocker(t *testing.T) {
	env := newTestEnv(t)
	alice := env.newUser("alice")
	alice.ok("formations:create", "lab")
	alice.ok("layers:create", "lab", "runtime", "docker", "--proxy", "n")
	alice.ok("layers:create", "lab", "proxy", "docker", "--runtime", "n")

	out, progress, err := alice.run(nil, "nodes:scale", "lab", "runtime=2", "proxy=1")
	if err != nil {
		t.Fatalf("nodes:scale: %v\n%s%s", err, out, progress)
	}
	for _, want := range []string{"lab-runtime-1: creating", "lab-runtime-2: reachable", "lab-proxy-1: bootstrapped", "done in"} {
		if !strings.Contains(progress, want) {
			t.Errorf("nodes:scale progress lacks %q:\n%s", want, progress)
		}
	}
	var ns []client.Node
	alice.json(&ns, "nodes:list", "lab", "--refresh")
	if got := strings.Join(nodeIDs(ns), " "); got != "lab-proxy-1 lab-runtime-1 lab-runtime-2" {
		t.Fatalf("nodes:list = %s", got)
	}
	for _, n := range ns {
		if s := n.Status; s.State != "ready" || !s.Reachable || !s.Docker || !s.Nginx || n.HostKey == "" {
			t.Errorf("node %s status %+v host key %q", n.ID, s, n.HostKey)
		}
		if info := alice.ok("nodes:ssh", n.ID, "docker", "info", "--format", "'{{.ServerVersion}}'"); strings.TrimSpace(info) == "" {
			t.Errorf("nodes:ssh %s docker info printed nothing", n.ID)
		}
		if _, errOut, err := alice.run(nil, "nodes:ssh", n.ID, "nginx", "-v"); err != nil || !strings.Contains(errOut, "nginx version") {
			t.Errorf("nodes:ssh %s nginx -v: %v %s", n.ID, err, errOut)
		}
	}
	var f client.Formation
	alice.json(&f, "formations:info", "lab")
	if f.Domain != "lab.localhost" {
		t.Errorf("docker formation domain = %q, want lab.localhost", f.Domain)
	}
	alice.ok("apps:create", "web", "--formation", "lab")
	var app client.App
	alice.json(&app, "apps:info", "--app", "web")
	if !strings.HasPrefix(app.URL, "http://web.lab.localhost:") {
		t.Errorf("app URL = %q, want http://web.lab.localhost:PORT/", app.URL)
	}

	alice.ok("nodes:scale", "lab", "runtime=1")
	alice.json(&ns, "nodes:list", "lab")
	if got := strings.Join(nodeIDs(ns), " "); got != "lab-proxy-1 lab-runtime-1" {
		t.Errorf("after scaling down: %s", got)
	}
	if out, _ := exec.Command("docker", "ps", "-aq", "--filter", "name=deis-lab-runtime-2").Output(); len(strings.TrimSpace(string(out))) > 0 {
		t.Error("the scaled-down node's container remains")
	}

	// Another user cannot reach the nodes.
	bob := env.newUser("bob")
	bob.fails("nodes:ssh", "lab-runtime-1", "true")
	bob.fails("nodes:scale", "lab", "runtime=3")

	alice.ok("apps:destroy", "--app", "web", "--confirm", "web")
	alice.ok("formations:destroy", "lab", "--confirm", "lab")
	// checkNoLeftovers (at cleanup) asserts no node container remains.
}
