package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deis/deis"
	"github.com/deis/deis/converge"
	"github.com/deis/deis/nodes"
	"github.com/deis/deis/slugs"
	"github.com/deis/deis/store/storetest"
)

// testAPI is a controller API over a real store, reached through HTTP.
type testAPI struct {
	t      testing.TB
	srv    *httptest.Server
	server *Server
}

func newTestAPI(t testing.TB) *testAPI {
	t.Helper()
	st := storetest.Open(t)
	mgr := &nodes.Manager{Store: st, Providers: &nodes.Providers{}, Pool: nodes.NewPool(nil), ReachTimeout: time.Second}
	conv := &converge.Converger{Store: st, Dialer: dialer(mgr)}
	s := New(Config{Store: st, Nodes: mgr, Conv: conv, Slugs: slugs.Store{Dir: t.TempDir()}})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { srv.Close(); s.Wait() })
	return &testAPI{t: t, srv: srv, server: s}
}

// do sends body (a string is sent as is, anything else as JSON) and
// returns the status and the raw answer.
func (a *testAPI) do(method, path, token string, body any) (int, []byte) {
	a.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			a.t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, a.srv.URL+path, r)
	if err != nil {
		a.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// must sends a request that must answer want, and decodes the answer into v.
func (a *testAPI) must(want int, method, path, token string, body, v any) {
	a.t.Helper()
	status, out := a.do(method, path, token, body)
	if status != want {
		a.t.Fatalf("%s %s: status %d, want %d: %s", method, path, status, want, out)
	}
	if v != nil {
		if err := json.Unmarshal(out, v); err != nil {
			a.t.Fatalf("%s %s: decoding %s: %v", method, path, out, err)
		}
	}
}

// user registers and logs in a user, returning the token.
func (a *testAPI) user(name string) string {
	a.t.Helper()
	a.must(http.StatusCreated, "POST", "/v1/auth/register", "", deis.RegisterRequest{Username: name, Password: "password-" + name, Email: name + "@example.com"}, nil)
	var tok deis.Token
	a.must(http.StatusOK, "POST", "/v1/auth/login", "", deis.LoginRequest{Username: name, Password: "password-" + name}, &tok)
	return tok.Token
}

// dialer reaches nodes through the manager, as the controller's does.
func dialer(m *nodes.Manager) converge.Dialer {
	return converge.DialFunc(func(ctx context.Context, f deis.Formation, n deis.Node) (converge.Node, error) {
		s, err := m.Session(ctx, f, n)
		if err != nil {
			return nil, err
		}
		return s, nil
	})
}

// release sends a release-making request (config, builds, rollback),
// which must answer 202 with a job, waits for the job to end, and returns
// the release it made.
func (a *testAPI) release(method, path, token string, body any) deis.Release {
	a.t.Helper()
	j := a.job(method, path, token, body)
	if j.State != deis.JobSucceeded || j.Release == 0 {
		a.t.Fatalf("%s %s: job %+v, want it to succeed with a release", method, path, j)
	}
	var rel deis.Release
	a.must(http.StatusOK, "GET", "/v1/apps/"+j.Target+"/releases/"+strconv.Itoa(j.Release), token, nil, &rel)
	return rel
}

// job sends a request that must answer 202 with a job, and returns the job
// once it ended.
func (a *testAPI) job(method, path, token string, body any) deis.Job {
	a.t.Helper()
	var j deis.Job
	a.must(http.StatusAccepted, method, path, token, body, &j)
	return a.wait(j, token)
}

// wait follows job j's lines until it ends, and returns it then.
func (a *testAPI) wait(j deis.Job, token string) deis.Job {
	a.t.Helper()
	after := 0
	for range 100 {
		var jl deis.JobLines
		a.must(http.StatusOK, "GET", "/v1/jobs/"+j.ID+"/lines?wait=5&after="+strconv.Itoa(after), token, nil, &jl)
		if jl.Job.State != deis.JobRunning {
			return jl.Job
		}
		for _, l := range jl.Lines {
			after = max(after, l.Seq)
		}
	}
	a.t.Fatalf("job %s (%s) did not end", j.ID, j.Kind)
	return j
}
