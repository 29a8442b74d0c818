package gitreceive

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/ssh"
)

// TestRefused drives the ssh CLI with everything but git push and fetch.
func TestRefused(t *testing.T) {
	env := newTestEnv(t)
	env.newKey("alice", true)
	env.newKey("mallory", false)
	env.users.addApp("web", "alice")
	const host = "git@127.0.0.1"
	tests := []struct {
		name     string
		user     string
		args     []string
		wantCode int
		wantOut  string
		exact    bool
	}{
		{"shell command", "alice", []string{host, "ls"}, 1, "deis: only git push is served here\n", true},
		{"login shell", "alice", []string{"-T", host}, 1, "deis: only git push is served here\n", true},
		{"terminal", "alice", []string{"-tt", host, "git-receive-pack 'web.git'"}, 1, "deis: only git push is served here (no terminals)", false},
		{"other git command", "alice", []string{host, "git-upload-archive 'web.git'"}, 1, "deis: only git push is served here\n", true},
		{"path outside the repos", "alice", []string{host, "git-receive-pack '../../etc.git'"}, 1, `deis: invalid app name "'../../etc.git'"`, false},
		{"unknown app", "alice", []string{host, "git-receive-pack 'ghost.git'"}, 1, "deis: app ghost not found or not yours\n", true},
		{"unknown key", "mallory", []string{host, "git-receive-pack 'web.git'"}, 255, "Permission denied (publickey)", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code := env.ssh(tt.user, tt.args...)
			ok := strings.Contains(out, tt.wantOut)
			if tt.exact {
				ok = out == tt.wantOut
			}
			if code != tt.wantCode || !ok {
				t.Errorf("ssh %q = %d %q, want %d with %q", tt.args, code, out, tt.wantCode, tt.wantOut)
			}
		})
	}
	assertRepos(t, env.repoDir)
}

// TestGitAccess pushes and clones as the owner, a collaborator and a stranger.
// The steps run in order: the collaborator's push creates the repo.
func TestGitAccess(t *testing.T) {
	env := newTestEnv(t)
	for _, u := range []string{"alice", "bob", "carol"} {
		env.newKey(u, true)
	}
	env.users.addApp("web", "alice", "bob")
	env.users.addApp("fresh", "alice")
	tests := []struct {
		name    string
		user    string
		op      string // "push" or "clone"
		app     string
		wantOut string // "" for success
	}{
		{"collaborator can push", "bob", "push", "web", ""},
		{"stranger cannot push", "carol", "push", "web", "deis: app web not found or not yours"},
		{"stranger cannot push to an unknown app", "carol", "push", "ghost", "deis: app ghost not found or not yours"},
		{"collaborator cannot clone", "bob", "clone", "web", "deis: app web not found or not yours"},
		{"stranger cannot clone", "carol", "clone", "web", "deis: app web not found or not yours"},
		{"owner cannot clone an app never pushed", "alice", "clone", "fresh", "deis: app fresh has not been pushed yet"},
		{"owner can clone", "alice", "clone", "web", ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := fmt.Sprintf("w%d", i)
			var out string
			var err error
			if tt.op == "push" {
				dir := env.workdir(tt.user, name, tt.app, "main")
				env.commit(dir, "by", tt.user+"\n")
				out, err = env.git(tt.user, dir, "push", "deis", "main")
			} else {
				out, err = env.git(tt.user, env.dir, "clone", env.remote(tt.app), name)
			}
			if tt.wantOut == "" {
				if err != nil {
					t.Fatalf("%s: %v\n%s", tt.op, err, out)
				}
				return
			}
			if err == nil || !strings.Contains(out, tt.wantOut) {
				t.Errorf("%s = %v, want failure with %q:\n%s", tt.op, err, tt.wantOut, out)
			}
		})
	}

	lastClone := filepath.Join(env.dir, fmt.Sprintf("w%d", len(tests)-1), "by")
	if b, err := os.ReadFile(lastClone); err != nil || string(b) != "bob\n" {
		t.Errorf("cloned file = %q, %v; want bob's", b, err)
	}
	if got := env.deploys.all(); len(got) != 1 || got[0].User != "bob" {
		t.Errorf("deploys = %+v, want one by bob", got)
	}
	assertRepos(t, env.repoDir, "web.git")
}

// TestOnlySessionChannels refuses port forwarding and other channel types
// with a Go client, and checks the exit status of a refused command.
func TestOnlySessionChannels(t *testing.T) {
	env := newTestEnv(t)
	signer := env.newKey("alice", true)
	c, err := ssh.Dial("tcp", "127.0.0.1:"+env.port, &ssh.ClientConfig{
		User: "git", Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	type forward struct {
		Host     string
		Port     uint32
		OrigHost string
		OrigPort uint32
	}
	_, _, err = c.OpenChannel("direct-tcpip", ssh.Marshal(forward{"127.0.0.1", 22, "127.0.0.1", 5000}))
	var oce *ssh.OpenChannelError
	if !errors.As(err, &oce) || oce.Reason != ssh.Prohibited {
		t.Errorf("direct-tcpip channel: err = %v, want prohibited", err)
	}
	if ok, _, err := c.SendRequest("tcpip-forward", true, ssh.Marshal(struct {
		Addr string
		Port uint32
	}{"127.0.0.1", 0})); ok || err != nil {
		t.Errorf("tcpip-forward = %v, %v; want refused", ok, err)
	}

	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	sess.Stdout, sess.Stderr = &stdout, &stderr
	err = sess.Run("cat /etc/passwd")
	var ee *ssh.ExitError
	if !errors.As(err, &ee) || ee.ExitStatus() != 1 {
		t.Errorf("exec: err = %v, want exit status 1", err)
	}
	if stdout.Len() != 0 || stderr.String() != "deis: only git push is served here\n" {
		t.Errorf("exec: stdout %q, stderr %q", stdout.String(), stderr.String())
	}
}

// assertRepos checks that dir holds exactly the named repos and nothing else.
func assertRepos(t *testing.T, dir string, want ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("repo dir (-want +got):\n%s", diff)
	}
}
