//go:build e2e

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sshKey makes the user an SSH key and adds it with keys:add.
func (u *user) sshKey() {
	u.t.Helper()
	dir := filepath.Join(u.home, ".ssh")
	os.MkdirAll(dir, 0o700)
	key := filepath.Join(dir, "id_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", u.name, "-f", key).CombinedOutput(); err != nil {
		u.t.Fatalf("ssh-keygen: %v %s", err, out)
	}
	u.ok("keys:add", key+".pub")
}

// push runs git push in the user's working directory with the user's key;
// it returns git's combined output and how long it took.
func (u *user) push(args ...string) (string, time.Duration, error) {
	u.t.Helper()
	cmd := exec.Command("git", append([]string{"push"}, args...)...)
	cmd.Dir = u.dir
	key := filepath.Join(u.home, ".ssh", "id_ed25519")
	cmd.Env = append(os.Environ(), "HOME="+u.home, "GIT_CONFIG_NOSYSTEM=1",
		"GIT_SSH_COMMAND=ssh -i "+key+" -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	return string(out), time.Since(start), err
}

// newRepo copies a sample app into a fresh git repository and commits it.
func (u *user) newRepo(sample, name string) {
	u.t.Helper()
	u.newRepoOf(filepath.Join("..", "samples", sample), name)
}

// newRepoOf copies the app in src into a fresh git repository and commits it.
func (u *user) newRepoOf(src, name string) {
	u.t.Helper()
	dir := filepath.Join(u.home, name)
	if out, err := exec.Command("cp", "-rL", src, dir).CombinedOutput(); err != nil {
		u.t.Fatalf("cp: %v %s", err, out)
	}
	u.dir = dir
	u.git("init", "-q", "-b", "main")
	u.commit("first")
}

func (u *user) commit(msg string) {
	u.t.Helper()
	u.git("add", "-A")
	u.git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", msg)
}

// TestGitPush is the issue-5 story: sample apps in five languages go from
// git push to answering through the proxy; a broken build fails the push
// and the old release answers on; a key without access is refused.
func TestGitPush(t *testing.T) {
	env := newTestEnv(t)
	alice := env.newUser("alice")
	alice.sshKey()
	alice.ok("formations:create", "apps", "--flavor", "docker")
	alice.ok("nodes:scale", "apps", "runtime=1")
	addr := proxyAddr(t, alice, "apps")

	samples := []struct{ sample, app, detected, answer string }{
		{"hello-go", "go-app", "Go app detected", "hello from "},
		{"node-hello", "node-app", "Node.js app detected", "hello from node-hello"},
		{"python-hello", "py-app", "Python app detected", "hello from python-hello"},
		{"static-site", "static-app", "Static HTML app detected", "hello from static-site"},
		{"shell-hello", "shell-app", "Procfile app detected", "hello from shell-hello"},
	}
	durations := map[string]time.Duration{}
	for _, s := range samples {
		alice.newRepo(s.sample, s.app)
		alice.ok("apps:create", s.app, "--formation", "apps")
		out, took, err := alice.push("deis", "main")
		if err != nil {
			t.Fatalf("git push of %s: %v\n%s", s.sample, err, out)
		}
		durations[s.app] = took
		for _, want := range []string{s.detected, "-----> Launching", "done, v2", "http://" + s.app + ".apps.localhost:"} {
			if !strings.Contains(out, want) {
				t.Errorf("push of %s: output lacks %q:\n%s", s.sample, want, out)
			}
		}
		awaitAnswer(t, addr, s.app+".apps.localhost", s.answer)
		t.Logf("%s: first push to serving in %s", s.sample, took.Round(100*time.Millisecond))
	}

	// A second push of the Node app with the same dependencies is faster.
	alice.dir = filepath.Join(alice.home, "node-app")
	os.WriteFile(filepath.Join(alice.dir, "NOTES"), []byte("a change that is not a dependency\n"), 0o644)
	alice.commit("notes")
	out, took, err := alice.push("deis", "main")
	if err != nil || !strings.Contains(out, "done, v3") {
		t.Fatalf("second push of node-app: %v\n%s", err, out)
	}
	t.Logf("node-hello: first push %s, second push (cached dependencies) %s",
		durations["node-app"].Round(100*time.Millisecond), took.Round(100*time.Millisecond))

	// A broken build fails the push; the old release answers on.
	alice.dir = filepath.Join(alice.home, "go-app")
	os.WriteFile(filepath.Join(alice.dir, "broken.go"), []byte("package main\n\nfunc broken( {\n"), 0o644)
	alice.commit("broken")
	out, _, err = alice.push("deis", "main")
	if err == nil || !strings.Contains(out, "syntax error") {
		t.Errorf("push of a broken Go app: err %v, want a failure showing the compiler's error:\n%s", err, out)
	}
	awaitAnswer(t, addr, "go-app.apps.localhost", "hello from ")

	// Another user's key cannot push to alice's app.
	bob := env.newUser("bob")
	bob.sshKey()
	bob.dir = alice.dir
	out, _, err = bob.push("deis", "main")
	if err == nil || !strings.Contains(out, "not found or not yours") {
		t.Errorf("bob's push: err %v, want a refusal:\n%s", err, out)
	}

	alice.ok("formations:destroy", "apps", "--confirm", "apps")
}

// gitSSH runs git with the user's key for the git endpoint (clone, fetch)
// in dir, returning its output and error.
func (u *user) gitSSH(dir string, args ...string) (string, error) {
	u.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	key := filepath.Join(u.home, ".ssh", "id_ed25519")
	cmd.Env = append(os.Environ(), "HOME="+u.home, "GIT_CONFIG_NOSYSTEM=1",
		"GIT_SSH_COMMAND=ssh -i "+key+" -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestDestroyedAppNameInheritsNothing is security review #2 as it was
// found: bob pushes bobapp with a secret in its source, then destroys it;
// carol creates an app of the same name and clones it: nothing of bob's
// comes with it, and his build cache is gone.
func TestDestroyedAppNameInheritsNothing(t *testing.T) {
	env := newTestEnv(t)
	bob := env.newUser("bob")
	bob.sshKey()
	bob.ok("formations:create", "bobf", "--flavor", "docker")
	bob.newRepo("shell-hello", "bobapp")
	os.WriteFile(filepath.Join(bob.dir, "secret.txt"), []byte("API_KEY=hunter2\n"), 0o644)
	bob.commit("a secret")
	bob.ok("apps:create", "bobapp", "--formation", "bobf")
	if out, _, err := bob.push("deis", "main"); err != nil {
		t.Fatalf("bob's push: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(env.dataDir, "cache", "bobapp")); err != nil {
		t.Fatalf("bob's build left no cache to remove: %v", err)
	}
	bob.ok("apps:destroy", "--app", "bobapp", "--confirm", "bobapp")
	if _, err := os.Stat(filepath.Join(env.dataDir, "cache", "bobapp")); !os.IsNotExist(err) {
		t.Errorf("bob's build cache is still there: %v", err)
	}

	carol := env.newUser("carol")
	carol.sshKey()
	carol.ok("formations:create", "carolf", "--flavor", "docker")
	carol.ok("apps:create", "bobapp", "--formation", "carolf")
	out, err := carol.gitSSH(carol.home, "clone", "ssh://git@"+env.GitAddr+"/bobapp.git", "stolen")
	secret, _ := os.ReadFile(filepath.Join(carol.home, "stolen", "secret.txt"))
	if strings.Contains(string(secret), "hunter2") {
		t.Fatalf("carol cloned bob's secret from the app name he left (%v):\n%s", err, out)
	}
	if log, _ := carol.gitSSH(filepath.Join(carol.home, "stolen"), "log", "--all", "--oneline"); strings.Contains(log, "a secret") {
		t.Errorf("carol's clone has bob's history:\n%s", log)
	}
	carol.ok("formations:destroy", "carolf", "--confirm", "carolf")
	bob.ok("formations:destroy", "bobf", "--confirm", "bobf")
}
