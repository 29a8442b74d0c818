//go:build e2e

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deis/deis"
)

func nodeIDs(ns []deis.Node) []string {
	return ids(ns, func(n deis.Node) string { return n.ID })
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
	var ns []deis.Node
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
	var f deis.Formation
	alice.json(&f, "formations:info", "lab")
	if f.Domain != "lab.localhost" {
		t.Errorf("docker formation domain = %q, want lab.localhost", f.Domain)
	}
	alice.ok("apps:create", "web", "--formation", "lab")
	var app deis.App
	alice.json(&app, "apps:info", "--app", "web")
	if !strings.HasPrefix(app.URL, "http://web.lab.localhost:") {
		t.Errorf("app URL = %q, want http://web.lab.localhost:PORT/", app.URL)
	}

	alice.ok("nodes:scale", "lab", "runtime=1")
	alice.json(&ns, "nodes:list", "lab")
	if got := strings.Join(nodeIDs(ns), " "); got != "lab-proxy-1 lab-runtime-1" {
		t.Errorf("after scaling down: %s", got)
	}
	if out, _ := exec.Command("docker", "ps", "-aq", "--filter", "label=deis.node=lab-runtime-2", "--filter", "label=deis.controller="+controllerID(t, env)).Output(); len(strings.TrimSpace(string(out))) > 0 {
		t.Error("the scaled-down node's container remains")
	}

	// nodes:trust forgets the pinned host key; the next refresh pins the
	// key the node presents, and the node converges again.
	var trusted deis.Node
	alice.ok("nodes:trust", "lab-runtime-1")
	alice.json(&trusted, "nodes:info", "lab-runtime-1")
	if trusted.HostKey != "" {
		t.Errorf("after nodes:trust the host key is still %q", trusted.HostKey)
	}
	alice.json(&trusted, "nodes:info", "lab-runtime-1", "--refresh")
	if trusted.HostKey == "" || trusted.Status.State != deis.NodeReady {
		t.Errorf("after nodes:trust and a refresh: %s, host key %q; want ready and pinned", trusted.Status.State, trusted.HostKey)
	}
	alice.ok("nodes:converge", "lab-runtime-1")

	// Another user cannot reach the nodes.
	bob := env.newUser("bob")
	bob.fails("nodes:ssh", "lab-runtime-1", "true")
	bob.fails("nodes:scale", "lab", "runtime=3")

	alice.ok("apps:destroy", "--app", "web", "--confirm", "web")
	alice.ok("formations:destroy", "lab", "--confirm", "lab")
	// checkNoLeftovers (at cleanup) asserts no node container remains.
}

func controllerID(t *testing.T, env *testEnv) string {
	t.Helper()
	id, err := os.ReadFile(filepath.Join(env.dataDir, "controller-id"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(id))
}

// controllerContainers lists the nodes of the env's controller's containers.
func controllerContainers(t *testing.T, env *testEnv) []string {
	t.Helper()
	out, err := exec.Command("docker", "ps", "-a", "--format", `{{.Label "deis.node"}}`, "--filter", "label=deis.controller="+controllerID(t, env)).Output()
	if err != nil {
		t.Fatal(err)
	}
	names := strings.Fields(string(out))
	slices.Sort(names)
	return names
}

// TestControllerCrashDuringScale kills the controller while nodes:scale
// runs and starts it again: no node container may be left that the store
// does not track, and no node may be left half made.
func TestControllerCrashDuringScale(t *testing.T) {
	env := newTestEnv(t)
	alice := env.newUser("alice")
	alice.ok("formations:create", "crash", "--flavor", "docker")
	out := alice.ok("nodes:scale", "crash", "runtime=3", "--no-wait")
	jobID := strings.TrimSpace(out)
	deadline := time.Now().Add(2 * time.Minute)
	for len(controllerContainers(t, env)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no node container appeared")
		}
		time.Sleep(100 * time.Millisecond)
	}
	env.crash()
	t.Logf("containers when the controller died: %v", controllerContainers(t, env))
	env.restart()

	var ns []deis.Node
	alice.json(&ns, "nodes:list", "crash")
	want := []string{}
	for _, n := range ns {
		if n.Status.State == "creating" {
			t.Errorf("node %s is still creating after the restart", n.ID)
		}
		want = append(want, n.ID)
	}
	got := controllerContainers(t, env)
	t.Logf("after the restart: nodes %v, containers %v", nodeIDs(ns), got)
	if !slices.Equal(got, want) {
		t.Errorf("containers after restart %v, want exactly the tracked nodes' %v", got, want)
	}
	// The interrupted job is marked failed, not left running.
	var job deis.Job
	if err := alice.api("/v1/jobs/"+jobID, &job); err != nil {
		t.Fatal(err)
	}
	if job.State != deis.JobFailed {
		t.Errorf("interrupted job state = %q, want failed", job.State)
	}
	// The formation still scales afterwards.
	alice.ok("nodes:scale", "crash", "runtime=1")
	alice.ok("formations:destroy", "crash", "--confirm", "crash")
}
