package store_test

import (
	"context"
	"testing"

	"github.com/deis/deis"
	"github.com/deis/deis/store"
	"github.com/deis/deis/store/storetest"
	"github.com/google/go-cmp/cmp"
)

func TestProviders(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.Open(t)
	mkUser(t, s, "alice")
	mkUser(t, s, "bob")
	creds := map[string]string{"secret": "s3cr3t", "access": "AKIA"}
	p, err := s.CreateProvider(ctx, deis.Provider{ID: "aws", Owner: "alice", Type: deis.ProviderEC2}, creds)
	if err != nil {
		t.Fatal(err)
	}
	want := deis.Provider{ID: "aws", Owner: "alice", Type: deis.ProviderEC2, CredKeys: []string{"access", "secret"}}
	if diff := cmp.Diff(want, p, ignoreTimes); diff != "" {
		t.Errorf("CreateProvider (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		name    string
		p       deis.Provider
		wantErr error
	}{
		{"duplicate", deis.Provider{ID: "aws", Owner: "alice", Type: deis.ProviderEC2}, store.ErrConflict},
		{"same id other owner", deis.Provider{ID: "aws", Owner: "bob", Type: deis.ProviderStatic}, nil},
		{"unknown owner", deis.Provider{ID: "x", Owner: "nobody", Type: deis.ProviderStatic}, store.ErrNotFound},
	} {
		_, err := s.CreateProvider(ctx, tc.p, nil)
		wantErr(t, tc.name, err, tc.wantErr)
	}

	got, err := s.GetProvider(ctx, "alice", "aws")
	if diff := cmp.Diff(p, got); err != nil || diff != "" {
		t.Errorf("GetProvider: %v (-want +got):\n%s", err, diff)
	}
	if got, err := s.ProviderCreds(ctx, "alice", "aws"); err != nil || !cmp.Equal(creds, got) {
		t.Errorf("ProviderCreds = %v, %v; want %v", got, err, creds)
	}
	if bob, err := s.GetProvider(ctx, "bob", "aws"); err != nil || len(bob.CredKeys) != 0 || bob.CredKeys == nil {
		t.Errorf("bob's provider = %+v, %v; want CredKeys [] (not nil)", bob, err)
	}
	_, err = s.GetProvider(ctx, "alice", "nope")
	wantErr(t, "GetProvider(unknown)", err, store.ErrNotFound)

	up, err := s.UpdateProviderCreds(ctx, "alice", "aws", map[string]*string{"secret": nil, "region": ptr("eu-west-1"), "gone": nil})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"access", "region"}, up.CredKeys); diff != "" || up.Updated.Before(up.Created) {
		t.Errorf("UpdateProviderCreds CredKeys (-want +got):\n%s", diff)
	}
	wantCreds := map[string]string{"access": "AKIA", "region": "eu-west-1"}
	if got, err := s.ProviderCreds(ctx, "alice", "aws"); err != nil || !cmp.Equal(wantCreds, got) {
		t.Errorf("ProviderCreds after update = %v, %v; want %v", got, err, wantCreds)
	}
	_, err = s.UpdateProviderCreds(ctx, "alice", "nope", nil)
	wantErr(t, "UpdateProviderCreds(unknown)", err, store.ErrNotFound)

	ps, total, err := s.ListProviders(ctx, "alice", store.PageReq{})
	if diff := cmp.Diff([]deis.Provider{up}, ps); err != nil || diff != "" || total != 1 {
		t.Errorf("ListProviders: %v total %d (-want +got):\n%s", err, total, diff)
	}
}

func TestFlavors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.Open(t)
	mkUser(t, s, "alice")
	mkUser(t, s, "bob")
	mkFlavor(t, s, "alice") // p1, f1
	if _, err := s.CreateProvider(ctx, deis.Provider{ID: "p2", Owner: "alice", Type: deis.ProviderDocker}, nil); err != nil {
		t.Fatal(err)
	}
	params := map[string]string{"region": "us-east-1", "size": "t3.small"}
	for _, tc := range []struct {
		name    string
		f       deis.Flavor
		wantErr error
	}{
		{"ok", deis.Flavor{ID: "big", Owner: "alice", Provider: "p1", Params: params}, nil},
		{"duplicate", deis.Flavor{ID: "big", Owner: "alice", Provider: "p1"}, store.ErrConflict},
		{"unknown provider", deis.Flavor{ID: "x", Owner: "alice", Provider: "nope"}, store.ErrNotFound},
		{"another user's provider", deis.Flavor{ID: "x", Owner: "bob", Provider: "p1"}, store.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := s.CreateFlavor(ctx, tc.f)
			wantErr(t, "CreateFlavor", err, tc.wantErr)
			if err != nil {
				return
			}
			got, err := s.GetFlavor(ctx, tc.f.Owner, tc.f.ID)
			if diff := cmp.Diff(f, got); err != nil || diff != "" {
				t.Errorf("GetFlavor: %v (-created +got):\n%s", err, diff)
			}
		})
	}
	f, err := s.UpdateFlavor(ctx, "alice", "big", flavorPatch(deis.FlavorUpdateRequest{
		Provider: ptr("p2"), Params: map[string]*string{"size": nil, "image": ptr("ubuntu")}}))
	if err != nil {
		t.Fatal(err)
	}
	want := deis.Flavor{ID: "big", Owner: "alice", Provider: "p2", Params: map[string]string{"region": "us-east-1", "image": "ubuntu"}}
	if diff := cmp.Diff(want, f, ignoreTimes); diff != "" {
		t.Errorf("UpdateFlavor (-want +got):\n%s", diff)
	}
	_, err = s.UpdateFlavor(ctx, "alice", "big", flavorPatch(deis.FlavorUpdateRequest{Provider: ptr("nope")}))
	wantErr(t, "UpdateFlavor to unknown provider", err, store.ErrNotFound)
	_, err = s.UpdateFlavor(ctx, "alice", "nope", flavorPatch(deis.FlavorUpdateRequest{}))
	wantErr(t, "UpdateFlavor(unknown)", err, store.ErrNotFound)
	fs, total, err := s.ListFlavors(ctx, "alice", store.PageReq{})
	if err != nil || total != 2 || len(fs) != 2 || fs[0].ID != "big" || fs[1].ID != "f1" {
		t.Errorf("ListFlavors = %+v, %d, %v; want big, f1", fs, total, err)
	}

	// In use: p2 by flavor big, f1 by a layer of alice's formation.
	mkFormation(t, s, "alice", "dev")
	wantErr(t, "DeleteProvider(p2)", s.DeleteProvider(ctx, "alice", "p2"), store.ErrInUse)
	wantErr(t, "DeleteFlavor(f1)", s.DeleteFlavor(ctx, "alice", "f1"), store.ErrInUse)
	wantErr(t, "DeleteFlavor(big)", s.DeleteFlavor(ctx, "alice", "big"), nil)
	wantErr(t, "DeleteFlavor(big) again", s.DeleteFlavor(ctx, "alice", "big"), store.ErrNotFound)
	wantErr(t, "DeleteProvider(p2) once unused", s.DeleteProvider(ctx, "alice", "p2"), nil)
	wantErr(t, "DeleteProvider(p2) again", s.DeleteProvider(ctx, "alice", "p2"), store.ErrNotFound)
	wantErr(t, "DeleteFormation", s.DeleteFormation(ctx, "dev"), nil)
	wantErr(t, "DeleteFlavor(f1) once unused", s.DeleteFlavor(ctx, "alice", "f1"), nil)
}

// flavorPatch is a mutator applying req, as the API's is.
func flavorPatch(req deis.FlavorUpdateRequest) func(*deis.Flavor) error {
	return func(f *deis.Flavor) error {
		req.Apply(f)
		return nil
	}
}
