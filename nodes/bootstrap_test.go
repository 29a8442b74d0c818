//go:build docker

package nodes

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deis/deis/recipes"
)

// TestBootstrapBareNode runs the bootstrap recipe on a node that starts with
// only sshd: it must install and start the Docker engine and nginx, and a
// second run must change nothing.
func TestBootstrapBareNode(t *testing.T) {
	d := NewDocker(dockerClient(t), "test-bootstrap", "", testLogger(t))
	m, signer := testNode(t, d, NodeBare, "t-bare-1", false)
	pool := NewPool(testLogger(t))
	defer pool.Close()
	tg := Target{Node: m.Node, Addr: m.Address + ":22", User: "root", Signer: signer}
	tg.HostKey = awaitSSH(t, pool, tg)
	r := runner{pool: pool, t: tg}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	before, err := pool.Run(ctx, tg, "command -v dockerd nginx || true", nil)
	if err != nil || strings.TrimSpace(string(before.Stdout)) != "" {
		t.Fatalf("the bare node already has %q (%v)", before.Stdout, err)
	}
	first, err := recipes.Bootstrap(ctx, r, "root")
	if err != nil {
		t.Fatalf("first bootstrap: %v", err)
	}
	for _, want := range []string{"packages: docker.io nginx curl", "service:docker", "service:nginx", "dir:/var/lib/deis/slugs"} {
		if !slices.Contains(first.Changed, want) {
			t.Errorf("first bootstrap changed %q, want it to include %q", first.Changed, want)
		}
	}
	second, err := recipes.Bootstrap(ctx, r, "root")
	if err != nil || len(second.Changed) != 0 {
		t.Errorf("second bootstrap changed %q (%v), want nothing", second.Changed, err)
	}
	res, err := pool.Run(ctx, tg, "docker info --format '{{.ServerVersion}}' && pgrep -x nginx >/dev/null && echo nginx-up", nil)
	if err != nil || !strings.Contains(string(res.Stdout), "nginx-up") {
		t.Errorf("after bootstrap: %s %s %v", res.Stdout, res.Stderr, err)
	}
}
