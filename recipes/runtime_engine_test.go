//go:build docker

package recipes

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/deis/deis/recipes/recipestest"
)

func TestMain(m *testing.M) { recipestest.Main(m) }

// runtimeEnv is one app's containers on the local engine, converged by a
// Runtime scoped to the app (Owner) with its own slug directory.
type runtimeEnv struct {
	t      *testing.T
	docker *client.Client
	rt     *Runtime
	app    string
	image  string
	slug   SlugRef
}

func newRuntimeEnv(t *testing.T) *runtimeEnv {
	t.Parallel()
	cli := recipestest.Docker(t)
	app := recipestest.App(t, cli)
	path, sha := recipestest.Slug(t)
	rt := &Runtime{Docker: cli, SlugDir: t.TempDir(), Owner: app, StopTimeout: time.Second,
		Log: slog.New(slog.NewTextHandler(t.Output(), nil))}
	return &runtimeEnv{t: t, docker: cli, rt: rt, app: app, image: recipestest.RunnerImage(t, cli),
		slug: SlugRef{URL: "file://" + path, SHA256: sha}}
}

// web is container web.<num> of release with GREETING=greeting.
func (e *runtimeEnv) web(release, num int, greeting string) ContainerSpec {
	return ContainerSpec{App: e.app, Release: release, Type: "web", Num: num, Command: "./server",
		Env: map[string]string{"GREETING": greeting}, Port: recipestest.FreePort(e.t),
		Image: e.image, Slug: e.slug}
}

// apply converges to specs and returns each resource's result, checking
// that the report names every resource once.
func (e *runtimeEnv) apply(timeout time.Duration, specs ...ContainerSpec) map[string]ResourceResult {
	e.t.Helper()
	res, err := e.rt.Apply(e.t.Context(), RuntimeState{Containers: specs, HealthTimeout: timeout})
	if err != nil {
		e.t.Fatal(err)
	}
	got := make(map[string]ResourceResult)
	for _, r := range res {
		if _, dup := got[r.Resource]; dup {
			e.t.Errorf("resource %s reported twice", r.Resource)
		}
		got[r.Resource] = r
		e.t.Logf("%s: %s %s (%s)", r.Resource, r.Result, r.Message, r.Duration)
	}
	return got
}

// expect checks results against resource -> result.
func (e *runtimeEnv) expect(got map[string]ResourceResult, want map[string]string) {
	e.t.Helper()
	results := make(map[string]string)
	for k, r := range got {
		results[k] = r.Result
	}
	if diff := cmp.Diff(want, results); diff != "" {
		e.t.Errorf("results (-want +got):\n%s", diff)
	}
}

// get is the body of GET http://127.0.0.1:port/.
func get(t *testing.T, port int) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/", port), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET :%d: %v", port, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func ctrRes(s ContainerSpec) string  { return "container:" + s.Name() }
func slugRes(s ContainerSpec) string { return "slug:" + s.Slug.SHA256[:12] }

func TestRuntimeConverge(t *testing.T) {
	e := newRuntimeEnv(t)
	tricky := "a=b==c \"double\" 'single' $HOME ${PATH} `id` \\ ;|&\nsecond line\tünïcödé ✓ 日本"
	web1, web2 := e.web(1, 1, tricky), e.web(1, 2, "two")
	web2.HealthPath = "/healthz"

	got := e.apply(0, web1, web2)
	e.expect(got, map[string]string{slugRes(web1): Changed, ctrRes(web1): Changed, ctrRes(web2): Changed})
	if body := get(t, web1.Port); body != tricky {
		t.Errorf("web.1 answers %q, want %q", body, tricky)
	}
	if body := get(t, web2.Port); body != "two" {
		t.Errorf("web.2 answers %q", body)
	}
	ids := recipestest.Containers(t, e.docker, e.app)
	for _, id := range ids {
		res, err := e.docker.ContainerInspect(context.Background(), id, client.ContainerInspectOptions{})
		if err != nil || res.Container.HostConfig.RestartPolicy.Name != container.RestartPolicyUnlessStopped {
			t.Errorf("a healthy container's restart policy is %+v (%v), want unless-stopped", res.Container.HostConfig, err)
		}
	}

	t.Log("the same databag again changes nothing")
	e.expect(e.apply(0, web1, web2), map[string]string{slugRes(web1): Unchanged, ctrRes(web1): Unchanged, ctrRes(web2): Unchanged})

	t.Log("a config change recreates that container only")
	web2.Env = map[string]string{"GREETING": "two, changed"}
	e.expect(e.apply(0, web1, web2), map[string]string{slugRes(web1): Unchanged, ctrRes(web1): Unchanged, ctrRes(web2): Changed})
	if body := get(t, web2.Port); body != "two, changed" {
		t.Errorf("web.2 answers %q after the change", body)
	}
	after := recipestest.Containers(t, e.docker, e.app)
	kept := 0
	for _, id := range after {
		if strings.Contains(strings.Join(ids, " "), id) {
			kept++
		}
	}
	if len(after) != 2 || kept != 1 {
		t.Errorf("containers %v after the change, from %v: want web.1 kept and web.2 new", after, ids)
	}
}

func TestRuntimeRollout(t *testing.T) {
	e := newRuntimeEnv(t)
	v1, v2 := e.web(1, 1, "v1"), e.web(2, 1, "v2")
	e.expect(e.apply(0, v1), map[string]string{slugRes(v1): Changed, ctrRes(v1): Changed})

	t.Log("release 2 starts beside release 1")
	e.expect(e.apply(0, v1, v2), map[string]string{slugRes(v1): Unchanged, ctrRes(v1): Unchanged, ctrRes(v2): Changed})
	if a, b := get(t, v1.Port), get(t, v2.Port); a != "v1" || b != "v2" {
		t.Errorf("v1 answers %q, v2 answers %q", a, b)
	}

	t.Log("then release 1 is drained")
	got := e.apply(0, v2)
	e.expect(got, map[string]string{slugRes(v2): Unchanged, ctrRes(v1): Changed, ctrRes(v2): Unchanged})
	if msg := got[ctrRes(v1)].Message; msg != "removed" {
		t.Errorf("v1's message is %q", msg)
	}
	if n := len(recipestest.Containers(t, e.docker, e.app)); n != 1 {
		t.Errorf("%d containers after the drain, want 1", n)
	}
	if b := get(t, v2.Port); b != "v2" {
		t.Errorf("v2 answers %q after the drain", b)
	}
	e.expect(e.apply(0), map[string]string{ctrRes(v2): Changed})
}

func TestRuntimeFailures(t *testing.T) {
	tests := []struct {
		name    string
		change  func(*ContainerSpec)
		timeout time.Duration
		slug    string   // the slug's expected result, "" when not reported
		message []string // in the container's message
		created bool     // the container is left on the engine
	}{
		{"bad sha256", func(s *ContainerSpec) { s.Slug.SHA256 = strings.Repeat("0", 64) }, 0,
			Failed, []string{"slug " + "%s", "checksum mismatch: got sha256 "}, false},
		{"no runner image", func(s *ContainerSpec) { s.Image = "deis-test/no-such-image:1" }, 0,
			Changed, []string{"runner image deis-test/no-such-image:1 is not on the node"}, false},
		{"command exits", func(s *ContainerSpec) { s.Command = "echo booting; echo cannot bind >&2; exit 3" }, 10 * time.Second,
			Changed, []string{"unhealthy: exited with code 3; last log: ", "booting", "cannot bind"}, true},
		{"never answers", func(s *ContainerSpec) { s.Command = "echo sleeping; exec sleep 600" }, time.Second,
			Changed, []string{"unhealthy: not answering on port", "after 1s", "last log: sleeping"}, true},
		{"health path fails", func(s *ContainerSpec) { s.HealthPath = "/nope" }, time.Second,
			Changed, []string{"GET /nope answered 404 Not Found; last log: listening on"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newRuntimeEnv(t)
			s := e.web(1, 1, "hi")
			tt.change(&s)
			got := e.apply(tt.timeout, s)
			want := map[string]string{ctrRes(s): Failed}
			if tt.slug != "" {
				want[slugRes(s)] = tt.slug
			}
			e.expect(got, want)
			msg := got[ctrRes(s)].Message
			for _, part := range tt.message {
				if !strings.Contains(msg, strings.ReplaceAll(part, "%s", s.Slug.SHA256[:12])) || strings.Contains(msg, "\n") {
					t.Errorf("message %q, want one line with %q", msg, part)
				}
			}
			if n := len(recipestest.Containers(t, e.docker, e.app)); (n == 1) != tt.created {
				t.Errorf("%d containers left, want created=%v", n, tt.created)
			}
			if ents, _ := os.ReadDir(e.rt.SlugDir); tt.slug == Failed && len(ents) != 0 {
				t.Errorf("slug dir holds %v after a failed download", ents)
			}
		})
	}
}
