package nodes

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"
)

// dockerClient returns a client of the local engine, failing the test when
// there is none: these tests need the real engine (scripts/setup-debian.sh).
func dockerClient(t testing.TB) *client.Client {
	t.Helper()
	cli, err := client.New(client.FromEnv)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := cli.Ping(ctx, client.PingOptions{}); err != nil {
		t.Fatalf("no Docker engine (run scripts/setup-debian.sh): %v", err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.DiscardHandler)
}

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
