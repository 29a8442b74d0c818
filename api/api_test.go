package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/deis/deis"
	"github.com/google/go-cmp/cmp"
)

// world is alice's formation "dev" with app "shop" at v2 (one build), and
// bob, who can see none of it.
type world struct {
	*testAPI
	alice, bob string
}

func newWorld(t *testing.T) *world {
	a := newTestAPI(t)
	w := &world{testAPI: a, alice: a.user("alice"), bob: a.user("bob")}
	a.must(201, "POST", "/v1/formations", w.alice, deis.FormationCreateRequest{ID: "dev", Flavor: "static", Domain: "dev.example.com"}, nil)
	a.must(201, "POST", "/v1/apps", w.alice, deis.AppCreateRequest{ID: "shop", Formation: "dev"}, nil)
	a.release("POST", "/v1/apps/shop/builds", w.alice, deis.BuildCreateRequest{
		SlugURL: "http://127.0.0.1:9/slug.tgz", SlugSHA256: strings.Repeat("a", 64),
		Procfile: map[string]string{"web": "./web", "worker": "./worker"},
	})
	return w
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	long := strings.Repeat("x", maxBody+10)
	tests := []struct {
		name       string
		method     string
		path       string
		bob        bool // as bob instead of alice
		noAuth     bool
		body       any
		wantStatus int
		wantCode   string
	}{
		{"no token", "GET", "/v1/apps", false, true, nil, 401, deis.CodeUnauthorized},
		{"unknown field", "POST", "/v1/formations", false, false, `{"id":"x","colour":"red"}`, 400, deis.CodeBadRequest},
		{"wrong type", "POST", "/v1/formations", false, false, `{"id":42}`, 400, deis.CodeBadRequest},
		{"not json", "POST", "/v1/formations", false, false, `id=x`, 400, deis.CodeBadRequest},
		{"two values", "POST", "/v1/formations", false, false, `{"id":"a"}{"id":"b"}`, 400, deis.CodeBadRequest},
		{"empty body", "POST", "/v1/formations", false, false, ``, 400, deis.CodeBadRequest},
		{"oversized body", "POST", "/v1/formations", false, false, `{"id":"` + long + `"}`, 413, deis.CodeTooLarge},
		{"bad id", "POST", "/v1/formations", false, false, deis.FormationCreateRequest{ID: "Bad_Name"}, 422, deis.CodeInvalid},
		{"too long id", "POST", "/v1/formations", false, false, deis.FormationCreateRequest{ID: strings.Repeat("a", 64)}, 422, deis.CodeInvalid},
		{"duplicate formation", "POST", "/v1/formations", false, false, deis.FormationCreateRequest{ID: "dev"}, 409, deis.CodeConflict},
		{"duplicate formation of another user", "POST", "/v1/formations", true, false, deis.FormationCreateRequest{ID: "dev"}, 409, deis.CodeConflict},
		{"bad domain", "POST", "/v1/formations", false, false, deis.FormationCreateRequest{ID: "x", Domain: "-bad-.com"}, 422, deis.CodeInvalid},
		{"unknown flavor", "POST", "/v1/formations", false, false, deis.FormationCreateRequest{ID: "x", Flavor: "nope"}, 422, deis.CodeInvalid},
		{"duplicate app", "POST", "/v1/apps", false, false, deis.AppCreateRequest{ID: "shop", Formation: "dev"}, 409, deis.CodeConflict},
		{"app on another's formation", "POST", "/v1/apps", true, false, deis.AppCreateRequest{ID: "x", Formation: "dev"}, 422, deis.CodeInvalid},
		{"another user's formation", "GET", "/v1/formations/dev", true, false, nil, 404, deis.CodeNotFound},
		{"another user's app", "GET", "/v1/apps/shop", true, false, nil, 404, deis.CodeNotFound},
		{"another user's config", "POST", "/v1/apps/shop/config", true, false, deis.ConfigUpdateRequest{Values: map[string]*string{"A": ptr("1")}}, 404, deis.CodeNotFound},
		{"bad env name", "POST", "/v1/apps/shop/config", false, false, deis.ConfigUpdateRequest{Values: map[string]*string{"1A": ptr("1")}}, 422, deis.CodeInvalid},
		{"env name with =", "POST", "/v1/apps/shop/config", false, false, deis.ConfigUpdateRequest{Values: map[string]*string{"A=B": ptr("1")}}, 422, deis.CodeInvalid},
		{"empty config change", "POST", "/v1/apps/shop/config", false, false, deis.ConfigUpdateRequest{}, 422, deis.CodeInvalid},
		{"negative scale", "POST", "/v1/apps/shop/scale", false, false, deis.ScaleRequest{"web": -1}, 422, deis.CodeInvalid},
		{"unknown process type", "POST", "/v1/apps/shop/scale", false, false, deis.ScaleRequest{"clock": 1}, 422, deis.CodeInvalid},
		{"scale with no runtime nodes", "POST", "/v1/apps/shop/scale", false, false, deis.ScaleRequest{"web": 1}, 422, deis.CodeInvalid},
		{"scale as a string", "POST", "/v1/apps/shop/scale", false, false, `{"web":"2"}`, 400, deis.CodeBadRequest},
		{"missing release", "GET", "/v1/apps/shop/releases/v9", false, false, nil, 404, deis.CodeNotFound},
		{"garbage release", "GET", "/v1/apps/shop/releases/latest", false, false, nil, 404, deis.CodeNotFound},
		{"bad slug sha", "POST", "/v1/apps/shop/builds", false, false, deis.BuildCreateRequest{SlugURL: "http://x/s.tgz", SlugSHA256: "zz", Procfile: map[string]string{"web": "x"}}, 422, deis.CodeInvalid},
		{"bad key", "POST", "/v1/keys", false, false, deis.KeyCreateRequest{ID: "k", Public: "ssh-rsa nonsense"}, 422, deis.CodeInvalid},
		{"unknown provider type", "POST", "/v1/providers", false, false, deis.ProviderCreateRequest{ID: "p", Type: "vagrant"}, 422, deis.CodeInvalid},
		{"ec2 on a controller built without its back end", "POST", "/v1/providers", false, false, deis.ProviderCreateRequest{ID: "aws", Type: "ec2"}, 501, deis.CodeNotImplemented},
		{"flavor on missing provider", "POST", "/v1/flavors", false, false, deis.FlavorCreateRequest{ID: "f", Provider: "nope"}, 422, deis.CodeInvalid},
		{"duplicate layer", "POST", "/v1/formations/dev/layers", false, false, deis.LayerCreateRequest{ID: "runtime", Flavor: "static"}, 409, deis.CodeConflict},
		{"layer with no role", "POST", "/v1/formations/dev/layers", false, false, `{"id":"x","flavor":"static","proxy":false,"runtime":false}`, 422, deis.CodeInvalid},
		{"perms by a stranger", "POST", "/v1/apps/shop/perms", true, false, deis.PermCreateRequest{Username: "bob"}, 404, deis.CodeNotFound},
		{"perms for nobody", "POST", "/v1/apps/shop/perms", false, false, deis.PermCreateRequest{Username: "nobody"}, 422, deis.CodeInvalid},
		{"bad page", "GET", "/v1/apps?limit=-1", false, false, nil, 422, deis.CodeInvalid},
		{"unknown route", "GET", "/v1/nope", false, false, nil, 404, deis.CodeNotFound},
		{"wrong method", "PUT", "/v1/apps", false, false, nil, 405, deis.CodeBadRequest},
		{"static layer cannot make nodes", "POST", "/v1/formations/dev/scale", false, false, deis.NodeScaleRequest{"runtime": 1}, 422, deis.CodeInvalid},
		{"scale an unknown layer", "POST", "/v1/formations/dev/scale", false, false, deis.NodeScaleRequest{"nope": 1}, 422, deis.CodeInvalid},
		{"scale nodes negative", "POST", "/v1/formations/dev/scale", false, false, deis.NodeScaleRequest{"runtime": -1}, 422, deis.CodeInvalid},
		{"adopt into an unknown layer", "POST", "/v1/formations/dev/nodes", false, false, deis.NodeCreateRequest{Layer: "nope", Address: "127.0.0.1"}, 422, deis.CodeInvalid},
		{"converge another user's formation", "POST", "/v1/formations/dev/converge", true, false, nil, 404, deis.CodeNotFound},
		{"logs not built yet", "GET", "/v1/apps/shop/logs", false, false, nil, 501, deis.CodeNotImplemented},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := w.alice
			if tt.bob {
				tok = w.bob
			}
			if tt.noAuth {
				tok = ""
			}
			status, out := w.do(tt.method, tt.path, tok, tt.body)
			var e deis.Error
			if err := json.Unmarshal(out, &e); err != nil {
				t.Fatalf("answer is not a JSON error: %s", out)
			}
			if status != tt.wantStatus || e.Code != tt.wantCode || e.Message == "" || strings.Contains(e.Message, "\n") {
				t.Errorf("status %d code %q message %q, want %d %q and a one-line message", status, e.Code, e.Message, tt.wantStatus, tt.wantCode)
			}
		})
	}
	// Nothing changed: still v2, no containers, one formation, one app.
	var rels deis.Page[deis.Release]
	w.must(200, "GET", "/v1/apps/shop/releases", w.alice, nil, &rels)
	if rels.Count != 2 {
		t.Errorf("bad input made releases: %d, want 2", rels.Count)
	}
	var fs deis.Page[deis.Formation]
	w.must(200, "GET", "/v1/formations", w.alice, nil, &fs)
	if fs.Count != 1 {
		t.Errorf("bad input made formations: %+v", fs.Results)
	}
}

func ptr[T any](v T) *T { return &v }

func TestReleases(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	awkward := map[string]string{
		"EQUALS":  "a=b=c",
		"QUOTES":  `it's "quoted" \ back`,
		"SPACES":  "  lead and trail  ",
		"NEWLINE": "line one\nline two\r\n",
		"UNICODE": "héllo 世界 🚀",
		"EMPTY":   "",
	}
	set := map[string]*string{}
	for k, v := range awkward {
		set[k] = ptr(v)
	}
	var rel deis.Release
	rel = w.release("POST", "/v1/apps/shop/config", w.alice, deis.ConfigUpdateRequest{Values: set})
	if rel.Version != 3 {
		t.Fatalf("config set made v%d, want v3", rel.Version)
	}
	var cfg deis.Config
	w.must(200, "GET", "/v1/apps/shop/config", w.alice, nil, &cfg)
	if d := cmp.Diff(awkward, cfg.Values); d != "" {
		t.Errorf("config values changed on the way (-sent +got):\n%s", d)
	}
	rel = w.release("POST", "/v1/apps/shop/config", w.alice, deis.ConfigUpdateRequest{Values: map[string]*string{"EMPTY": nil, "NEW": ptr("1")}})
	cfg = deis.Config{} // decoding into a map merges: start afresh
	w.must(200, "GET", "/v1/apps/shop/config", w.alice, nil, &cfg)
	if _, ok := cfg.Values["EMPTY"]; ok || cfg.Values["NEW"] != "1" || cfg.Values["EQUALS"] != "a=b=c" {
		t.Errorf("unset+merge gave %v", cfg.Values)
	}
	var r2 deis.Release
	w.must(200, "GET", "/v1/apps/shop/releases/v2", w.alice, nil, &r2)
	if r2.Version != 2 || r2.Build == "" {
		t.Errorf("releases/v2 = %+v, want v2 with the build", r2)
	}
	rel = w.release("POST", "/v1/apps/shop/releases/rollback", w.alice, deis.RollbackRequest{Version: 2})
	if rel.Version != 5 || rel.Build != r2.Build {
		t.Errorf("rollback = %+v, want v5 with v2's build", rel)
	}
	cfg = deis.Config{}
	w.must(200, "GET", "/v1/apps/shop/config", w.alice, nil, &cfg)
	if len(cfg.Values) != 0 {
		t.Errorf("after rollback to v2 config = %v, want v2's empty config", cfg.Values)
	}
}

func TestConcurrentConfig(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.release("POST", "/v1/apps/shop/config", w.alice, deis.ConfigUpdateRequest{Values: map[string]*string{fmt.Sprintf("K%d", i): ptr("v")}})
		}()
	}
	wg.Wait()
	var cfg deis.Config
	w.must(200, "GET", "/v1/apps/shop/config", w.alice, nil, &cfg)
	if len(cfg.Values) != 8 || cfg.Version != 9 {
		t.Errorf("after 8 concurrent sets: config v%d with %d keys, want v9 with 8", cfg.Version, len(cfg.Values))
	}
}

func TestPermsAndScoping(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.must(404, "GET", "/v1/apps/shop", w.bob, nil, nil)
	w.must(201, "POST", "/v1/apps/shop/perms", w.alice, deis.PermCreateRequest{Username: "bob"}, nil)
	w.must(200, "GET", "/v1/apps/shop", w.bob, nil, nil)
	w.release("POST", "/v1/apps/shop/config", w.bob, deis.ConfigUpdateRequest{Values: map[string]*string{"BY": ptr("bob")}})
	w.must(403, "DELETE", "/v1/apps/shop", w.bob, nil, nil)
	w.must(403, "POST", "/v1/apps/shop/perms", w.bob, deis.PermCreateRequest{Username: "bob"}, nil)
	w.must(404, "GET", "/v1/formations/dev", w.bob, nil, nil)
	var apps deis.Page[deis.App]
	w.must(200, "GET", "/v1/apps", w.bob, nil, &apps)
	if apps.Count != 1 || apps.Results[0].ID != "shop" {
		t.Errorf("bob's apps = %+v", apps)
	}
	w.must(204, "DELETE", "/v1/apps/shop/perms/bob", w.alice, nil, nil)
	w.must(404, "GET", "/v1/apps/shop", w.bob, nil, nil)
	// alice registered first, so she is an admin and sees bob's things.
	w.must(201, "POST", "/v1/formations", w.bob, deis.FormationCreateRequest{ID: "bobs"}, nil)
	w.must(200, "GET", "/v1/formations/bobs", w.alice, nil, nil)
}

func TestPagination(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for i := range 5 {
		w.must(201, "POST", "/v1/formations", w.alice, deis.FormationCreateRequest{ID: fmt.Sprintf("f%d", i)}, nil)
	}
	var seen []string
	path := "/v1/formations?limit=2"
	for path != "" {
		var p deis.Page[deis.Formation]
		w.must(200, "GET", path, w.alice, nil, &p)
		if p.Count != 6 {
			t.Fatalf("count = %d, want 6", p.Count)
		}
		for _, f := range p.Results {
			seen = append(seen, f.ID)
		}
		path = p.Next
	}
	if d := cmp.Diff([]string{"dev", "f0", "f1", "f2", "f3", "f4"}, seen); d != "" {
		t.Errorf("paged formations (-want +got):\n%s", d)
	}
}

func TestFormationDestroyJob(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var j deis.Job
	w.must(http.StatusAccepted, "DELETE", "/v1/formations/dev", w.alice, nil, &j)
	var jl deis.JobLines
	w.must(200, "GET", "/v1/jobs/"+j.ID+"/lines?wait=10", w.alice, nil, &jl)
	for jl.Job.State == deis.JobRunning {
		w.must(200, "GET", fmt.Sprintf("/v1/jobs/%s/lines?wait=10&after=%d", j.ID, len(jl.Lines)), w.alice, nil, &jl)
	}
	if jl.Job.State != deis.JobSucceeded {
		t.Fatalf("job = %+v", jl.Job)
	}
	w.must(404, "GET", "/v1/formations/dev", w.alice, nil, nil)
	w.must(404, "GET", "/v1/apps/shop", w.alice, nil, nil)
	w.must(404, "GET", "/v1/jobs/"+j.ID, w.bob, nil, nil)
}
