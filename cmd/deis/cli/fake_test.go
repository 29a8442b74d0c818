package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deis/deis"
)

// fakeController is an in-memory controller with the few routes the CLI
// tests use. It records every request.
type fakeController struct {
	mu       sync.Mutex
	calls    []string // "METHOD /path body"
	config   map[string]string
	version  int
	jobLines []string
	jobState deis.JobState // the state the job ends in
	polls    int
	provs    map[string]deis.ProviderCreateRequest // by id, with its current credentials
	srv      *httptest.Server
}

func newFakeController(t *testing.T) *fakeController {
	f := &fakeController{config: map[string]string{"EXISTING": "a=b"}, version: 1, jobState: deis.JobSucceeded,
		provs: map[string]deis.ProviderCreateRequest{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/auth/register", func(w http.ResponseWriter, r *http.Request) {
		var req deis.RegisterRequest
		json.NewDecoder(r.Body).Decode(&req)
		reply(w, 201, deis.User{Username: req.Username, Email: req.Email, Admin: true})
	})
	mux.HandleFunc("POST /v1/auth/login", func(w http.ResponseWriter, r *http.Request) {
		var req deis.LoginRequest
		json.NewDecoder(r.Body).Decode(&req)
		if req.Password != "pw" {
			reply(w, 401, deis.Error{Message: "bad username or password", Code: deis.CodeUnauthorized})
			return
		}
		reply(w, 200, deis.Token{Token: "tok-" + req.Username, Username: req.Username})
	})
	mux.HandleFunc("POST /v1/auth/logout", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	mux.HandleFunc("GET /v1/auth/whoami", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok-alice" {
			reply(w, 401, deis.Error{Message: "unknown token", Code: deis.CodeUnauthorized})
			return
		}
		reply(w, 200, deis.User{Username: "alice"})
	})
	mux.HandleFunc("GET /v1/apps/{app}/config", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 200, deis.Config{App: r.PathValue("app"), Version: f.version, Values: f.config})
	})
	mux.HandleFunc("POST /v1/apps/{app}/config", func(w http.ResponseWriter, r *http.Request) {
		var req deis.ConfigUpdateRequest
		json.NewDecoder(r.Body).Decode(&req)
		for k, v := range req.Values {
			if v == nil {
				delete(f.config, k)
			} else {
				f.config[k] = *v
			}
		}
		f.version++
		reply(w, 202, deis.Job{ID: "release-" + strconv.Itoa(f.version), Kind: "app.config", Target: r.PathValue("app"), State: deis.JobRunning})
	})
	mux.HandleFunc("GET /v1/apps/{app}/releases/{v}", func(w http.ResponseWriter, r *http.Request) {
		v, _ := strconv.Atoi(r.PathValue("v"))
		reply(w, 200, deis.Release{App: r.PathValue("app"), Version: v, Status: deis.ReleaseDeployed})
	})
	mux.HandleFunc("GET /v1/formations", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 200, deis.Page[deis.Formation]{Count: 1, Results: []deis.Formation{{ID: "dev"}}})
	})
	mux.HandleFunc("POST /v1/apps", func(w http.ResponseWriter, r *http.Request) {
		var req deis.AppCreateRequest
		json.NewDecoder(r.Body).Decode(&req)
		if req.ID == "" {
			req.ID = "peachy-waxworks"
		}
		reply(w, 201, deis.App{ID: req.ID, Formation: req.Formation, GitRemote: "ssh://git@127.0.0.1:2222/" + req.ID + ".git"})
	})
	mux.HandleFunc("DELETE /v1/apps/{app}", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 202, deis.Job{ID: "job-destroy", Kind: "app.destroy", Target: r.PathValue("app"), State: deis.JobRunning})
	})
	mux.HandleFunc("DELETE /v1/formations/{id}", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 202, deis.Job{ID: "job-1", Kind: "formation.destroy", Target: r.PathValue("id"), State: deis.JobRunning})
	})
	mux.HandleFunc("GET /v1/apps/{app}/logs", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 501, deis.Error{Message: "logs is not available yet", Code: deis.CodeNotImplemented})
	})
	mux.HandleFunc("POST /v1/providers", func(w http.ResponseWriter, r *http.Request) {
		var req deis.ProviderCreateRequest
		json.NewDecoder(r.Body).Decode(&req)
		if msg := checkEC2Creds(req.Type, req.Creds); msg != "" {
			reply(w, 422, deis.Error{Message: msg, Code: deis.CodeInvalid})
			return
		}
		f.provs[req.ID] = req
		reply(w, 201, deis.Provider{ID: req.ID, Type: req.Type, CredKeys: sortedKeys(req.Creds)})
	})
	mux.HandleFunc("PATCH /v1/providers/{id}", func(w http.ResponseWriter, r *http.Request) {
		p, ok := f.provs[r.PathValue("id")]
		if !ok {
			reply(w, 404, deis.Error{Message: "provider not found", Code: deis.CodeNotFound})
			return
		}
		var req deis.ProviderUpdateRequest
		json.NewDecoder(r.Body).Decode(&req)
		if p.Creds == nil {
			p.Creds = map[string]string{}
			f.provs[p.ID] = p
		}
		for k, v := range req.Creds {
			if v == nil {
				delete(p.Creds, k)
			} else {
				p.Creds[k] = *v
			}
		}
		reply(w, 200, deis.Provider{ID: p.ID, Type: p.Type, CredKeys: sortedKeys(p.Creds)})
	})
	mux.HandleFunc("PATCH /v1/flavors/{id}", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 200, deis.Flavor{ID: r.PathValue("id"), Provider: "static"})
	})
	mux.HandleFunc("GET /v1/jobs/{id}/lines", f.lines)
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		f.mu.Lock()
		defer f.mu.Unlock()
		f.calls = append(f.calls, strings.TrimSpace(r.Method+" "+r.URL.Path+" "+string(body)))
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// checkEC2Creds accepts, for type ec2, only the credentials the
// controller knows, and requires the key pair.
func checkEC2Creds(typ string, creds map[string]string) string {
	if typ != deis.ProviderEC2 {
		return ""
	}
	for k := range creds {
		switch k {
		case "access_key_id", "secret_access_key", "session_token", "region":
		default:
			return "unknown ec2 credential " + k
		}
	}
	if creds["access_key_id"] == "" || creds["secret_access_key"] == "" {
		return "ec2 needs access_key_id and secret_access_key"
	}
	return ""
}

// lines hands out one job line per poll, then ends the job.
func (f *fakeController) lines(w http.ResponseWriter, r *http.Request) {
	f.polls++
	job := deis.Job{ID: r.PathValue("id"), Kind: "formation.destroy", State: deis.JobRunning}
	if v, ok := strings.CutPrefix(job.ID, "release-"); ok { // a release job made v
		job.Release, _ = strconv.Atoi(v)
	}
	var out []deis.JobLine
	if f.polls <= len(f.jobLines) {
		out = append(out, deis.JobLine{Seq: f.polls, Time: time.Now(), Text: f.jobLines[f.polls-1]})
	}
	if f.polls >= len(f.jobLines) {
		job.State = f.jobState
		if f.jobState == deis.JobFailed {
			job.Error = "node dev-runtime-1 did not stop"
		}
	}
	reply(w, 200, deis.JobLines{Job: job, Lines: out})
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// callsTo returns the recorded calls whose method and path start with
// prefix.
func (f *fakeController) callsTo(prefix string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		if strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	return out
}

// testEnv runs the CLI against a fake controller with its own HOME.
type testEnv struct {
	t    *testing.T
	ctl  *fakeController
	home string
	dir  string // where git runs
	env  map[string]string
}

func newTestEnv(t *testing.T) *testEnv {
	e := &testEnv{t: t, ctl: newFakeController(t), home: t.TempDir(), dir: t.TempDir()}
	e.env = map[string]string{"HOME": e.home, "DEIS_CONTROLLER": e.ctl.srv.URL}
	return e
}

// login stores a token as 'deis login' would.
func (e *testEnv) login() {
	e.t.Helper()
	st := state{Controller: e.ctl.srv.URL, Token: "tok-alice", Username: "alice"}
	if err := saveState(filepath.Join(e.home, ".deis", "client.json"), st); err != nil {
		e.t.Fatal(err)
	}
}

// run runs deis with args and returns stdout, stderr and the exit code.
func (e *testEnv) run(args ...string) (string, string, int) {
	return e.runIn("", args...)
}

func (e *testEnv) runIn(stdin string, args ...string) (string, string, int) {
	var out, errOut bytes.Buffer
	c := newCLI(strings.NewReader(stdin), &out, &errOut, func(k string) string { return e.env[k] })
	c.dir = e.dir
	code := c.run(e.t.Context(), args)
	return out.String(), errOut.String(), code
}
