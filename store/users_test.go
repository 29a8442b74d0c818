package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/deis/deis"
	"github.com/deis/deis/store"
	"github.com/deis/deis/store/storetest"
	"github.com/google/go-cmp/cmp"
)

func TestUsers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.Open(t)
	for _, tc := range []struct {
		name, username string
		admin          bool // asked for
		wantAdmin      bool
		wantErr        error
	}{
		{name: "first user is admin", username: "alice", wantAdmin: true},
		{name: "second is not", username: "bob"},
		{name: "admin on request", username: "carol", admin: true, wantAdmin: true},
		{name: "duplicate", username: "alice", wantErr: store.ErrConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := s.CreateUser(ctx, deis.User{Username: tc.username, Email: "e@x", Admin: tc.admin}, "hash-"+tc.username)
			wantErr(t, "CreateUser", err, tc.wantErr)
			if err != nil {
				return
			}
			if u.Admin != tc.wantAdmin || u.Created.IsZero() {
				t.Errorf("CreateUser = %+v, want admin %v and a created time", u, tc.wantAdmin)
			}
			got, hash, err := s.GetUser(ctx, tc.username)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(u, got); diff != "" || hash != "hash-"+tc.username {
				t.Errorf("GetUser (-created +got):\n%s hash %q", diff, hash)
			}
		})
	}
	_, _, err := s.GetUser(ctx, "nobody")
	wantErr(t, "GetUser(nobody)", err, store.ErrNotFound)
}

func TestTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.Open(t)
	alice := mkUser(t, s, "alice")
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := s.CreateToken(ctx, "alice", "h1", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "duplicate token", s.CreateToken(ctx, "alice", "h1", t0), store.ErrConflict)
	wantErr(t, "token of nobody", s.CreateToken(ctx, "nobody", "h2", t0), store.ErrNotFound)
	for _, tc := range []struct {
		name, hash string
		now        time.Time
		wantErr    error
	}{
		{"valid", "h1", t0, nil},
		{"just before expiry", "h1", t0.Add(time.Hour - time.Microsecond), nil},
		{"at expiry", "h1", t0.Add(time.Hour), store.ErrNotFound},
		{"unknown", "nope", t0, store.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, _, err := s.UserForToken(ctx, tc.hash, tc.now)
			wantErr(t, "UserForToken", err, tc.wantErr)
			if err == nil {
				if diff := cmp.Diff(alice, u); diff != "" {
					t.Errorf("UserForToken (-want +got):\n%s", diff)
				}
			}
		})
	}
	if err := s.DeleteToken(ctx, "h1"); err != nil {
		t.Fatal(err)
	}
	_, _, err := s.UserForToken(ctx, "h1", t0)
	wantErr(t, "deleted token", err, store.ErrNotFound)
	wantErr(t, "delete twice", s.DeleteToken(ctx, "h1"), store.ErrNotFound)
}

func TestKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.Open(t)
	mkUser(t, s, "alice")
	mkUser(t, s, "bob")
	key := func(owner, id, fp string) deis.Key {
		return deis.Key{Owner: owner, ID: id, Public: "ssh-ed25519 AAAA" + fp, Fingerprint: fp}
	}
	var made []deis.Key
	for _, tc := range []struct {
		name    string
		k       deis.Key
		wantErr error
	}{
		{"first", key("alice", "laptop", "SHA256:a"), nil},
		{"second", key("alice", "desk", "SHA256:b"), nil},
		{"same id other user", key("bob", "laptop", "SHA256:c"), nil},
		{"duplicate id", key("alice", "laptop", "SHA256:d"), store.ErrConflict},
		{"fingerprint of another user", key("bob", "other", "SHA256:a"), store.ErrConflict},
		{"unknown owner", key("nobody", "x", "SHA256:e"), store.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := s.CreateKey(ctx, tc.k)
			wantErr(t, "CreateKey", err, tc.wantErr)
			if err == nil {
				made = append(made, k)
				if diff := cmp.Diff(tc.k, k, ignoreTimes); diff != "" {
					t.Errorf("CreateKey (-want +got):\n%s", diff)
				}
			}
		})
	}
	keys, total, err := s.ListKeys(ctx, "alice", store.PageReq{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]deis.Key{made[1], made[0]}, keys); diff != "" || total != 2 {
		t.Errorf("ListKeys (-want +got):\n%s total %d", diff, total)
	}
	got, err := s.GetKey(ctx, "bob", "laptop")
	if diff := cmp.Diff(made[2], got); err != nil || diff != "" {
		t.Errorf("GetKey: %v (-want +got):\n%s", err, diff)
	}
	_, err = s.GetKey(ctx, "bob", "desk")
	wantErr(t, "GetKey(other's)", err, store.ErrNotFound)
	if owner, err := s.UserForFingerprint(ctx, "SHA256:c"); err != nil || owner != "bob" {
		t.Errorf("UserForFingerprint = %q, %v; want bob", owner, err)
	}
	_, err = s.UserForFingerprint(ctx, "SHA256:zzz")
	wantErr(t, "UserForFingerprint(unknown)", err, store.ErrNotFound)
	wantErr(t, "DeleteKey", s.DeleteKey(ctx, "alice", "laptop"), nil)
	wantErr(t, "DeleteKey again", s.DeleteKey(ctx, "alice", "laptop"), store.ErrNotFound)
	_, err = s.UserForFingerprint(ctx, "SHA256:a")
	wantErr(t, "fingerprint of deleted key", err, store.ErrNotFound)
}

func TestPaging(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.Open(t)
	mkUser(t, s, "alice")
	for _, id := range []string{"e", "c", "a", "d", "b"} {
		if _, err := s.CreateKey(ctx, deis.Key{Owner: "alice", ID: id, Fingerprint: id}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		p    store.PageReq
		want []string
	}{
		{store.PageReq{}, []string{"a", "b", "c", "d", "e"}},
		{store.PageReq{Limit: 2}, []string{"a", "b"}},
		{store.PageReq{Limit: 2, Offset: 4}, []string{"e"}},
		{store.PageReq{Offset: 3}, []string{"d", "e"}},
		{store.PageReq{Limit: 2, Offset: 9}, []string{}},
	} {
		keys, total, err := s.ListKeys(ctx, "alice", tc.p)
		if err != nil {
			t.Fatal(err)
		}
		ids := []string{}
		for _, k := range keys {
			ids = append(ids, k.ID)
		}
		if diff := cmp.Diff(tc.want, ids); diff != "" || total != 5 {
			t.Errorf("ListKeys(%+v) (-want +got):\n%s total %d, want 5", tc.p, diff, total)
		}
	}
}
