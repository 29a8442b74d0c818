//go:build docker

package nodes

import (
	"context"
	"strings"
	"testing"
	"time"
)

// dockerClient returns a client of the local engine, failing the test when
// there is none: these tests need the real engine (scripts/setup-debian.sh).

func TestEnsureNodeImages(t *testing.T) {
	cli := dockerClient(t)
	im := &Images{Docker: cli, Log: testLogger(t)}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	for _, kind := range []string{NodeFull, NodeBare} {
		tag, err := im.EnsureNode(ctx, kind)
		if err != nil {
			t.Fatalf("EnsureNode(%s): %v", kind, err)
		}
		if !strings.HasPrefix(tag, "deis/node-"+kind+":") {
			t.Errorf("tag = %q", tag)
		}
		again, err := im.EnsureNode(ctx, kind)
		if err != nil || again != tag {
			t.Errorf("second EnsureNode(%s) = %q, %v; want the cached %q", kind, again, err, tag)
		}
	}
	if _, err := im.EnsureRunner(ctx); err != nil {
		t.Fatalf("EnsureRunner: %v", err)
	}
	// The negotiated API version is pinned by a test: a client bump that
	// cannot talk to Debian's engine (API 1.41) must fail here.
	if v := cli.ClientVersion(); v == "" || v > "1.99" {
		t.Errorf("negotiated API version %q", v)
	}
}
