package store_test

import (
	"context"
	"regexp"
	"testing"

	"github.com/deis/deis"
	"github.com/deis/deis/store"
	"github.com/google/go-cmp/cmp"
)

// TestVersioning walks the Deis versioning story: every config change,
// build and rollback is a new release; configs merge; rollback copies.
func TestVersioning(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := world(t) // app web: config v1, release v1
	set := func(changes map[string]*string) {
		t.Helper()
		if _, _, err := s.UpdateConfig(ctx, "web", changes, "alice"); err != nil {
			t.Fatal(err)
		}
	}
	set(map[string]*string{"A": ptr("1")})                                       // v2, config 2
	set(map[string]*string{"B": ptr("2")})                                       // v3, config 3
	c, r, err := s.UpdateConfig(ctx, "web", map[string]*string{"A": nil}, "bob") // v4, config 4
	if err != nil {
		t.Fatal(err)
	}
	wantC := deis.Config{App: "web", Version: 4, Values: map[string]string{"B": "2"}}
	if diff := cmp.Diff(wantC, c, ignoreTimes); diff != "" {
		t.Errorf("UpdateConfig config (-want +got):\n%s", diff)
	}
	b, r5, err := s.CreateBuild(ctx, deis.Build{App: "web", Owner: "alice", SHA: "abcdef123456", SlugURL: "s3://slug",
		SlugSize: 1 << 20, SlugSHA256: "feed", Procfile: map[string]string{"web": "./run"}, Buildpack: "go"})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(b.UUID) {
		t.Errorf("build uuid %q, want 32 hex digits", b.UUID)
	}
	r6, err := s.Rollback(ctx, "web", 2, "carol")
	if err != nil {
		t.Fatal(err)
	}
	if c, err := s.GetConfig(ctx, "web"); err != nil || c.Version != 5 || !cmp.Equal(map[string]string{"A": "1"}, c.Values) {
		t.Errorf("config after rollback to v2 = %+v, %v; want v5 {A:1} (v2's values)", c, err)
	}
	r7, err := s.Rollback(ctx, "web", 0, "alice") // the one before v6: v5
	if err != nil {
		t.Fatal(err)
	}

	rel := func(v int, build string, config int, owner, summary string) deis.Release {
		return deis.Release{App: "web", Version: v, Build: build, Config: config, Status: deis.ReleaseSuperseded, Owner: owner, Summary: summary}
	}
	want := []deis.Release{
		rel(7, b.UUID, 6, "alice", "alice rolled back to v5"),
		rel(6, "", 5, "carol", "carol rolled back to v2"),
		rel(5, b.UUID, 4, "alice", "alice deployed abcdef1"),
		rel(4, "", 4, "bob", "bob unset A"),
		rel(3, "", 3, "alice", "alice set B"),
		rel(2, "", 2, "alice", "alice set A"),
		rel(1, "", 1, "alice", "alice created the app"),
	}
	want[0].Status = deis.ReleaseDeployed // no processes: deployed at once
	got, total, err := s.ListReleases(ctx, "web", store.PageReq{})
	if diff := cmp.Diff(want, got, ignoreTimes); err != nil || diff != "" || total != 7 {
		t.Errorf("ListReleases: %v total %d (-want +got):\n%s", err, total, diff)
	}
	for _, r := range []deis.Release{r, r5, r6, r7} {
		if diff := cmp.Diff(got[7-r.Version], r, ignoreTimes, cmp.FilterPath(func(p cmp.Path) bool {
			return p.Last().String() == ".Status" // statuses move on as later releases land
		}, cmp.Ignore())); diff != "" {
			t.Errorf("returned release v%d (-listed +returned):\n%s", r.Version, diff)
		}
	}
	if r2, err := s.GetRelease(ctx, "web", 2); err != nil || !cmp.Equal(got[5], r2) {
		t.Errorf("GetRelease(2) = %+v, %v; want %+v", r2, err, got[5])
	}
	if c, err := s.GetConfig(ctx, "web"); err != nil || c.Version != 6 || !cmp.Equal(map[string]string{"B": "2"}, c.Values) {
		t.Errorf("config after rollback to v5 = %+v, %v; want v6 {B:2}", c, err)
	}
	_, err = s.GetRelease(ctx, "web", 99)
	wantErr(t, "GetRelease(99)", err, store.ErrNotFound)
}

func TestRollbackErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := world(t)
	_, err := s.Rollback(ctx, "web", 0, "alice")
	wantErr(t, "nothing before v1", err, store.ErrInvalid)
	if _, _, err := s.UpdateConfig(ctx, "web", nil, "alice"); err != nil { // v2, even with no changes
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		app     string
		version int
		wantErr error
	}{
		{"current", "web", 2, store.ErrInvalid},
		{"future", "web", 3, store.ErrNotFound},
		{"negative", "web", -1, store.ErrNotFound},
		{"unknown app", "nope", 1, store.ErrNotFound},
	} {
		_, err := s.Rollback(ctx, tc.app, tc.version, "alice")
		wantErr(t, tc.name, err, tc.wantErr)
	}
	if rs, total, _ := s.ListReleases(ctx, "web", store.PageReq{}); total != 2 || rs[0].Summary != "alice set nothing" {
		t.Errorf("releases after failed rollbacks: %d, latest %+v", total, rs[0])
	}
}

func TestReleaseStatus(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := world(t)
	if _, err := s.SetStructure(ctx, "web", map[string]int{"web": 1}); err != nil {
		t.Fatal(err)
	}
	_, r2, err := s.UpdateConfig(ctx, "web", map[string]*string{"A": ptr("x")}, "alice")
	if err != nil || r2.Status != deis.ReleasePending {
		t.Fatalf("release with processes = %+v, %v; want pending", r2, err)
	}
	_, r3, err := s.CreateBuild(ctx, deis.Build{App: "web", Owner: "alice", SlugURL: "s3://x"})
	if err != nil || r3.Status != deis.ReleasePending || r3.Summary != "alice deployed "+r3.Build[:8] {
		t.Fatalf("build release = %+v, %v; want pending, summary with the uuid", r3, err)
	}
	steps := []struct {
		version             int
		status              deis.ReleaseStatus
		msg                 string
		wantErr             error
		want1, want2, want3 deis.ReleaseStatus // statuses after the step
	}{
		{2, deis.ReleaseFailed, "boom", nil, "deployed", "failed", "pending"},
		{3, deis.ReleaseDeployed, "", nil, "superseded", "failed", "deployed"},
		{2, "bogus", "", store.ErrInvalid, "superseded", "failed", "deployed"},
		{9, deis.ReleaseDeployed, "", store.ErrNotFound, "superseded", "failed", "deployed"},
		{1, deis.ReleaseDeployed, "", nil, "deployed", "failed", "superseded"},
	}
	for _, st := range steps {
		wantErr(t, "SetReleaseStatus", s.SetReleaseStatus(ctx, "web", st.version, st.status, st.msg), st.wantErr)
		rs, _, err := s.ListReleases(ctx, "web", store.PageReq{})
		if err != nil {
			t.Fatal(err)
		}
		got := []deis.ReleaseStatus{rs[2].Status, rs[1].Status, rs[0].Status}
		if diff := cmp.Diff([]deis.ReleaseStatus{st.want1, st.want2, st.want3}, got); diff != "" {
			t.Errorf("after v%d %s: statuses (-want +got):\n%s", st.version, st.status, diff)
		}
	}
	if r, _ := s.GetRelease(ctx, "web", 2); r.Error != "boom" {
		t.Errorf("failed release error = %q, want boom", r.Error)
	}
	wantErr(t, "unknown app", s.SetReleaseStatus(ctx, "nope", 1, deis.ReleaseDeployed, ""), store.ErrNotFound)
}

func TestBuilds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := world(t)
	var made []deis.Build
	for _, sha := range []string{"aaa", "bbb", "ccc"} {
		b, _, err := s.CreateBuild(ctx, deis.Build{App: "web", Owner: "alice", SHA: sha, SlugURL: "s3://" + sha})
		if err != nil {
			t.Fatal(err)
		}
		made = append(made, b)
	}
	bs, total, err := s.ListBuilds(ctx, "web", store.PageReq{Limit: 2})
	if diff := cmp.Diff([]deis.Build{made[2], made[1]}, bs); err != nil || diff != "" || total != 3 {
		t.Errorf("ListBuilds: %v total %d (-want +got):\n%s", err, total, diff)
	}
	if b, err := s.GetBuild(ctx, "web", made[0].UUID); err != nil || !cmp.Equal(made[0], b) {
		t.Errorf("GetBuild = %+v, %v; want %+v", b, err, made[0])
	}
	_, err = s.GetBuild(ctx, "other", made[0].UUID)
	wantErr(t, "GetBuild of another app", err, store.ErrNotFound)
	_, _, err = s.CreateBuild(ctx, deis.Build{App: "nope", Owner: "alice"})
	wantErr(t, "CreateBuild(unknown app)", err, store.ErrNotFound)
}
