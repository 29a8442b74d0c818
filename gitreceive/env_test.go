package gitreceive

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// fakeUsers is an in-memory Users: keys by fingerprint, apps with owner and
// collaborators. Only owners may fetch.
type fakeUsers struct {
	mu   sync.Mutex
	keys map[string]string // fingerprint -> user
	apps map[string][]string
}

func (f *fakeUsers) UserForFingerprint(_ context.Context, fp string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u, ok := f.keys[fp]; ok {
		return u, nil
	}
	return "", errors.New("no such key")
}

func (f *fakeUsers) CanPush(_ context.Context, user, app string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Contains(f.apps[app], user), nil
}

func (f *fakeUsers) CanFetch(_ context.Context, user, app string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	members := f.apps[app]
	return len(members) > 0 && members[0] == user, nil
}

// addApp registers app with its owner first, then collaborators.
func (f *fakeUsers) addApp(app string, members ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.apps[app] = members
}

// recorder is a Deploy that records pushes and tracks overlapping calls.
type recorder struct {
	mu          sync.Mutex
	pushes      []Push
	delay       time.Duration
	fail        error
	hook        func(context.Context) error // runs first when set
	inflight    int
	maxInflight int
}

func (r *recorder) deploy(ctx context.Context, p Push, out io.Writer) error {
	r.mu.Lock()
	r.inflight++
	r.maxInflight = max(r.maxInflight, r.inflight)
	delay, fail, hook := r.delay, r.fail, r.hook
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.inflight--
		r.mu.Unlock()
	}()
	if hook != nil {
		if err := hook(ctx); err != nil {
			return err
		}
	}
	select {
	case <-time.After(delay):
	case <-ctx.Done():
		return ctx.Err()
	}
	if fail != nil {
		return fail
	}
	r.mu.Lock()
	r.pushes = append(r.pushes, p)
	r.mu.Unlock()
	fmt.Fprintf(out, "-----> deployed %s\n", p.New)
	return nil
}

// set changes the recorder under its lock.
func (r *recorder) set(f func(r *recorder)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(r)
}

func (r *recorder) all() []Push {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.pushes)
}

// testEnv is a running Server on 127.0.0.1:0 driven by the git and ssh CLIs.
type testEnv struct {
	t       *testing.T
	dir     string
	repoDir string
	port    string
	users   *fakeUsers
	deploys *recorder
	keyFile map[string]string // user -> private key file
	stop    func() error      // ends Serve and returns its error
}

func newTestEnv(t *testing.T, configure ...func(*Config)) *testEnv {
	t.Helper()
	for _, bin := range []string{"git", "ssh"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("%s not installed (scripts/setup-debian.sh installs it)", bin)
		}
	}
	dir := t.TempDir()
	e := &testEnv{
		t: t, dir: dir, repoDir: filepath.Join(dir, "repos"),
		users:   &fakeUsers{keys: map[string]string{}, apps: map[string][]string{}},
		deploys: &recorder{},
		keyFile: map[string]string{},
	}
	hostKey, err := LoadOrCreateHostKey(filepath.Join(dir, "host_key"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		RepoDir: e.repoDir, HostKey: hostKey, Users: e.users, Deploy: e.deploys.deploy,
		Log: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, f := range configure {
		f(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	e.stop = sync.OnceValue(func() error {
		cancel()
		return <-done
	})
	t.Cleanup(func() {
		if err := e.stop(); err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	_, e.port, _ = net.SplitHostPort(ln.Addr().String())
	return e
}

// newKey writes a new ed25519 key for user (registered with the server
// unless unknown) and returns its signer.
func (e *testEnv) newKey(user string, register bool) ssh.Signer {
	e.t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		e.t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		e.t.Fatal(err)
	}
	path := filepath.Join(e.dir, "key-"+user)
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		e.t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		e.t.Fatal(err)
	}
	if register {
		e.users.mu.Lock()
		e.users.keys[ssh.FingerprintSHA256(signer.PublicKey())] = user
		e.users.mu.Unlock()
	}
	e.keyFile[user] = path
	return signer
}

func (e *testEnv) sshArgs(user string) []string {
	return []string{"-F", "/dev/null", "-i", e.keyFile[user], "-o", "IdentitiesOnly=yes",
		"-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "LogLevel=ERROR", "-p", e.port}
}

func (e *testEnv) remote(app string) string {
	return "ssh://git@127.0.0.1:" + e.port + "/" + app + ".git"
}

// git runs git in dir as user and returns its combined output.
func (e *testEnv) git(user, dir string, args ...string) (string, error) {
	env := []string{"GIT_SSH_COMMAND=ssh " + strings.Join(e.sshArgs(user), " ")}
	return runGitCLI(dir, filepath.Join(e.dir, "home"), env, args...)
}

func (e *testEnv) mustGit(user, dir string, args ...string) string {
	e.t.Helper()
	out, err := e.git(user, dir, args...)
	if err != nil {
		e.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// ssh runs the ssh CLI as user with extra args and returns the output and
// exit status.
func (e *testEnv) ssh(user string, args ...string) (string, int) {
	e.t.Helper()
	cmd := exec.Command("ssh", append(e.sshArgs(user), args...)...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		e.t.Fatalf("ssh: %v", err)
	}
	return string(out), cmd.ProcessState.ExitCode()
}

// workdir creates a repo named name with a "deis" remote for app on branch.
func (e *testEnv) workdir(user, name, app, branch string) string {
	e.t.Helper()
	dir := filepath.Join(e.dir, name)
	e.mustGit(user, "", "init", "-q", "-b", branch, dir)
	e.mustGit(user, dir, "remote", "add", "deis", e.remote(app))
	return dir
}

// commit writes file with content in dir, commits and returns the sha.
func (e *testEnv) commit(dir, file, content string) string {
	e.t.Helper()
	if err := os.WriteFile(filepath.Join(dir, file), []byte(content), 0o644); err != nil {
		e.t.Fatal(err)
	}
	e.mustGit("", dir, "add", file)
	e.mustGit("", dir, "commit", "-q", "-m", "change "+file)
	return strings.TrimSpace(e.mustGit("", dir, "rev-parse", "HEAD"))
}

// runGitCLI runs the git CLI with a private HOME and a fixed identity.
func runGitCLI(dir, home string, extraEnv []string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(gitEnv(), "HOME="+home, "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0",
		"LC_ALL=C", "GIT_AUTHOR_NAME=Test", "GIT_AUTHOR_EMAIL=test@example.com",
		"GIT_COMMITTER_NAME=Test", "GIT_COMMITTER_EMAIL=test@example.com")
	cmd.Env = append(cmd.Env, extraEnv...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
