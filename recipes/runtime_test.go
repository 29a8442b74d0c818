package recipes

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/moby/moby/api/types/container"
)

func testSpec(release, num int) ContainerSpec {
	return ContainerSpec{
		App: "web", Release: release, Type: "web", Num: num, Command: "./server",
		Env: map[string]string{"GREETING": "hi"}, Port: 5000 + num, Image: "deis/runner",
		Slug: SlugRef{URL: "file:///slug.tgz", SHA256: strings.Repeat("ab", 32)},
	}
}

func TestContainerSpecNameAndHash(t *testing.T) {
	s := testSpec(3, 2)
	if got, want := s.Name(), "deis-web-v3-web.2"; got != want {
		t.Errorf("Name() = %q, want %q", got, want)
	}
	same := testSpec(3, 2)
	same.Env = map[string]string{"GREETING": "hi"}
	if s.Hash() != same.Hash() {
		t.Error("equal specs hash differently")
	}
	for name, change := range map[string]func(*ContainerSpec){
		"env":    func(c *ContainerSpec) { c.Env["GREETING"] = "hello" },
		"port":   func(c *ContainerSpec) { c.Port++ },
		"slug":   func(c *ContainerSpec) { c.Slug.SHA256 = strings.Repeat("cd", 32) },
		"health": func(c *ContainerSpec) { c.HealthPath = "/healthz" },
	} {
		c := testSpec(3, 2)
		change(&c)
		if c.Hash() == s.Hash() {
			t.Errorf("changing %s keeps the hash", name)
		}
	}
}

func summary(spec ContainerSpec, hash string, state container.ContainerState) container.Summary {
	return container.Summary{ID: "id-" + spec.Name(), Names: []string{"/" + spec.Name()}, State: state,
		Labels: map[string]string{LabelApp: spec.App, LabelSpec: hash}}
}

func TestPlanRuntime(t *testing.T) {
	v1, v2, v2b := testSpec(1, 1), testSpec(2, 1), testSpec(2, 2)
	badPort := testSpec(2, 3)
	badPort.Port = 0
	badEnv := testSpec(2, 4)
	badEnv.Env = map[string]string{"A=B": "x"}
	type step struct{ Name, Reason, OldID string }
	tests := []struct {
		name      string
		desired   []ContainerSpec
		existing  []container.Summary
		want      []step
		wantSlugs int
		remove    []string
	}{
		{"empty node", []ContainerSpec{v1}, nil, []step{{v1.Name(), "created", ""}}, 1, nil},
		{"unchanged", []ContainerSpec{v1}, []container.Summary{summary(v1, v1.Hash(), "running")},
			[]step{{v1.Name(), "", "id-" + v1.Name()}}, 1, nil},
		{"spec changed", []ContainerSpec{v1}, []container.Summary{summary(v1, "old", "running")},
			[]step{{v1.Name(), "replaced: spec changed", "id-" + v1.Name()}}, 1, nil},
		{"exited", []ContainerSpec{v1}, []container.Summary{summary(v1, v1.Hash(), "exited")},
			[]step{{v1.Name(), "replaced: was exited", "id-" + v1.Name()}}, 1, nil},
		{"rollout", []ContainerSpec{v2, v2b}, []container.Summary{summary(v1, v1.Hash(), "running")},
			[]step{{v2.Name(), "created", ""}, {v2b.Name(), "created", ""}}, 1, []string{v1.Name()}},
		{"invalid", []ContainerSpec{badPort, badEnv}, nil,
			[]step{{badPort.Name(), "invalid port 0", ""}, {badEnv.Name(), `invalid config variable "A=B"`, ""}}, 0, nil},
		{"duplicate", []ContainerSpec{v1, v1}, nil,
			[]step{{v1.Name(), "created", ""}, {v1.Name(), "duplicate container " + v1.Name() + " in the databag", ""}}, 1, nil},
		{"nothing wanted", nil, []container.Summary{summary(v1, v1.Hash(), "running")}, nil, 0, []string{v1.Name()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := planRuntime(tt.desired, tt.existing)
			var got []step
			for _, s := range p.containers {
				got = append(got, step{s.spec.Name(), s.reason, s.oldID})
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("steps (-want +got):\n%s", diff)
			}
			var removed []string
			for _, c := range p.remove {
				removed = append(removed, summaryName(c))
			}
			if diff := cmp.Diff(tt.remove, removed); diff != "" {
				t.Errorf("removed (-want +got):\n%s", diff)
			}
			if len(p.slugs) != tt.wantSlugs {
				t.Errorf("%d slugs, want %d", len(p.slugs), tt.wantSlugs)
			}
		})
	}
}

func TestContainerConfig(t *testing.T) {
	s := testSpec(4, 1)
	tricky := "a=b \"q\" 'x' $HOME `id`\nline 2 ünï ✓"
	s.Env = map[string]string{"Z": tricky, "A": "", "PORT": "1"}
	cfg, hc := containerConfig(s, "h", "me")
	if diff := cmp.Diff([]string{"A=", "Z=" + tricky, "PORT=5001"}, cfg.Env); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"/bin/sh", "-c", "exec ./server"}, cfg.Cmd); diff != "" {
		t.Errorf("cmd (-want +got):\n%s", diff)
	}
	wantLabels := map[string]string{LabelApp: "web", LabelRelease: "4", LabelType: "web", LabelNum: "1", LabelSpec: "h", LabelOwner: "me"}
	if diff := cmp.Diff(wantLabels, cfg.Labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	if cfg.WorkingDir != "/app" || hc.RestartPolicy.Name != container.RestartPolicyDisabled {
		t.Errorf("workdir %q, restart %q", cfg.WorkingDir, hc.RestartPolicy.Name)
	}
	if got := hc.LogConfig.Config["tag"]; hc.LogConfig.Type != "json-file" || got != "web/web.1" {
		t.Errorf("log config %+v", hc.LogConfig)
	}
	for p, b := range hc.PortBindings {
		if p.String() != "5001/tcp" || len(b) != 1 || b[0].HostIP.String() != "0.0.0.0" || b[0].HostPort != "5001" {
			t.Errorf("port binding %v: %+v", p, b)
		}
	}
}

func TestEnsureSlug(t *testing.T) {
	content := []byte("a slug")
	sum := sha256.Sum256(content)
	sha := hex.EncodeToString(sum[:])
	src := filepath.Join(t.TempDir(), "slug.tgz")
	if err := os.WriteFile(src, content, 0o644); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("token") != "secret" {
			http.Error(w, "no", http.StatusForbidden)
			return
		}
		w.Write(content)
	}))
	defer srv.Close()
	tests := []struct {
		name    string
		url     string
		sha     string
		placed  []byte // in the slug dir before, without a marker
		want    string // "downloaded", "verified", "" or an error's start
		wantErr bool
	}{
		{"file URL", "file://" + src, sha, nil, "downloaded", false},
		{"http URL", srv.URL + "/slug?token=secret", sha, nil, "downloaded", false},
		{"placed by the controller", "file:///nonexistent", sha, content, "verified", false},
		{"placed but corrupt", "file://" + src, sha, []byte("junk"), "downloaded", false},
		{"checksum mismatch", "file://" + src, strings.Repeat("0", 64), nil, "fetching file://" + src + ": checksum mismatch", true},
		{"http error hides the token", srv.URL + "/slug?token=wrong", sha, nil, "fetching " + srv.URL + "/slug: server answered 403", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Runtime{SlugDir: filepath.Join(t.TempDir(), "slugs")}
			if tt.placed != nil {
				os.MkdirAll(r.SlugDir, 0o755)
				os.WriteFile(SlugPath(r.SlugDir, tt.sha), tt.placed, 0o644)
			}
			got, err := r.ensureSlug(t.Context(), SlugRef{URL: tt.url, SHA256: tt.sha})
			if tt.wantErr {
				if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
					t.Fatalf("err = %v, want it to start with %q", err, tt.want)
				}
				if ents, _ := os.ReadDir(r.SlugDir); len(ents) != 0 {
					t.Errorf("slug dir holds %v after a failure", ents)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ensureSlug = %q, %v; want %q", got, err, tt.want)
			}
			if b, _ := os.ReadFile(SlugPath(r.SlugDir, tt.sha)); string(b) != string(content) {
				t.Errorf("slug holds %q", b)
			}
			again, err := r.ensureSlug(t.Context(), SlugRef{URL: "file:///nonexistent", SHA256: tt.sha})
			if err != nil || again != "" {
				t.Errorf("second ensureSlug = %q, %v; want no change", again, err)
			}
		})
	}
}

func TestAgentReportOK(t *testing.T) {
	for _, tt := range []struct {
		rep  AgentReport
		want bool
	}{
		{AgentReport{}, true},
		{AgentReport{Resources: []ResourceResult{{Result: Changed}, {Result: Unchanged}}}, true},
		{AgentReport{Resources: []ResourceResult{{Result: Changed}, {Result: Failed}}}, false},
		{AgentReport{Error: "runtime: listing containers"}, false},
	} {
		if got := tt.rep.OK(); got != tt.want {
			t.Errorf("%+v.OK() = %v, want %v", tt.rep, got, tt.want)
		}
	}
}

func TestShellCommand(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"./server", "exec ./server"},
		{"bin/web -port $PORT", "exec bin/web -port $PORT"},
		{"exec ./server", "exec ./server"},
		{"cd app && ./server", "cd app && ./server"},
		{"./a; ./b", "./a; ./b"},
		{"./a | tee log", "./a | tee log"},
	} {
		if got := shellCommand(tt.in); got != tt.want {
			t.Errorf("shellCommand(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
