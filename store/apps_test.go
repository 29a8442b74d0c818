package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/deis/deis"
	"github.com/deis/deis/store"
	"github.com/google/go-cmp/cmp"
)

func TestCreateApp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := world(t) // alice's app "web" on "dev"
	a, err := s.GetApp(ctx, store.Viewer{Username: "alice"}, "web")
	want := deis.App{ID: "web", Formation: "dev", Owner: "alice", Structure: map[string]int{}}
	if diff := cmp.Diff(want, a, ignoreTimes); err != nil || diff != "" {
		t.Errorf("GetApp: %v (-want +got):\n%s", err, diff)
	}
	c, err := s.GetConfig(ctx, "web")
	if diff := cmp.Diff(deis.Config{App: "web", Version: 1, Values: map[string]string{}}, c, ignoreTimes); err != nil || diff != "" {
		t.Errorf("GetConfig: %v (-want +got):\n%s", err, diff)
	}
	r, err := s.GetRelease(ctx, "web", 1)
	wantR := deis.Release{App: "web", Version: 1, Config: 1, Status: deis.ReleaseDeployed, Owner: "alice", Summary: "alice created the app"}
	if diff := cmp.Diff(wantR, r, ignoreTimes); err != nil || diff != "" {
		t.Errorf("GetRelease(1): %v (-want +got):\n%s", err, diff)
	}
	for _, tc := range []struct {
		name    string
		a       deis.App
		wantErr error
	}{
		{"taken id", deis.App{ID: "web", Formation: "dev", Owner: "bob"}, store.ErrConflict},
		{"unknown formation", deis.App{ID: "x", Formation: "nope", Owner: "alice"}, store.ErrNotFound},
		{"unknown owner", deis.App{ID: "y", Formation: "dev", Owner: "nobody"}, store.ErrNotFound},
	} {
		_, err := s.CreateApp(ctx, tc.a)
		wantErr(t, tc.name, err, tc.wantErr)
	}
	_, err = s.GetRelease(ctx, "x", 1)
	wantErr(t, "release of failed app", err, store.ErrNotFound)
}

func TestAppVisibility(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := world(t)
	mkUser(t, s, "carol")
	mkApp(t, s, "alice", "dev", "api")
	mkApp(t, s, "alice", "dev", "zed")
	if err := s.AddCollaborator(ctx, "api", "bob"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		v       store.Viewer
		visible []string
	}{
		{"owner", store.Viewer{Username: "alice"}, []string{"api", "web", "zed"}},
		{"collaborator", store.Viewer{Username: "bob"}, []string{"api"}},
		{"stranger", store.Viewer{Username: "carol"}, []string{}},
		{"admin", store.Viewer{Username: "carol", Admin: true}, []string{"api", "web", "zed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			as, total, err := s.ListApps(ctx, tc.v, store.PageReq{})
			ids := []string{}
			for _, a := range as {
				ids = append(ids, a.ID)
			}
			if diff := cmp.Diff(tc.visible, ids); err != nil || diff != "" || total != len(tc.visible) {
				t.Errorf("ListApps: %v total %d (-want +got):\n%s", err, total, diff)
			}
			for _, id := range []string{"api", "web"} {
				_, err := s.GetApp(ctx, tc.v, id)
				if (err == nil) != contains(tc.visible, id) {
					t.Errorf("GetApp(%s): %v, visible %v", id, err, contains(tc.visible, id))
				}
			}
		})
	}
	as, err := s.ListFormationApps(ctx, "dev")
	if err != nil || len(as) != 3 || as[0].ID != "api" || as[2].ID != "zed" {
		t.Errorf("ListFormationApps = %+v, %v", as, err)
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

func TestCollaborators(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := world(t)
	mkUser(t, s, "aaron")
	for _, tc := range []struct {
		name, app, user string
		wantErr         error
	}{
		{"add", "web", "bob", nil},
		{"add another", "web", "aaron", nil},
		{"again", "web", "bob", store.ErrConflict},
		{"unknown user", "web", "nobody", store.ErrNotFound},
		{"unknown app", "nope", "bob", store.ErrNotFound},
	} {
		wantErr(t, tc.name, s.AddCollaborator(ctx, tc.app, tc.user), tc.wantErr)
	}
	if cs, err := s.ListCollaborators(ctx, "web"); err != nil || !cmp.Equal([]string{"aaron", "bob"}, cs) {
		t.Errorf("ListCollaborators = %v, %v; want [aaron bob]", cs, err)
	}
	wantErr(t, "remove", s.RemoveCollaborator(ctx, "web", "bob"), nil)
	wantErr(t, "remove again", s.RemoveCollaborator(ctx, "web", "bob"), store.ErrNotFound)
	_, err := s.GetApp(ctx, store.Viewer{Username: "bob"}, "web")
	wantErr(t, "GetApp by removed collaborator", err, store.ErrNotFound)
}

func TestStructureAndContainers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := world(t)
	a, err := s.SetStructure(ctx, "web", map[string]int{"web": 2, "worker": 1})
	if err != nil || !cmp.Equal(map[string]int{"web": 2, "worker": 1}, a.Structure) {
		t.Errorf("SetStructure = %+v, %v", a, err)
	}
	_, err = s.SetStructure(ctx, "nope", nil)
	wantErr(t, "SetStructure(unknown)", err, store.ErrNotFound)

	cs := []deis.Container{
		{Type: "worker", Num: 1, Release: 1, Node: "dev-runtime-1", Port: 5001, State: "up", Health: "ok"},
		{Type: "web", Num: 2, Release: 1, Node: "dev-runtime-2", Port: 5000, State: "up"},
		{Type: "web", Num: 1, Release: 1, Node: "dev-runtime-1", Port: 5000, State: "up"},
	}
	if err := s.ReplaceContainers(ctx, "web", cs); err != nil {
		t.Fatal(err)
	}
	got, total, err := s.ListContainers(ctx, "web", store.PageReq{})
	names := []string{}
	for _, c := range got {
		names = append(names, c.Name)
	}
	if diff := cmp.Diff([]string{"web.1", "web.2", "worker.1"}, names); err != nil || diff != "" || total != 3 {
		t.Errorf("ListContainers: %v total %d (-want +got):\n%s", err, total, diff)
	}
	want := cs[0]
	want.App, want.Name = "web", "worker.1"
	if diff := cmp.Diff(want, got[2], ignoreTimes); diff != "" {
		t.Errorf("container (-want +got):\n%s", diff)
	}
	got[0].Release = 2 // a rollout keeps web.1's Created
	if err := s.ReplaceContainers(ctx, "web", got[:1]); err != nil {
		t.Fatal(err)
	}
	again, _, err := s.ListContainers(ctx, "web", store.PageReq{})
	if diff := cmp.Diff(got[:1], again); err != nil || diff != "" {
		t.Errorf("after replace: %v (-want +got):\n%s", err, diff)
	}
	dup := []deis.Container{{Type: "web", Num: 1}, {Type: "web", Num: 1}}
	wantErr(t, "duplicate name", s.ReplaceContainers(ctx, "web", dup), store.ErrConflict)
	wantErr(t, "unknown app", s.ReplaceContainers(ctx, "nope", nil), store.ErrNotFound)
	if again, _, _ := s.ListContainers(ctx, "web", store.PageReq{}); len(again) != 1 {
		t.Errorf("a failed replace changed the set: %+v", again)
	}
	wantErr(t, "DeleteApp", s.DeleteApp(ctx, "web"), nil)
	wantErr(t, "DeleteApp again", s.DeleteApp(ctx, "web"), store.ErrNotFound)
}

// TestObserveContainers: what a node's engine says is recorded on the
// containers it runs; a container it does not name is missing unless it
// was created after the look or is starting; an older look changes
// nothing; ReplaceContainers keeps what the store has, not the caller's
// copy.
func TestObserveContainers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := world(t)
	mkApp(t, s, "alice", "dev", "api")
	cs := []deis.Container{
		{Type: "web", Num: 1, Release: 2, Node: "dev-runtime-1", Port: 10001, State: "up"},
		{Type: "worker", Num: 1, Release: 2, Node: "dev-runtime-1", Port: 10002, State: "up"},
		{Type: "web", Num: 2, Release: 2, Node: "dev-runtime-2", Port: 10001, State: "up"},
		{Type: "web", Num: 2, Release: 3, Node: "dev-runtime-1", Port: 10003, State: "starting"},
	}
	if err := s.ReplaceContainers(ctx, "web", cs); err != nil {
		t.Fatal(err)
	}
	if err := s.ReplaceContainers(ctx, "api", cs[:1]); err != nil {
		t.Fatal(err)
	}
	died := time.Date(2026, 11, 29, 10, 0, 0, 123456000, time.UTC)
	at := time.Now()
	obs := []deis.ContainerObservation{
		{App: "web", Type: "web", Num: 1, Release: 2, State: "running"},
		{App: "api", Type: "web", Num: 1, Release: 2, State: "restarting", ExitCode: 3, Restarts: 4, Died: died},
		{App: "web", Type: "web", Num: 1, Release: 1, State: "exited"}, // not in the store: ignored
	}
	if err := s.ObserveContainers(ctx, "dev-runtime-1", "", obs, at); err != nil {
		t.Fatal(err)
	}
	got := func(app string) map[string]deis.Container {
		t.Helper()
		list, _, err := s.ListContainers(ctx, app, store.PageReq{})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]deis.Container{}
		for _, c := range list {
			m[c.Name] = c
		}
		return m
	}
	web, api := got("web"), got("api")
	checks := []struct {
		name     string
		c        deis.Container
		observed string
		exit     int
		restarts int
		died     time.Time
		checked  bool
	}{
		{"running", web["web.1"], "running", 0, 0, time.Time{}, true},
		{"not named: missing", web["worker.1"], deis.ObservedMissing, 0, 0, time.Time{}, true},
		{"other node: untouched", findRelease(t, s, "web", "web.2", 2), "", 0, 0, time.Time{}, false},
		{"other app on the node", api["web.1"], "restarting", 3, 4, died, true},
	}
	if c := findRelease(t, s, "web", "web.2", 3); !c.Checked.IsZero() {
		t.Errorf("a starting container was recorded: %+v", c)
	}
	for _, c := range checks {
		if c.c.Observed != c.observed || c.c.ExitCode != c.exit || c.c.Restarts != c.restarts || !c.c.Died.Equal(c.died) || c.c.Checked.IsZero() == c.checked {
			t.Errorf("%s: got %+v", c.name, c.c)
		}
	}
	if !api["web.1"].Down() || web["web.1"].Down() {
		t.Errorf("Down: api web.1 %v, web web.1 %v", api["web.1"].Down(), web["web.1"].Down())
	}

	// An older look changes nothing.
	if err := s.ObserveContainers(ctx, "dev-runtime-1", "api", nil, at.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if c := got("api")["web.1"]; c.Observed != "restarting" {
		t.Errorf("an older look overwrote a newer one: %+v", c)
	}

	// A rollout rewrites the rows from a copy it read earlier (here: one
	// that says running): what the store has is kept.
	stale := got("api")["web.1"]
	stale.Observed, stale.Restarts = "running", 0
	if err := s.ReplaceContainers(ctx, "api", []deis.Container{stale}); err != nil {
		t.Fatal(err)
	}
	if c := got("api")["web.1"]; c.Observed != "restarting" || c.Restarts != 4 || !c.Died.Equal(died) {
		t.Errorf("after ReplaceContainers: %+v", c)
	}

	// A container created after the look is not called missing.
	if err := s.ObserveContainers(ctx, "dev-runtime-2", "web", nil, at.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if c := findRelease(t, s, "web", "web.2", 2); !c.Checked.IsZero() {
		t.Errorf("a container newer than the look was recorded: %+v", c)
	}
	if err := s.ObserveContainers(ctx, "dev-runtime-2", "nope", nil, at); err != nil {
		t.Errorf("observing an app that is gone: %v", err)
	}
}

// findRelease returns the app's container name of release.
func findRelease(t *testing.T, s *store.Store, app, name string, release int) deis.Container {
	t.Helper()
	list, _, err := s.ListContainers(context.Background(), app, store.PageReq{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range list {
		if c.Name == name && c.Release == release {
			return c
		}
	}
	t.Fatalf("%s has no %s of v%d", app, name, release)
	return deis.Container{}
}
