package gitreceive

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// TestPushLimits is security review #13, for push sizes: a push whose pack
// is over MaxPush is refused by git and deploys nothing; a small one goes.
func TestPushLimits(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.MaxPush = 16 << 10 })
	env.newKey("bob", true)
	env.users.addApp("bobapp", "bob")
	work := env.workdir("bob", "work", "bobapp", "main")
	env.commit(work, "small", "hello\n")
	env.mustGit("bob", work, "push", "-q", "deis", "main")
	big := make([]byte, 64<<10)
	rand.Read(big)
	env.commit(work, "big", hex.EncodeToString(big)) // random: it does not compress
	out, err := env.git("bob", work, "push", "deis", "main")
	if err == nil || !strings.Contains(out, "maximum allowed size") {
		t.Errorf("a push over the limit: %v, want it refused:\n%s", err, out)
	}
	if got := len(env.deploys.all()); got != 1 {
		t.Errorf("%d deploys, want 1 (the small push only)", got)
	}
}

// dialGit opens an SSH connection to the endpoint as user.
func dialGit(t *testing.T, env *testEnv, signer ssh.Signer) *ssh.Client {
	t.Helper()
	c, err := ssh.Dial("tcp", net.JoinHostPort("127.0.0.1", env.port), &ssh.ClientConfig{
		User: "git", Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// holdReceive starts a receive-pack session on c and leaves it waiting
// for the push; it reports whether the server let it start.
func holdReceive(t *testing.T, c *ssh.Client, app string) (bool, string) {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		return false, err.Error()
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.StdinPipe(); err != nil { // kept open: git waits for the push
		t.Fatal(err)
	}
	if err := s.Start("git-receive-pack '" + app + ".git'"); err != nil {
		return false, err.Error()
	}
	return true, ""
}

// TestSessionCaps is security review #13, for held sessions: bob cannot
// hold more than MaxSessions receive-packs at once, over any number of
// connections, nor more than MaxConnSessions on one connection; alice is
// not held up by him; a session that ends gives its place back.
func TestSessionCaps(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.MaxSessions = 3; c.MaxConnSessions = 2 })
	bob, alice := env.newKey("bob", true), env.newKey("alice", true)
	env.users.addApp("bobapp", "bob")
	env.users.addApp("aliceapp", "alice")
	one := dialGit(t, env, bob)
	for i := range 2 {
		if ok, why := holdReceive(t, one, "bobapp"); !ok {
			t.Fatalf("bob's session %d on one connection refused: %s", i+1, why)
		}
	}
	if ok, _ := holdReceive(t, one, "bobapp"); ok {
		t.Error("a third session on one connection was let in")
	}
	two := dialGit(t, env, bob)
	if ok, why := holdReceive(t, two, "bobapp"); !ok {
		t.Fatalf("bob's third session on a second connection refused: %s", why)
	}
	three := dialGit(t, env, bob)
	if ok, why := holdReceive(t, three, "bobapp"); ok {
		t.Error("bob's fourth session was let in")
	} else if !strings.Contains(why, "3 git sessions running") {
		t.Errorf("the refusal says %q", why)
	}
	if ok, why := holdReceive(t, dialGit(t, env, alice), "aliceapp"); !ok {
		t.Errorf("alice refused while bob holds his sessions: %s", why)
	}
	two.Close() // one of bob's sessions ends
	deadline := time.Now().Add(5 * time.Second)
	for {
		if ok, _ := holdReceive(t, dialGit(t, env, bob), "bobapp"); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("bob's place did not come back when a session ended")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
