//go:build docker

package nodes

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/deis/deis"
	"github.com/deis/deis/layers"
	"github.com/deis/deis/store"
	"github.com/deis/deis/store/storetest"
)

type discard struct{}

func (discard) Printf(string, ...any) {}

// BenchmarkProvision times nodes:scale from 0 to N docker nodes (create,
// reach, pin, bootstrap, check), with the node image already built, and
// destroys them between iterations (untimed).
//
//	go test -run '^$' -bench Provision -benchtime 5x ./nodes/
func BenchmarkProvision(b *testing.B) {
	for _, n := range []int{1, 4} {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			ctx := context.Background()
			st := storetest.Open(b)
			log := testLogger(b)
			d := NewDocker(dockerClient(b), "bench-provision", "", log)
			if _, err := d.Images.EnsureNode(ctx, NodeFull); err != nil {
				b.Fatal(err)
			}
			defer d.RemoveNetwork(ctx, "")
			pool := NewPool(log)
			defer pool.Close()
			m := &Manager{Store: st, Providers: &Providers{Docker: d, Log: log}, Pool: pool, Log: log,
				Parallel: 4, UpTimeout: 2 * time.Minute, StepTimeout: 5 * time.Minute}
			f := benchFormation(b, st)
			b.ResetTimer()
			for range b.N {
				if err := m.Scale(ctx, f, map[string]int{"runtime": n}, discard{}); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if err := m.Scale(ctx, f, map[string]int{"runtime": 0}, discard{}); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
	}
}

func benchFormation(b *testing.B, st *store.Store) deis.Formation {
	ctx := context.Background()
	if _, err := st.CreateUser(ctx, deis.User{Username: "bench"}, "x"); err != nil {
		b.Fatal(err)
	}
	if _, err := st.CreateProvider(ctx, deis.Provider{ID: "docker", Owner: "bench", Type: "docker"}, nil); err != nil {
		b.Fatal(err)
	}
	if _, err := st.CreateFlavor(ctx, deis.Flavor{ID: "docker", Owner: "bench", Provider: "docker"}); err != nil {
		b.Fatal(err)
	}
	l, _ := layers.New("bench", deis.LayerCreateRequest{ID: "runtime", Flavor: "docker"})
	pub, priv, err := layers.NewKeyPair("bench")
	if err != nil {
		b.Fatal(err)
	}
	l.SSHPublicKey = pub
	f, err := st.CreateFormation(ctx, deis.Formation{ID: "bench", Owner: "bench"}, store.LayerSpec{Layer: l, PrivateKey: priv})
	if err != nil {
		b.Fatal(err)
	}
	return f
}
