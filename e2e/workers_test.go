//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deis/deis"
)

// nodeDocker runs docker with args on a node (over deis nodes:ssh) and
// returns its output.
func (u *user) nodeDocker(node string, args ...string) string {
	u.t.Helper()
	return u.ok(append([]string{"nodes:ssh", node, "docker"}, args...)...)
}

// running lists the names of the running deis app containers on nodes.
func (u *user) running(nodes ...string) []string {
	u.t.Helper()
	var names []string
	for _, n := range nodes {
		out := u.nodeDocker(n, "ps", "--filter", "label=deis.app", "--filter", "status=running", "--format", "'{{.Names}}'")
		names = append(names, strings.Fields(out)...)
	}
	return names
}

func countPrefix(names []string, prefix string) int {
	n := 0
	for _, name := range names {
		if strings.HasPrefix(name, prefix) {
			n++
		}
	}
	return n
}

// TestWorkers is issue 9's story of an app with a background process: a
// git push of web + worker (which listens on nothing) serves; scale
// worker=2 runs two workers; config:set rolls both types; a push whose
// worker exits at start fails and the old web and workers run on, with no
// request through the proxy failing; a type the Procfile lacks is refused;
// a worker killed inside its container shows as down in one deis ps.
func TestWorkers(t *testing.T) {
	env := newTestEnv(t)
	alice := env.newUser("alice")
	alice.sshKey()
	alice.ok("formations:create", "wk", "--flavor", "docker")
	alice.ok("nodes:scale", "wk", "runtime=2")
	nodes := []string{"wk-runtime-1", "wk-runtime-2"}
	addr, host := proxyAddr(t, alice, "wk"), "bg.wk.localhost"

	alice.newRepoOf(filepath.Join("testdata", "worker-app"), "bg")
	alice.ok("apps:create", "bg", "--formation", "wk")
	if out, _, err := alice.push("deis", "main"); err != nil || !strings.Contains(out, "done, v2") {
		t.Fatalf("git push: %v\n%s", err, out)
	}
	awaitAnswer(t, addr, host, "hello from shell-hello")

	// The worker takes no traffic and opens no port, and still runs.
	alice.ok("scale", "worker=2")
	if got := alice.running(nodes...); countPrefix(got, "deis-bg-v2-worker.") != 2 || countPrefix(got, "deis-bg-v2-web.") != 1 {
		t.Fatalf("after scale worker=2 the nodes run %v, want web.1 and worker.1, worker.2 of v2", got)
	}
	var cs []deis.Container
	alice.json(&cs, "ps")
	for _, c := range cs {
		if c.Observed != deis.ObservedRunning || c.Status(time.Now()) != "up" {
			t.Errorf("ps: %s is %q (observed %q), want up", c.Name, c.Status(time.Now()), c.Observed)
		}
	}
	if refused := alice.fails("scale", "clock=1"); !strings.Contains(refused, `unknown process type "clock": the Procfile has web, worker`) {
		t.Errorf("scale clock=1: %q", refused)
	}

	// config:set rolls every type.
	alice.ok("config:set", "GREETING=salut")
	got := alice.running(nodes...)
	if countPrefix(got, "deis-bg-v3-worker.") != 2 || countPrefix(got, "deis-bg-v3-web.") != 1 || countPrefix(got, "deis-bg-v2-") != 0 {
		t.Fatalf("after config:set the nodes run %v, want v3's web.1, worker.1 and worker.2 only", got)
	}
	awaitAnswer(t, addr, host, "salut from shell-hello")
	worker := ""
	for _, n := range nodes {
		if strings.Contains(alice.nodeDocker(n, "ps", "--format", "'{{.Names}}'"), "deis-bg-v3-worker.1") {
			worker = n
		}
	}
	if logs := alice.nodeDocker(worker, "logs", "deis-bg-v3-worker.1"); !strings.Contains(logs, "GREETING=salut") {
		t.Errorf("worker.1's log: %q, want the new config", logs)
	}

	// A push whose worker exits at start fails; v3 runs on and answers.
	os.WriteFile(filepath.Join(alice.dir, "worker.sh"), []byte("#!/bin/sh\necho 'worker: cannot start'\nexit 3\n"), 0o755)
	alice.commit("a worker that cannot start")
	l := startLoad(addr, host, 100, 3*time.Minute)
	out, _, err := alice.push("deis", "main")
	ok, failed, firstErr := l.finish()
	if err == nil || !strings.Contains(out, "exited with code 3") || !strings.Contains(out, "worker: cannot start") {
		t.Errorf("push of a worker that exits: %v, want a failure saying it exited 3, with its log:\n%s", err, out)
	}
	t.Logf("failed worker release under load: %d requests answered, %d failed", ok, failed)
	if failed > 0 || ok == 0 {
		t.Errorf("%d of %d requests failed while the broken worker was tried (first: %q)", failed, ok+failed, firstErr)
	}
	var rels []deis.Release
	alice.json(&rels, "releases:list")
	if rels[0].Version != 4 || rels[0].Status != deis.ReleaseFailed {
		t.Errorf("newest release: %+v, want v4 failed", rels[0])
	}
	got = alice.running(nodes...)
	if countPrefix(got, "deis-bg-v3-worker.") != 2 || countPrefix(got, "deis-bg-v3-web.") != 1 || countPrefix(got, "deis-bg-v4-") != 0 {
		t.Errorf("after the failed push the nodes run %v, want v3's web.1, worker.1 and worker.2 only", got)
	}
	awaitAnswer(t, addr, host, "salut from shell-hello")

	// A worker that crashes (killed, then exiting 3 at each restart) shows
	// as down, with its exit code, in the next deis ps.
	alice.nodeDocker(worker, "exec", "deis-bg-v3-worker.1", "sh", "-c", "'touch /tmp/crash && kill -9 $(cat /tmp/worker.pid)'")
	for deadline := time.Now().Add(30 * time.Second); ; {
		st := alice.nodeDocker(worker, "inspect", "-f", "'{{.RestartCount}} {{.State.ExitCode}}'", "deis-bg-v3-worker.1")
		// By the fourth restart the engine waits over a second between
		// tries: the container is down nearly all the time.
		if f := strings.Fields(st); len(f) == 2 && f[1] == "3" && atoi(f[0]) >= 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the killed worker did not crash-loop: %q", st)
		}
		time.Sleep(200 * time.Millisecond)
	}
	alice.json(&cs, "ps")
	var w1 deis.Container
	for _, c := range cs {
		if c.Name == "worker.1" {
			w1 = c
		}
	}
	if status := w1.Status(time.Now()); !w1.Down() || w1.ExitCode != 3 || w1.Restarts < 2 || !strings.HasPrefix(status, "down (exited 3, ") {
		t.Errorf("ps after the crash: worker.1 is %q (%+v), want down, exited 3, restarted", status, w1)
	}
	// The table says the same; the loop restarts it now and then, and a
	// look in the few milliseconds it runs sees it up, with its restarts.
	table := ""
	for range 5 {
		if table = alice.ok("ps"); strings.Contains(table, "down (exited 3,") {
			break
		}
	}
	if !strings.Contains(table, "down (exited 3,") {
		t.Errorf("deis ps does not show the crash:\n%s", table)
	}
	alice.ok("formations:destroy", "wk", "--confirm", "wk")
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
