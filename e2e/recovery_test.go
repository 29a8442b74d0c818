//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deis/deis"
)

// helloApp creates app on formation with the hello slug at web=2, and
// waits until it answers through the proxy at addr.
func (u *user) helloApp(app, formation, addr string) {
	u.t.Helper()
	repo := filepath.Join(u.home, app)
	os.MkdirAll(repo, 0o755)
	u.dir = repo
	u.git("init", "-q", "-b", "main")
	u.ok("apps:create", app, "--formation", formation)
	u.ok("builds:create", "--slug", helloSlug(u.t))
	u.ok("scale", "web=2")
	awaitAnswer(u.t, addr, app+"."+formation+".localhost", "hello from ")
}

// TestControllerKilledMidRollout is issue 10's crash story: the controller
// is SIGKILLed in the middle of a config:set rollout under load and
// started again. The proxies serve on while it is down; after the restart
// the release's status is final, the app is served by exactly one release
// (on the nodes and through the proxy), and no request fails.
func TestControllerKilledMidRollout(t *testing.T) {
	env := newTestEnv(t)
	alice := env.newUser("alice")
	alice.ok("formations:create", "k", "--flavor", "docker")
	alice.ok("nodes:scale", "k", "runtime=2")
	addr, host := proxyAddr(t, alice, "k"), "hello.k.localhost"
	alice.helloApp("hello", "k", addr)

	down := startLoad(addr, host, 100, 3*time.Minute)
	jobID := strings.TrimSpace(alice.ok("config:set", "GREETING=bonjour", "--no-wait"))
	// Kill it once the rollout has started its new containers.
	awaitJobLine(t, alice, jobID, "rolling out v3")
	env.crash()
	time.Sleep(time.Second) // down for a moment, the proxies serving on
	env.restart()
	okDown, failedDown, firstDown := down.finish()
	t.Logf("while the controller was down and restarting: %d requests answered, %d failed (first: %q)", okDown, failedDown, firstDown)

	after := startLoad(addr, host, 100, 3*time.Minute)
	var rel deis.Release
	for deadline := time.Now().Add(2 * time.Minute); ; {
		alice.json(&rel, "releases:info", "v3")
		if rel.Status != deis.ReleasePending {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("v3 is still pending two minutes after the restart: %+v", rel)
		}
		time.Sleep(500 * time.Millisecond)
	}
	want, version := "hello from ", "v2"
	if rel.Status == deis.ReleaseDeployed {
		want, version = "bonjour from ", "v3"
	}
	t.Logf("after the restart v3 is %s (%s)", rel.Status, rel.Error)
	// Let the recovery's rollout end, then check every answer is one
	// release's.
	for deadline := time.Now().Add(time.Minute); ; {
		var cs []deis.Container
		alice.json(&cs, "ps")
		settled := len(cs) == 2
		for _, c := range cs {
			settled = settled && "v"+strconv.Itoa(c.Release) == version && c.State == deis.ContainerUp
		}
		if settled {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the app did not settle on %s: %+v", version, cs)
		}
		time.Sleep(500 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // the drain of anything retired
	for range 40 {
		if code, body, err := get(addr, host); err != nil || code != 200 || !strings.HasPrefix(body, want) {
			t.Errorf("after the recovery the proxy answered %d %q %v, want %q only", code, body, err, want)
			break
		}
	}
	for _, n := range []string{"k-runtime-1", "k-runtime-2"} {
		for _, name := range alice.running(n) {
			if !strings.HasPrefix(name, "deis-hello-"+version+"-") {
				t.Errorf("node %s runs %s, want %s's containers only", n, name, version)
			}
		}
	}
	ok, failed, first := after.finish()
	t.Logf("after the restart: %d requests answered, %d failed", ok, failed)
	if failed > 0 {
		t.Errorf("%d requests failed after the restart (first: %q)", failed, first)
	}
	alice.ok("formations:destroy", "k", "--confirm", "k")
}

// TestConcurrentDeploys is issue 10's story of two apps of one formation
// deploying at the same moment under load: both end deployed, neither
// loses a container, and no request fails.
func TestConcurrentDeploys(t *testing.T) {
	env := newTestEnv(t)
	alice := env.newUser("alice")
	alice.ok("formations:create", "two", "--flavor", "docker")
	alice.ok("nodes:scale", "two", "runtime=2")
	addr := proxyAddr(t, alice, "two")
	apps := []string{"blue", "green"}
	for _, app := range apps {
		alice.helloApp(app, "two", addr)
	}
	loads := map[string]*load{}
	for _, app := range apps {
		loads[app] = startLoad(addr, app+".two.localhost", 100, 3*time.Minute)
	}
	var wg sync.WaitGroup
	for _, app := range apps {
		wg.Go(func() {
			if out, errOut, err := alice.run(nil, "config:set", "GREETING=hi-"+app, "--app", app); err != nil {
				t.Errorf("config:set on %s: %v\n%s%s", app, err, out, errOut)
			}
		})
	}
	wg.Wait()
	for _, app := range apps {
		awaitAnswer(t, addr, app+".two.localhost", "hi-"+app+" from ")
		ok, failed, first := loads[app].finish()
		t.Logf("%s: %d requests answered, %d failed", app, ok, failed)
		if failed > 0 {
			t.Errorf("%s: %d requests failed (first: %q)", app, failed, first)
		}
		var rel deis.Release
		alice.json(&rel, "releases:info", "v3", "--app", app)
		if rel.Status != deis.ReleaseDeployed {
			t.Errorf("%s v3 = %+v, want deployed", app, rel)
		}
	}
	var names []string
	for _, n := range []string{"two-runtime-1", "two-runtime-2"} {
		names = append(names, alice.running(n)...)
	}
	for _, app := range apps {
		if got := countPrefix(names, "deis-"+app+"-v3-web."); got != 2 {
			t.Errorf("%s runs %d web containers of v3 on the nodes (%v), want 2", app, got, names)
		}
	}
	alice.ok("formations:destroy", "two", "--confirm", "two")
}

// TestShutdownWaitsForRollouts: a controller asked to stop (SIGINT, as
// SIGTERM) in the middle of a rollout finishes it first: after a restart
// the job has succeeded and the release is deployed.
func TestShutdownWaitsForRollouts(t *testing.T) {
	env := newTestEnv(t)
	alice := env.newUser("alice")
	alice.ok("formations:create", "s", "--flavor", "docker")
	alice.ok("nodes:scale", "s", "runtime=1")
	addr, host := proxyAddr(t, alice, "s"), "hello.s.localhost"
	alice.helloApp("hello", "s", addr)
	jobID := strings.TrimSpace(alice.ok("config:set", "GREETING=bonjour", "--no-wait"))
	awaitJobLine(t, alice, jobID, "rolling out v3")
	env.cmd.Process.Signal(os.Interrupt)
	if code := env.wait(); code != 0 {
		t.Fatalf("the controller exited %d", code)
	}
	env.restart()
	var job deis.Job
	if err := alice.api("/v1/jobs/"+jobID, &job); err != nil {
		t.Fatal(err)
	}
	var rel deis.Release
	alice.json(&rel, "releases:info", "v3")
	if job.State != deis.JobSucceeded || rel.Status != deis.ReleaseDeployed {
		t.Errorf("after a stop mid-rollout: job %s (%s), v3 %s (%s); want succeeded and deployed", job.State, job.Error, rel.Status, rel.Error)
	}
	awaitAnswer(t, addr, host, "bonjour from ")
	alice.ok("formations:destroy", "s", "--confirm", "s")
}

// awaitJobLine waits until job has printed a line starting with prefix
// (or has ended).
func awaitJobLine(t *testing.T, u *user, jobID, prefix string) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; {
		var jl deis.JobLines
		if err := u.api("/v1/jobs/"+jobID+"/lines?after=0&wait=2", &jl); err != nil {
			t.Fatal(err)
		}
		for _, l := range jl.Lines {
			if strings.HasPrefix(l.Text, prefix) {
				return
			}
		}
		if jl.Job.State != deis.JobRunning || time.Now().After(deadline) {
			t.Fatalf("job %s never printed %q: %+v", jobID, prefix, jl)
		}
	}
}
