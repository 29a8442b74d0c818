package store_test

import (
	"context"
	"testing"

	"github.com/deis/deis"
	"github.com/deis/deis/layers"
	"github.com/deis/deis/store"
	"github.com/deis/deis/store/storetest"
	"github.com/google/go-cmp/cmp"
)

func TestFormations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.Open(t)
	mkUser(t, s, "alice") // admin
	mkUser(t, s, "bob")
	mkUser(t, s, "carol")
	mkFlavor(t, s, "bob")
	mkFlavor(t, s, "carol")
	bobF := mkFormation(t, s, "bob", "bobs")
	carolF := mkFormation(t, s, "carol", "carols")
	want := deis.Formation{ID: "bobs", Owner: "bob", Domain: "bobs.example.com", Nodes: map[string]int{"runtime": 0}}
	if diff := cmp.Diff(want, bobF, ignoreTimes); diff != "" {
		t.Errorf("CreateFormation (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		name    string
		f       deis.Formation
		layers  []store.LayerSpec
		wantErr error
	}{
		{"taken id", deis.Formation{ID: "carols", Owner: "bob"}, nil, store.ErrConflict},
		{"unknown owner", deis.Formation{ID: "x", Owner: "nobody"}, nil, store.ErrNotFound},
		{"layer with another user's flavor", deis.Formation{ID: "y", Owner: "alice"},
			[]store.LayerSpec{{Layer: deis.Layer{ID: "l", Flavor: "f1"}}}, store.ErrNotFound},
	} {
		_, err := s.CreateFormation(ctx, tc.f, tc.layers...)
		wantErr(t, tc.name, err, tc.wantErr)
	}
	_, err := s.GetFormation(ctx, store.Viewer{Username: "alice", Admin: true}, "y")
	wantErr(t, "formation of failed create", err, store.ErrNotFound)

	for _, tc := range []struct {
		name    string
		v       store.Viewer
		id      string
		want    deis.Formation
		wantErr error
	}{
		{"owner", store.Viewer{Username: "bob"}, "bobs", bobF, nil},
		{"admin", store.Viewer{Username: "alice", Admin: true}, "bobs", bobF, nil},
		{"another user", store.Viewer{Username: "carol"}, "bobs", deis.Formation{}, store.ErrNotFound},
		{"unknown", store.Viewer{Username: "bob"}, "nope", deis.Formation{}, store.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.GetFormation(ctx, tc.v, tc.id)
			wantErr(t, "GetFormation", err, tc.wantErr)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("GetFormation (-want +got):\n%s", diff)
			}
		})
	}
	for _, tc := range []struct {
		v    store.Viewer
		want []deis.Formation
	}{
		{store.Viewer{Username: "bob"}, []deis.Formation{bobF}},
		{store.Viewer{Username: "alice", Admin: true}, []deis.Formation{bobF, carolF}},
		{store.Viewer{Username: "alice"}, []deis.Formation{}},
	} {
		got, total, err := s.ListFormations(ctx, tc.v, store.PageReq{})
		if diff := cmp.Diff(tc.want, got); err != nil || diff != "" || total != len(tc.want) {
			t.Errorf("ListFormations(%+v): %v total %d (-want +got):\n%s", tc.v, err, total, diff)
		}
	}
	up, err := s.UpdateFormation(ctx, "bobs", "apps.bob.io")
	if err != nil || up.Domain != "apps.bob.io" || up.Updated.Before(bobF.Updated) {
		t.Errorf("UpdateFormation = %+v, %v", up, err)
	}
	_, err = s.UpdateFormation(ctx, "nope", "x")
	wantErr(t, "UpdateFormation(unknown)", err, store.ErrNotFound)
}

func TestLayers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.Open(t)
	mkUser(t, s, "alice")
	mkFlavor(t, s, "alice")
	mkFormation(t, s, "alice", "dev")
	proxy := deis.Layer{Formation: "dev", ID: "proxy", Flavor: "f1", Proxy: true, SSHUser: "ubuntu", SSHPort: 2222, SSHPublicKey: "ssh-rsa AAAA"}
	l, err := s.CreateLayer(ctx, proxy, "-----BEGIN KEY-----\nabc\n")
	if diff := cmp.Diff(proxy, l, ignoreTimes); err != nil || diff != "" {
		t.Errorf("CreateLayer: %v (-want +got):\n%s", err, diff)
	}
	for _, tc := range []struct {
		name    string
		l       deis.Layer
		wantErr error
	}{
		{"duplicate", deis.Layer{Formation: "dev", ID: "proxy", Flavor: "f1"}, store.ErrConflict},
		{"unknown formation", deis.Layer{Formation: "nope", ID: "x", Flavor: "f1"}, store.ErrNotFound},
		{"unknown flavor", deis.Layer{Formation: "dev", ID: "x", Flavor: "nope"}, store.ErrNotFound},
	} {
		_, err := s.CreateLayer(ctx, tc.l, "")
		wantErr(t, tc.name, err, tc.wantErr)
	}
	if got, err := s.GetLayer(ctx, "dev", "proxy"); err != nil || !cmp.Equal(l, got) {
		t.Errorf("GetLayer = %+v, %v; want %+v", got, err, l)
	}
	if key, err := s.LayerPrivateKey(ctx, "dev", "proxy"); err != nil || key != "-----BEGIN KEY-----\nabc\n" {
		t.Errorf("LayerPrivateKey = %q, %v", key, err)
	}
	if key, err := s.LayerPrivateKey(ctx, "dev", "runtime"); err != nil || key != "PRIVATE dev" {
		t.Errorf("LayerPrivateKey(runtime) = %q, %v", key, err)
	}
	_, err = s.LayerPrivateKey(ctx, "dev", "nope")
	wantErr(t, "LayerPrivateKey(unknown)", err, store.ErrNotFound)

	up, err := s.UpdateLayer(ctx, "dev", "proxy", layerPatch(deis.LayerUpdateRequest{Runtime: ptr(true), SSHPort: ptr(22)}))
	want := proxy
	want.Runtime, want.SSHPort = true, 22
	if diff := cmp.Diff(want, up, ignoreTimes); err != nil || diff != "" {
		t.Errorf("UpdateLayer: %v (-want +got):\n%s", err, diff)
	}
	_, err = s.UpdateLayer(ctx, "dev", "proxy", layerPatch(deis.LayerUpdateRequest{Flavor: ptr("nope")}))
	wantErr(t, "UpdateLayer to unknown flavor", err, store.ErrNotFound)
	_, err = s.UpdateLayer(ctx, "dev", "nope", layerPatch(deis.LayerUpdateRequest{}))
	wantErr(t, "UpdateLayer(unknown)", err, store.ErrNotFound)

	ls, total, err := s.ListLayers(ctx, "dev", store.PageReq{})
	if err != nil || total != 2 || ls[0].ID != "proxy" || ls[1].ID != "runtime" {
		t.Errorf("ListLayers = %+v, %d, %v; want proxy, runtime", ls, total, err)
	}
	wantErr(t, "DeleteLayer", s.DeleteLayer(ctx, "dev", "proxy"), nil)
	wantErr(t, "DeleteLayer again", s.DeleteLayer(ctx, "dev", "proxy"), store.ErrNotFound)
}

// layerPatch is a mutator applying req, as the API's is.
func layerPatch(req deis.LayerUpdateRequest) func(*deis.Layer) error {
	return func(l *deis.Layer) error {
		u, err := layers.Update(*l, req)
		*l = u
		return err
	}
}
