package store_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/deis/deis"
	"github.com/deis/deis/store"
	"github.com/deis/deis/store/storetest"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// ignoreTimes leaves the store's clock out of comparisons; tests that care
// about times check them directly.
var ignoreTimes = cmpopts.IgnoreTypes(time.Time{})

func ptr[T any](v T) *T { return &v }

func mkUser(t testing.TB, s *store.Store, name string) deis.User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), deis.User{Username: name, Email: name + "@example.com"}, "hash-"+name)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// mkFlavor creates provider p1 and flavor f1 for owner.
func mkFlavor(t testing.TB, s *store.Store, owner string) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.CreateProvider(ctx, deis.Provider{ID: "p1", Owner: owner, Type: deis.ProviderStatic}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateFlavor(ctx, deis.Flavor{ID: "f1", Owner: owner, Provider: "p1"}); err != nil {
		t.Fatal(err)
	}
}

// mkFormation creates formation id of owner with a runtime layer of flavor
// f1 (which must exist).
func mkFormation(t testing.TB, s *store.Store, owner, id string) deis.Formation {
	t.Helper()
	layer := store.LayerSpec{Layer: deis.Layer{ID: "runtime", Flavor: "f1", Proxy: true, Runtime: true,
		SSHUser: "root", SSHPort: 22, SSHPublicKey: "ssh-ed25519 AAAA"}, PrivateKey: "PRIVATE " + id}
	f, err := s.CreateFormation(context.Background(), deis.Formation{ID: id, Owner: owner, Domain: id + ".example.com"}, layer)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func mkApp(t testing.TB, s *store.Store, owner, formation, id string) deis.App {
	t.Helper()
	a, err := s.CreateApp(context.Background(), deis.App{ID: id, Formation: formation, Owner: owner})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// world is alice (admin, first user) and bob, each with flavor f1, and
// alice's formation "dev" with an app "web".
func world(t testing.TB) *store.Store {
	t.Helper()
	s := storetest.Open(t)
	mkUser(t, s, "alice")
	mkUser(t, s, "bob")
	mkFlavor(t, s, "alice")
	mkFlavor(t, s, "bob")
	mkFormation(t, s, "alice", "dev")
	mkApp(t, s, "alice", "dev", "web")
	return s
}

func wantErr(t testing.TB, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) { // errors.Is(err, nil) is err == nil
		t.Errorf("%s: error %v, want %v", what, err, want)
	}
}

func TestSecretKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir, dbURL := t.TempDir(), storetest.DatabaseURL(t)
	open := func(key []byte) (*store.Store, error) {
		return store.Open(ctx, store.Options{DataDir: dir, DatabaseURL: dbURL, SecretKey: key, Logger: slog.New(slog.DiscardHandler)})
	}
	s, err := open(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateUser(ctx, deis.User{Username: "alice"}, "h"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	fi, err := os.Stat(filepath.Join(dir, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != 32 || fi.Mode().Perm() != 0o600 {
		t.Errorf("secret.key: size %d mode %v, want 32 bytes 0600", fi.Size(), fi.Mode().Perm())
	}

	s, err = open(nil) // same key file: opens, data intact
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.GetUser(ctx, "alice"); err != nil {
		t.Error(err)
	}
	s.Close()

	_, err = open(make([]byte, 32))
	wantErr(t, "wrong key", err, store.ErrWrongKey)
	if _, err = open([]byte("short")); err == nil {
		t.Error("a 5-byte key opened the store")
	}
}
