//go:build docker

package nodes

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"
)

// TestFormationNetwork: many nodes of one formation starting at once get
// one network; a duplicate (an older version's race, or another process)
// does not make it ambiguous: the oldest is used; another formation gets
// its own; removal takes every copy; a prune keeps the formations named.
func TestFormationNetwork(t *testing.T) {
	cli := dockerClient(t)
	var salt [4]byte
	rand.Read(salt[:])
	d := NewDocker(cli, "test-net-"+hex.EncodeToString(salt[:]), "", testLogger(t))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	t.Cleanup(func() { d.RemoveNetwork(context.Background(), "") })
	count := func(formation string) int {
		t.Helper()
		res, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: d.networkFilters(formation)})
		if err != nil {
			t.Fatal(err)
		}
		return len(res.Items)
	}

	ids := make([]string, 8)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			id, err := d.formationNetwork(ctx, "a")
			if err != nil {
				t.Error(err)
			}
			ids[i] = id
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id == "" || id != ids[0] {
			t.Fatalf("concurrent callers got networks %v, want one", ids)
		}
	}
	if n := count("a"); n != 1 {
		t.Fatalf("formation a has %d networks, want 1", n)
	}

	// A duplicate with the same labels and name: the oldest still wins.
	time.Sleep(10 * time.Millisecond)
	dup, err := cli.NetworkCreate(ctx, d.networkName("a"), client.NetworkCreateOptions{Driver: "bridge",
		Labels: map[string]string{LabelManaged: "1", LabelController: d.Controller, LabelFormation: "a"}})
	if err != nil {
		t.Fatal(err)
	}
	if id, err := d.formationNetwork(ctx, "a"); err != nil || id != ids[0] || id == dup.ID {
		t.Errorf("with a duplicate: got %s, %v; want the first, %s", id, err, ids[0])
	}

	b, err := d.formationNetwork(ctx, "b")
	if err != nil || b == ids[0] {
		t.Fatalf("formation b: got %s, %v; want a network of its own", b, err)
	}
	if err := d.RemoveNetwork(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if n := count("a"); n != 0 {
		t.Errorf("after RemoveNetwork, formation a has %d networks", n)
	}

	if _, err := d.formationNetwork(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	removed, err := d.pruneNetworks(ctx, func(f string) bool { return f == "b" })
	if err != nil || removed < 1 {
		t.Fatalf("prune: removed %d, %v", removed, err)
	}
	if count("b") != 1 || count("c") != 0 {
		t.Errorf("after a prune keeping b: b has %d networks, c %d; want 1 and 0", count("b"), count("c"))
	}
}
