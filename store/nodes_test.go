package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/deis/deis"
	"github.com/deis/deis/store"
	"github.com/deis/deis/store/storetest"
	"github.com/google/go-cmp/cmp"
)

func TestNodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.Open(t)
	mkUser(t, s, "alice")
	mkFlavor(t, s, "alice")
	mkFormation(t, s, "alice", "dev")
	if _, err := s.CreateLayer(ctx, deis.Layer{Formation: "dev", ID: "proxy", Flavor: "f1"}, ""); err != nil {
		t.Fatal(err)
	}
	var made []deis.Node
	for _, tc := range []struct {
		layer   string
		wantID  string
		wantErr error
	}{
		{"runtime", "dev-runtime-1", nil},
		{"runtime", "dev-runtime-2", nil},
		{"proxy", "dev-proxy-1", nil},
		{"runtime", "dev-runtime-3", nil},
		{"nope", "", store.ErrNotFound},
	} {
		n, err := s.CreateNode(ctx, deis.Node{ID: "ignored", Num: 99, Formation: "dev", Layer: tc.layer,
			Status: deis.NodeStatus{State: "creating"}})
		wantErr(t, "CreateNode in "+tc.layer, err, tc.wantErr)
		if err == nil {
			made = append(made, n)
		}
		if n.ID != tc.wantID {
			t.Errorf("CreateNode in %s: id %q, want %q", tc.layer, n.ID, tc.wantID)
		}
	}
	ns, total, err := s.ListNodes(ctx, "dev", store.PageReq{})
	want := []deis.Node{made[2], made[0], made[1], made[3]} // by layer, then num
	if diff := cmp.Diff(want, ns); err != nil || diff != "" || total != 4 {
		t.Errorf("ListNodes: %v total %d (-want +got):\n%s", err, total, diff)
	}
	f, err := s.GetFormation(ctx, store.Viewer{Username: "alice"}, "dev")
	if diff := cmp.Diff(map[string]int{"proxy": 1, "runtime": 3}, f.Nodes); err != nil || diff != "" {
		t.Errorf("Formation.Nodes: %v (-want +got):\n%s", err, diff)
	}

	n := made[1]
	n.Address, n.Public, n.ProviderID, n.HostKey = "10.0.0.2:22", "127.0.0.1:49153", "i-123", "ssh-ed25519 HOST"
	n.Status = deis.NodeStatus{State: "ready", Reachable: true, Docker: true, Nginx: true, Message: "ok",
		Checked: time.Date(2026, 5, 6, 7, 8, 9, 123456789, time.FixedZone("x", 3600))}
	up, err := s.UpdateNode(ctx, n.ID, func(cur *deis.Node) error {
		cur.Address, cur.Public, cur.ProviderID, cur.HostKey, cur.Status = n.Address, n.Public, n.ProviderID, n.HostKey, n.Status
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	n.Status.Checked = time.Date(2026, 5, 6, 6, 8, 9, 123456000, time.UTC) // UTC, microseconds
	if diff := cmp.Diff(n, up, ignoreTimes); diff != "" || !up.Status.Checked.Equal(n.Status.Checked) {
		t.Errorf("UpdateNode (-want +got):\n%s checked %v", diff, up.Status.Checked)
	}
	if got, err := s.GetNode(ctx, n.ID); err != nil || !cmp.Equal(up, got) {
		t.Errorf("GetNode = %+v, %v; want %+v", got, err, up)
	}
	all, err := s.ListAllNodes(ctx)
	if err != nil || len(all) != 4 || !cmp.Equal(all[2], up) {
		t.Errorf("ListAllNodes = %+v, %v; want 4 nodes by id, the third %+v", all, err, up)
	}
	_, err = s.UpdateNode(ctx, "nope", func(*deis.Node) error { return nil })
	wantErr(t, "UpdateNode(unknown)", err, store.ErrNotFound)

	// Two updates of different fields from one old copy both stand: each
	// mutates the node as stored (a check does not undo a drain).
	if _, err := s.UpdateNode(ctx, n.ID, func(c *deis.Node) error { c.Status.State = deis.NodeDraining; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateNode(ctx, n.ID, func(c *deis.Node) error { c.HostKey = "ssh-ed25519 NEW"; return nil }); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetNode(ctx, n.ID); got.Status.State != deis.NodeDraining || got.HostKey != "ssh-ed25519 NEW" {
		t.Errorf("after two updates: %s, %q", got.Status.State, got.HostKey)
	}
	refused := errors.New("no")
	if _, err := s.UpdateNode(ctx, n.ID, func(c *deis.Node) error { c.HostKey = ""; return refused }); !errors.Is(err, refused) {
		t.Errorf("a refusing mutator: %v", err)
	}
	if got, _ := s.GetNode(ctx, n.ID); got.HostKey != "ssh-ed25519 NEW" {
		t.Errorf("a refused update changed the node: %q", got.HostKey)
	}

	wantErr(t, "DeleteNode", s.DeleteNode(ctx, "dev-runtime-3"), nil)
	wantErr(t, "DeleteNode again", s.DeleteNode(ctx, "dev-runtime-3"), store.ErrNotFound)
	if n, err := s.CreateNode(ctx, deis.Node{Formation: "dev", Layer: "runtime"}); err != nil || n.Num != 3 {
		t.Errorf("CreateNode after deleting the highest = %+v, %v; want num 3", n, err)
	}
	wantErr(t, "DeleteLayer(proxy)", s.DeleteLayer(ctx, "dev", "proxy"), nil)
	_, err = s.GetNode(ctx, "dev-proxy-1")
	wantErr(t, "node of deleted layer", err, store.ErrNotFound)
}

// TestDeleteFormationCascades checks that a formation takes its layers,
// nodes, apps and everything of those apps with it.
func TestDeleteFormationCascades(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := world(t)
	admin := store.Viewer{Username: "alice", Admin: true}
	if _, err := s.CreateNode(ctx, deis.Node{Formation: "dev", Layer: "runtime"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddCollaborator(ctx, "web", "bob"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreateBuild(ctx, deis.Build{App: "web", Owner: "alice", SlugURL: "s3://x"}); err != nil {
		t.Fatal(err)
	}
	if err := s.ReplaceContainers(ctx, "web", []deis.Container{{Type: "web", Num: 1, Release: 2}}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "DeleteFormation", s.DeleteFormation(ctx, "dev"), nil)
	wantErr(t, "DeleteFormation again", s.DeleteFormation(ctx, "dev"), store.ErrNotFound)

	_, err := s.GetLayer(ctx, "dev", "runtime")
	wantErr(t, "layer", err, store.ErrNotFound)
	_, err = s.GetNode(ctx, "dev-runtime-1")
	wantErr(t, "node", err, store.ErrNotFound)
	_, err = s.GetApp(ctx, admin, "web")
	wantErr(t, "app", err, store.ErrNotFound)
	_, err = s.GetRelease(ctx, "web", 1)
	wantErr(t, "release", err, store.ErrNotFound)
	_, err = s.GetConfig(ctx, "web")
	wantErr(t, "config", err, store.ErrNotFound)
	for what, n := range map[string]func() (int, error){
		"builds": func() (int, error) { _, n, err := s.ListBuilds(ctx, "web", store.PageReq{}); return n, err },
		"releases": func() (int, error) {
			_, n, err := s.ListReleases(ctx, "web", store.PageReq{})
			return n, err
		},
		"containers": func() (int, error) {
			_, n, err := s.ListContainers(ctx, "web", store.PageReq{})
			return n, err
		},
		"collaborators": func() (int, error) { cs, err := s.ListCollaborators(ctx, "web"); return len(cs), err },
	} {
		if got, err := n(); err != nil || got != 0 {
			t.Errorf("%s left: %d, %v", what, got, err)
		}
	}
	// The id is free again, with fresh versions.
	mkFormation(t, s, "alice", "dev")
	mkApp(t, s, "alice", "dev", "web")
	if rs, _, err := s.ListReleases(ctx, "web", store.PageReq{}); err != nil || len(rs) != 1 || rs[0].Version != 1 {
		t.Errorf("releases of recreated app = %+v, %v", rs, err)
	}
}
