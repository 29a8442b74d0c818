package gitreceive

import (
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestPushStory pushes to one app step by step; each step says which deploy
// it must cause, if any.
func TestPushStory(t *testing.T) {
	env := newTestEnv(t)
	env.newKey("alice", true)
	env.users.addApp("web", "alice")
	work := env.workdir("alice", "work", "web", "main")
	repo := filepath.Join(env.repoDir, "web.git")
	push := func(args ...string) string {
		return env.mustGit("alice", work, append([]string{"push", "deis"}, args...)...)
	}
	deploy := func(old, new string) *Push {
		return &Push{App: "web", User: "alice", Repo: repo, Ref: "refs/heads/main", Old: old, New: new}
	}
	var sha1, sha2, sha3 string

	steps := []struct {
		name string
		run  func(t *testing.T) (out string, want *Push)
	}{
		{"first push of main", func(t *testing.T) (string, *Push) {
			sha1 = env.commit(work, "Procfile", "web: ./run\n")
			return push("main"), deploy("", sha1)
		}},
		{"second push", func(t *testing.T) (string, *Push) {
			sha2 = env.commit(work, "README", "hello\n")
			return push("main"), deploy(sha1, sha2)
		}},
		{"force push of rewritten history", func(t *testing.T) (string, *Push) {
			env.mustGit("", work, "commit", "-q", "--amend", "-m", "rewritten")
			sha3 = strings.TrimSpace(env.mustGit("", work, "rev-parse", "HEAD"))
			return push("--force", "main"), deploy(sha2, sha3)
		}},
		{"other branch is stored, not deployed", func(t *testing.T) (string, *Push) {
			env.mustGit("", work, "checkout", "-q", "-b", "feature")
			env.commit(work, "feature.txt", "wip\n")
			out := push("feature")
			env.mustGit("", work, "checkout", "-q", "main")
			return out, nil
		}},
		{"tag is stored, not deployed", func(t *testing.T) (string, *Push) {
			env.mustGit("", work, "tag", "-a", "-m", "release", "v1")
			return push("v1"), nil
		}},
		{"nothing new", func(t *testing.T) (string, *Push) {
			out := push("main")
			if !strings.Contains(out, "Everything up-to-date") {
				t.Errorf("push output lacks Everything up-to-date:\n%s", out)
			}
			return out, nil
		}},
		{"deleting main is refused by git", func(t *testing.T) (string, *Push) {
			out, err := env.git("alice", work, "push", "deis", ":main")
			if err == nil || !strings.Contains(out, "deletion of the current branch prohibited") {
				t.Errorf("deleting main: %v, want git to refuse:\n%s", err, out)
			}
			return out, nil
		}},
	}
	for _, step := range steps {
		// Steps depend on each other: stop at the first failure.
		if !t.Run(step.name, func(t *testing.T) {
			before := len(env.deploys.all())
			out, want := step.run(t)
			got := env.deploys.all()[before:]
			if want == nil {
				if len(got) != 0 || strings.Contains(out, "deployed") {
					t.Fatalf("deployed %+v, want none; output:\n%s", got, out)
				}
				return
			}
			if diff := cmp.Diff([]Push{*want}, got); diff != "" {
				t.Fatalf("deploys (-want +got):\n%s\noutput:\n%s", diff, out)
			}
			if line := "remote: -----> deployed " + want.New; !strings.Contains(out, line) {
				t.Errorf("push output lacks %q:\n%s", line, out)
			}
		}) {
			break
		}
	}

	refs := env.mustGit("alice", work, "ls-remote", "deis")
	for _, ref := range []string{"refs/heads/main", "refs/heads/feature", "refs/tags/v1"} {
		if !strings.Contains(refs, ref) {
			t.Errorf("ls-remote lacks %s:\n%s", ref, refs)
		}
	}
}

// TestPushMaster deploys master when the repo has no main; deleting master
// (allowed: HEAD names main) does not deploy, and pushing it again does.
func TestPushMaster(t *testing.T) {
	env := newTestEnv(t)
	env.newKey("alice", true)
	env.users.addApp("old", "alice")
	work := env.workdir("alice", "work", "old", "master")
	sha := env.commit(work, "index.php", "<?php\n")
	env.mustGit("alice", work, "push", "deis", "master")
	env.mustGit("alice", work, "push", "deis", ":master")
	env.mustGit("alice", work, "push", "deis", "master")
	p := Push{App: "old", User: "alice", Repo: filepath.Join(env.repoDir, "old.git"),
		Ref: "refs/heads/master", New: sha}
	if diff := cmp.Diff([]Push{p, p}, env.deploys.all()); diff != "" {
		t.Errorf("deploys (-want +got):\n%s", diff)
	}
}

// TestRacingPushes pushes different commits from two clones at once (alice
// from a, bob from b): git keeps the repo consistent, a deploy is only ever
// of the pusher's own commit, and the last deploy matches the ref.
func TestRacingPushes(t *testing.T) {
	for _, force := range []bool{false, true} {
		t.Run(map[bool]string{false: "push", true: "force push"}[force], func(t *testing.T) {
			env := newTestEnv(t)
			env.newKey("alice", true)
			env.newKey("bob", true)
			env.users.addApp("web", "alice", "bob")
			a := env.workdir("alice", "a", "web", "main")
			env.commit(a, "base", "base\n")
			env.mustGit("alice", a, "push", "-q", "deis", "main")
			b := filepath.Join(env.dir, "b")
			env.mustGit("alice", "", "clone", "-q", "-o", "deis", env.remote("web"), b)
			env.deploys.set(func(r *recorder) { r.delay = 200 * time.Millisecond })

			pushers := []struct{ user, dir, sha string }{
				{"alice", a, env.commit(a, "a", "a\n")},
				{"bob", b, env.commit(b, "b", "b\n")},
			}
			args := []string{"push", "deis", "main"}
			if force {
				args = append(args, "--force")
			}
			var wg sync.WaitGroup
			outs, errs := make([]string, 2), make([]error, 2)
			for i, p := range pushers {
				wg.Go(func() { outs[i], errs[i] = env.git(p.user, p.dir, args...) })
			}
			wg.Wait()
			t.Logf("push errors: %v", errs)
			if errs[0] != nil && errs[1] != nil {
				t.Fatalf("both pushes failed:\n%s\n%s", outs[0], outs[1])
			}
			if !force && errs[0] == nil && errs[1] == nil {
				t.Errorf("both non-fast-forward pushes succeeded")
			}

			repo := filepath.Join(env.repoDir, "web.git")
			if out, err := env.git("", repo, "fsck", "--full", "--strict"); err != nil {
				t.Errorf("git fsck: %v\n%s", err, out)
			}
			final := strings.TrimSpace(env.mustGit("", repo, "rev-parse", "refs/heads/main"))
			deploys := env.deploys.all()
			if len(deploys) < 2 || deploys[len(deploys)-1].New != final {
				t.Fatalf("deploys %+v do not end at the ref %s", deploys, final)
			}
			for _, d := range deploys[1:] {
				for i, p := range pushers {
					if d.User == p.user && (d.New != p.sha || errs[i] != nil) {
						t.Errorf("deployed %+v for %s, whose push of %s returned %v", d, p.user, p.sha, errs[i])
					}
				}
			}
			for i := range pushers {
				if errs[i] != nil && strings.Contains(outs[i], "deployed") {
					t.Errorf("failed push mentions a deploy:\n%s", outs[i])
				}
			}
			var m int
			env.deploys.set(func(r *recorder) { m = r.maxInflight })
			if m != 1 {
				t.Errorf("%d deploys of web ran at once, want 1", m)
			}
		})
	}
}

// TestDeployError makes the push fail and shows the error.
func TestDeployError(t *testing.T) {
	env := newTestEnv(t)
	env.newKey("alice", true)
	env.users.addApp("web", "alice")
	env.deploys.set(func(r *recorder) { r.fail = errors.New("no buildpack detected") })
	work := env.workdir("alice", "work", "web", "main")
	env.commit(work, "x", "x\n")
	out, err := env.git("alice", work, "push", "deis", "main")
	if err == nil {
		t.Fatalf("push succeeded, want failure:\n%s", out)
	}
	if want := "remote: deis: deploy of web failed: no buildpack detected"; !strings.Contains(out, want) {
		t.Errorf("push output lacks %q:\n%s", want, out)
	}
}
