package deploy_test

import (
	"context"
	"errors"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deis/deis"
	"github.com/deis/deis/converge/convergetest"
	"github.com/deis/deis/deploy"
	"github.com/deis/deis/slugs"
	"github.com/deis/deis/store"
)

func newService(t *testing.T) (*deploy.Service, *convergetest.World) {
	w := convergetest.NewWorld(t)
	return &deploy.Service{Store: w.Store, Conv: w.Conv}, w
}

func ptr(s string) *string { return &s }

// deployApp creates app and deploys a first build whose Procfile has types.
func deployApp(t *testing.T, s *deploy.Service, w *convergetest.World, app string, types ...string) {
	t.Helper()
	w.App(app)
	if _, err := s.Build(context.Background(), convergetest.Build(app, "one", types...), convergetest.Discard{}); err != nil {
		t.Fatal(err)
	}
}

// TestBuildScalesWebFirst: an app's first build with a web process runs
// web=1, as on Heroku; later builds keep the structure.
func TestBuildScalesWebFirst(t *testing.T) {
	t.Parallel()
	s, w := newService(t)
	ctx := context.Background()
	w.App("web")
	rel, err := s.Build(ctx, convergetest.Build("web", "one", "web", "worker"), convergetest.Discard{})
	if err != nil || rel.Status != deis.ReleaseDeployed {
		t.Fatalf("first build: %+v, %v", rel, err)
	}
	if got := w.Running(); !slices.Equal(got, []string{"deis-web-v2-web.1"}) {
		t.Errorf("after the first build: %v, want web.1 only", got)
	}
	if _, err := s.Scale(ctx, "web", deis.ScaleRequest{"worker": 2}, convergetest.Discard{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Build(ctx, convergetest.Build("web", "two", "web", "worker"), convergetest.Discard{}); err != nil {
		t.Fatal(err)
	}
	want := []string{"deis-web-v3-web.1", "deis-web-v3-worker.1", "deis-web-v3-worker.2"}
	if got := w.Running(); !slices.Equal(got, want) {
		t.Errorf("after the second build: %v, want %v", got, want)
	}
}

// TestScaleRefusals: bad scales are refused with one line and change
// nothing.
func TestScaleRefusals(t *testing.T) {
	t.Parallel()
	s, w := newService(t)
	ctx := context.Background()
	w.App("web")
	if _, err := s.Scale(ctx, "web", deis.ScaleRequest{"web": 1}, convergetest.Discard{}); !refused(err, `unknown process type "web": the app has no build yet, push it first`) {
		t.Errorf("scale before a build: %v", err)
	}
	if _, err := s.Build(ctx, convergetest.Build("web", "one", "web", "worker"), convergetest.Discard{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		req  deis.ScaleRequest
		want string
	}{
		{deis.ScaleRequest{"clock": 1}, `unknown process type "clock": the Procfile has web, worker`},
		{deis.ScaleRequest{"web": 101}, "web=101: a count must be from 0 to 100"},
		{deis.ScaleRequest{}, "name at least one process type to scale, like web=2"},
	} {
		if _, err := s.Scale(ctx, "web", tc.req, convergetest.Discard{}); !refused(err, tc.want) {
			t.Errorf("scale %v: %v, want %q", tc.req, err, tc.want)
		}
		if _, err := s.PlanScale(ctx, "web", tc.req); !refused(err, tc.want) {
			t.Errorf("plan scale %v: %v, want %q", tc.req, err, tc.want)
		}
	}
	if got := w.Running(); !slices.Equal(got, []string{"deis-web-v2-web.1"}) {
		t.Errorf("after refused scales: %v", got)
	}
}

// TestScaleFailureRestores: a scale whose rollout fails keeps the old
// structure and containers.
func TestScaleFailureRestores(t *testing.T) {
	t.Parallel()
	s, w := newService(t)
	ctx := context.Background()
	deployApp(t, s, w, "web", "web", "worker")
	w.Fleet.Node("f-runtime-2").SetUnreachable(true)
	_, err := s.Scale(ctx, "web", deis.ScaleRequest{"web": 2}, convergetest.Discard{})
	if err == nil || !strings.Contains(err.Error(), "scaling web: ") {
		t.Errorf("scale onto an unreachable node: %v", err)
	}
	a, _ := w.Store.GetApp(ctx, store.Viewer{Admin: true}, "web")
	if a.Structure["web"] != 1 {
		t.Errorf("structure after the failed scale: %v, want web=1", a.Structure)
	}
}

// TestConfigPlanWordsLikeTheRelease: a dry run says what the release says,
// after "would".
func TestConfigPlanWordsLikeTheRelease(t *testing.T) {
	t.Parallel()
	s, w := newService(t)
	ctx := context.Background()
	deployApp(t, s, w, "web", "web")
	if _, err := s.UpdateConfig(ctx, "web", "alice", map[string]*string{"A": ptr("1"), "B": ptr("2")}, convergetest.Discard{}); err != nil {
		t.Fatal(err)
	}
	changes := map[string]*string{"A": ptr("1"), "B": nil, "C": ptr("3"), "D": nil}
	plan, err := s.PlanConfig(ctx, "web", changes)
	if err != nil {
		t.Fatal(err)
	}
	rel, err := s.UpdateConfig(ctx, "web", "alice", changes, convergetest.Discard{})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Summary != "would set C and unset B" || rel.Summary != "alice set C and unset B" || plan.Release != rel.Version {
		t.Errorf("plan %q (v%d), release %q (v%d)", plan.Summary, plan.Release, rel.Summary, rel.Version)
	}
	for _, bad := range []map[string]*string{{"1X": ptr("")}, {"A": ptr("a\x00b")}, {}} {
		if _, err := s.UpdateConfig(ctx, "web", "alice", bad, convergetest.Discard{}); !refused(err, "") {
			t.Errorf("config %v: %v, want a refusal", bad, err)
		}
	}
}

// TestDestroy: the app's containers go, then the app, and the proxy drops
// its site.
func TestDestroy(t *testing.T) {
	t.Parallel()
	s, w := newService(t)
	ctx := context.Background()
	w.App("web")
	w.App("other")
	for _, app := range []string{"web", "other"} {
		if _, err := s.Build(ctx, convergetest.Build(app, "one", "web"), convergetest.Discard{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Destroy(ctx, "web", convergetest.Discard{}); err != nil {
		t.Fatal(err)
	}
	if got := w.Running(); !slices.Equal(got, []string{"deis-other-v2-web.1"}) {
		t.Errorf("after destroying web: %v", got)
	}
	var sites []string
	for _, site := range w.Fleet.Node("f-proxy-1").Sites() {
		sites = append(sites, site.App)
	}
	if !slices.Equal(sites, []string{"other"}) {
		t.Errorf("the proxy serves %v, want other only", sites)
	}
	if _, err := w.Store.GetApp(ctx, store.Viewer{Admin: true}, "web"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("app web after Destroy: %v", err)
	}
}

// TestReschedule: containers on a node that is going move to the others;
// apps with nothing there stay as they are.
func TestReschedule(t *testing.T) {
	t.Parallel()
	s, w := newService(t)
	ctx := context.Background()
	deployApp(t, s, w, "web", "web")
	if _, err := s.Scale(ctx, "web", deis.ScaleRequest{"web": 2}, convergetest.Discard{}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Store.UpdateNode(ctx, "f-runtime-2", func(n *deis.Node) error { n.Status.State = deis.NodeDraining; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.Reschedule(ctx, "f", []string{"f-runtime-2"}, convergetest.Discard{}); err != nil {
		t.Fatal(err)
	}
	if got := w.Fleet.Node("f-runtime-2").Containers(); len(got) != 0 {
		t.Errorf("the draining node still runs %v", got)
	}
	if got := w.Fleet.Node("f-runtime-1").Containers(); len(got) != 2 {
		t.Errorf("the other node runs %v, want both web containers", got)
	}
}

// refused reports whether err is the service refusing with want (any
// message when want is empty).
func refused(err error, want string) bool {
	var e *deploy.Error
	return errors.As(err, &e) && (want == "" || e.Message == want)
}

// TestConcurrentScales: scales of different types at the same moment both
// stand (each reads the app under its lock).
func TestConcurrentScales(t *testing.T) {
	s, w := newService(t)
	ctx := context.Background()
	deployApp(t, s, w, "web", "web", "worker", "clock")
	w.Fleet.Delay = 10 * time.Millisecond
	var wg sync.WaitGroup
	for _, req := range []deis.ScaleRequest{{"web": 2}, {"worker": 1}, {"clock": 1}} {
		wg.Go(func() {
			if _, err := s.Scale(ctx, "web", req, convergetest.Discard{}); err != nil {
				t.Errorf("scale %v: %v", req, err)
			}
		})
	}
	wg.Wait()
	a, _ := w.Store.GetApp(ctx, store.Viewer{Admin: true}, "web")
	if want := map[string]int{"web": 2, "worker": 1, "clock": 1}; !maps.Equal(a.Structure, want) {
		t.Errorf("structure %v, want %v", a.Structure, want)
	}
	if got := w.Running(); len(got) != 4 {
		t.Errorf("running %v, want 4 containers", got)
	}
}

// removals records the apps whose data it was asked to remove.
type removals []string

func (r *removals) RemoveApp(app string) error { *r = append(*r, app); return nil }

// TestDestroyLeavesNothingToInherit is security review #2: a destroyed
// app's repository and build cache (the packages keeping them are told)
// and its slugs go, but not a slug another app's build uses.
func TestDestroyLeavesNothingToInherit(t *testing.T) {
	s, w := newService(t)
	ctx := context.Background()
	s.Slugs = slugs.Store{Dir: t.TempDir()}
	var removed removals
	s.Data = []deploy.AppData{&removed}
	put := func(body string) string {
		sum, _, err := s.Slugs.Put(strings.NewReader(body), nil)
		if err != nil {
			t.Fatal(err)
		}
		return sum
	}
	own, shared := put("bob's slug"), put("a slug two apps use")
	w.App("bobapp")
	w.App("other")
	for _, b := range []deis.Build{
		{App: "bobapp", Owner: "alice", SHA: "one", SlugSHA256: own, Procfile: map[string]string{"web": "./web"}},
		{App: "bobapp", Owner: "alice", SHA: "two", SlugSHA256: shared, Procfile: map[string]string{"web": "./web"}},
		{App: "other", Owner: "alice", SHA: "three", SlugSHA256: shared, Procfile: map[string]string{"web": "./web"}},
	} {
		if _, err := s.Build(ctx, b, convergetest.Discard{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Destroy(ctx, "bobapp", convergetest.Discard{}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(removed, removals{"bobapp"}) {
		t.Errorf("data removed for %v, want bobapp's", removed)
	}
	if s.Slugs.Has(own) || !s.Slugs.Has(shared) {
		t.Errorf("after destroying bobapp: its own slug kept %v, the shared one kept %v; want false, true", s.Slugs.Has(own), s.Slugs.Has(shared))
	}
}

// TestCollectSlugs is security review #14's orphans: a slug no app has,
// an hour old, is collected at start; one an app has, or one just
// uploaded (its build is on its way), stays.
func TestCollectSlugs(t *testing.T) {
	s, w := newService(t)
	ctx := context.Background()
	s.Slugs = slugs.Store{Dir: t.TempDir()}
	put := func(body string, age time.Duration) string {
		sum, _, err := s.Slugs.Put(strings.NewReader(body), nil)
		if err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(-age)
		if err := os.Chtimes(s.Slugs.Path(sum), old, old); err != nil {
			t.Fatal(err)
		}
		return sum
	}
	orphan, fresh, kept := put("nobody's", 2*time.Hour), put("just uploaded", time.Minute), put("web's", 2*time.Hour)
	w.App("web")
	if err := w.Store.AddAppSlug(ctx, "web", kept); err != nil {
		t.Fatal(err)
	}
	n, err := s.CollectSlugs(ctx)
	if err != nil || n != 1 {
		t.Fatalf("CollectSlugs = %d, %v; want 1", n, err)
	}
	if s.Slugs.Has(orphan) || !s.Slugs.Has(fresh) || !s.Slugs.Has(kept) {
		t.Errorf("after collecting: orphan %v, fresh %v, kept %v; want false, true, true", s.Slugs.Has(orphan), s.Slugs.Has(fresh), s.Slugs.Has(kept))
	}
}
