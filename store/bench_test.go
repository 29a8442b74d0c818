package store_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/deis/deis/store"
)

// benchStore is a SQLite store with alice's 200 apps, 20 shared with bob.
func benchStore(b *testing.B) *store.Store {
	b.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, store.Options{DataDir: b.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	mkUser(b, s, "alice")
	mkUser(b, s, "bob")
	mkFlavor(b, s, "alice")
	mkFormation(b, s, "alice", "dev")
	for i := range 200 {
		id := fmt.Sprintf("app-%03d", i)
		mkApp(b, s, "alice", "dev", id)
		if i%10 == 0 {
			if err := s.AddCollaborator(ctx, id, "bob"); err != nil {
				b.Fatal(err)
			}
		}
	}
	return s
}

func BenchmarkGetApp(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	v := store.Viewer{Username: "bob"}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.GetApp(ctx, v, "app-100"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkListApps(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	v := store.Viewer{Username: "bob"}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			as, total, err := s.ListApps(ctx, v, store.PageReq{Limit: 100})
			if err != nil || total != 20 || len(as) != 20 {
				b.Fatalf("ListApps: %d of %d, %v", len(as), total, err)
			}
		}
	})
}

// BenchmarkUserForToken is the per-request authentication lookup.
func BenchmarkUserForToken(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	now := time.Now()
	if err := s.CreateToken(ctx, "alice", "hash", now.Add(time.Hour)); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := s.UserForToken(ctx, "hash", now); err != nil {
			b.Fatal(err)
		}
	}
}
