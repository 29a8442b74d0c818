//go:build docker

package nodes

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/deis/deis/layers"
	"golang.org/x/crypto/ssh"
)

// testNode starts a node container through the docker provider and removes
// it when the test ends.
func testNode(t *testing.T, d *Docker, kind, node string, proxy bool) (Machine, ssh.Signer) {
	t.Helper()
	pub, priv, err := layers.NewKeyPair("test")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey([]byte(priv))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	m, err := d.Create(ctx, Spec{Formation: "t", Layer: "l", Node: node, Proxy: proxy, PublicKey: pub, Params: map[string]string{"image": kind}})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	t.Cleanup(func() {
		d.Destroy(context.Background(), m.ProviderID)
		d.RemoveNetwork(context.Background(), "t")
	})
	return m, signer
}

// awaitSSH runs true on the node until sshd answers.
func awaitSSH(t *testing.T, p *Pool, tg Target) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, hostKey, err := p.Dial(ctx, tg)
		cancel()
		if err == nil {
			return hostKey
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %s never answered SSH: %v", tg.Node, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestDockerNode(t *testing.T) {
	cli := dockerClient(t)
	d := NewDocker(cli, "test-"+t.Name(), "", testLogger(t))
	m, signer := testNode(t, d, NodeFull, "t-l-test-1", true)
	if m.Address == "" || !m.Running || !strings.HasPrefix(m.Public, "127.0.0.1:") {
		t.Fatalf("machine = %+v, want an address, running, and HTTP published on loopback", m)
	}
	pool := NewPool(testLogger(t))
	defer pool.Close()
	tg := Target{Node: m.Node, Addr: m.Address + ":22", User: "root", Signer: signer}
	tg.HostKey = awaitSSH(t, pool, tg)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, cmd := range []string{"docker info --format '{{.ServerVersion}}'", "nginx -v"} {
		var res Result
		var err error
		for i := 0; i < 50; i++ { // dockerd takes a moment after sshd
			if res, err = pool.Run(ctx, tg, cmd, nil); err == nil && res.ExitCode == 0 {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if err != nil || res.ExitCode != 0 {
			t.Errorf("%s: exit %d, %v: %s %s", cmd, res.ExitCode, err, res.Stdout, res.Stderr)
		}
	}
	res, err := pool.Run(ctx, tg, "exit 3", nil)
	if err != nil || res.ExitCode != 3 {
		t.Errorf("exit 3 gave %d, %v", res.ExitCode, err)
	}

	// A changed host key is refused with a clear error naming the node.
	pool.Forget(m.Node)
	other, _, _ := layers.NewKeyPair("")
	bad := tg
	bad.HostKey = other
	_, err = pool.Run(ctx, bad, "true", nil)
	if !errors.Is(err, ErrHostKeyChanged) || !strings.Contains(err.Error(), m.Node) {
		t.Errorf("changed host key gave %v", err)
	}

	ms, err := d.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, x := range ms {
		found = found || x.ProviderID == m.ProviderID
	}
	if !found {
		t.Errorf("List does not show the node: %+v", ms)
	}
	if err := d.Destroy(ctx, m.ProviderID); err != nil {
		t.Fatal(err)
	}
	if err := d.Destroy(ctx, m.ProviderID); err != nil {
		t.Errorf("second Destroy: %v", err)
	}
}

func BenchmarkSSHRoundTrip(b *testing.B) {
	cli := dockerClient(b)
	d := NewDocker(cli, "bench", "", testLogger(b))
	pub, priv, _ := layers.NewKeyPair("bench")
	signer, _ := ssh.ParsePrivateKey([]byte(priv))
	ctx := context.Background()
	m, err := d.Create(ctx, Spec{Formation: "b", Layer: "l", Node: "b-l-bench-1", PublicKey: pub, Params: map[string]string{"image": NodeBare}})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Destroy(ctx, m.ProviderID)
	pool := NewPool(testLogger(b))
	defer pool.Close()
	tg := Target{Node: m.Node, Addr: m.Address + ":22", User: "root", Signer: signer}
	for i := 0; ; i++ {
		if _, _, err := pool.Dial(ctx, tg); err == nil {
			break
		} else if i > 300 {
			b.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if res, err := pool.Run(ctx, tg, "true", nil); err != nil || res.ExitCode != 0 {
			b.Fatal(err)
		}
	}
}
