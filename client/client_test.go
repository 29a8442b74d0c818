package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deis/deis"
	"github.com/google/go-cmp/cmp"
)

// serve starts a test server with handler h and returns a client of it
// under prefix (e.g. "" or "/deis").
func serve(t *testing.T, prefix string, h http.HandlerFunc) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return New(srv.URL+prefix, "tok123", WithUserAgent("deis-test/1"), WithTimeout(5*time.Second))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func TestHeaders(t *testing.T) {
	var got http.Header
	c := serve(t, "", func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		writeJSON(w, 200, deis.User{Username: "alice"})
	})
	u, err := c.Whoami(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if u.Username != "alice" {
		t.Errorf("username = %q", u.Username)
	}
	if a := got.Get("Authorization"); a != "Bearer tok123" {
		t.Errorf("Authorization = %q", a)
	}
	if ua := got.Get("User-Agent"); ua != "deis-test/1" {
		t.Errorf("User-Agent = %q", ua)
	}
}

func TestNoTokenNoAuthHeader(t *testing.T) {
	var auth []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Values("Authorization")
		writeJSON(w, 200, deis.Token{Token: "t", Username: "bob"})
	}))
	defer srv.Close()
	if _, err := New(srv.URL, "").Login(context.Background(), deis.LoginRequest{Username: "bob"}); err != nil {
		t.Fatal(err)
	}
	if len(auth) != 0 {
		t.Errorf("Authorization sent without a token: %q", auth)
	}
}

// TestPagination checks that lists follow next across pages, also when the
// controller sits under a path prefix.
func TestPagination(t *testing.T) {
	for _, prefix := range []string{"", "/deis"} {
		t.Run("prefix="+prefix, func(t *testing.T) {
			const total = 7
			var paths []string
			c := serve(t, prefix, func(w http.ResponseWriter, r *http.Request) {
				paths = append(paths, r.URL.RequestURI())
				if !strings.HasPrefix(r.URL.Path, prefix+"/v1/apps") {
					writeJSON(w, 404, deis.Error{Message: "bad path " + r.URL.Path, Code: deis.CodeNotFound})
					return
				}
				off, _ := strconv.Atoi(r.URL.Query().Get("offset"))
				page := deis.Page[deis.App]{Count: total}
				for i := off; i < min(off+3, total); i++ {
					page.Results = append(page.Results, deis.App{ID: fmt.Sprintf("app-%d", i)})
				}
				if off+3 < total {
					page.Next = fmt.Sprintf("/v1/apps?limit=3&offset=%d", off+3)
				}
				writeJSON(w, 200, page)
			})
			apps, err := c.ListApps(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, a := range apps {
				ids = append(ids, a.ID)
			}
			want := []string{"app-0", "app-1", "app-2", "app-3", "app-4", "app-5", "app-6"}
			if d := cmp.Diff(want, ids); d != "" {
				t.Errorf("ids (-want +got):\n%s", d)
			}
			wantPaths := []string{
				prefix + "/v1/apps",
				prefix + "/v1/apps?limit=3&offset=3",
				prefix + "/v1/apps?limit=3&offset=6",
			}
			if d := cmp.Diff(wantPaths, paths); d != "" {
				t.Errorf("paths (-want +got):\n%s", d)
			}
		})
	}
}

func TestEmptyListIsNotNil(t *testing.T) {
	c := serve(t, "", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, deis.Page[deis.Key]{})
	})
	keys, err := c.ListKeys(context.Background())
	if err != nil || keys == nil || len(keys) != 0 {
		t.Fatalf("ListKeys = %#v, %v; want empty non-nil", keys, err)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		want    APIError
		wantMsg string
	}{
		{"json", 422, `{"error":"invalid app id \"A\"","code":"invalid"}`,
			APIError{Status: 422, Code: deis.CodeInvalid, Message: `invalid app id "A"`, RequestID: "rid"}, `invalid app id "A"`},
		{"not implemented", 501, `{"error":"node providers land later","code":"not_implemented"}`,
			APIError{Status: 501, Code: deis.CodeNotImplemented, Message: "node providers land later", RequestID: "rid"}, "node providers land later"},
		{"html", 502, "<html><body>Bad Gateway</body></html>",
			APIError{Status: 502, RequestID: "rid"}, "502 Bad Gateway"},
		{"text", 503, "upstream down\nmore", APIError{Status: 503, RequestID: "rid",
			Message: "503 Service Unavailable: upstream down"}, "503 Service Unavailable: upstream down"},
		{"empty", 401, "", APIError{Status: 401, RequestID: "rid"}, "401 Unauthorized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := serve(t, "", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Deis-Request-ID", "rid")
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			})
			_, err := c.GetApp(context.Background(), "x")
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v (%T), want *APIError", err, err)
			}
			if d := cmp.Diff(tt.want, *ae); d != "" {
				t.Errorf("APIError (-want +got):\n%s", d)
			}
			if err.Error() != tt.wantMsg {
				t.Errorf("Error() = %q, want %q", err.Error(), tt.wantMsg)
			}
			if !IsStatus(err, tt.status) {
				t.Errorf("IsStatus(err, %d) = false", tt.status)
			}
		})
	}
}

func TestRequestBodiesAndPaths(t *testing.T) {
	type call struct{ Method, Path, Body string }
	var got []call
	c := serve(t, "", func(w http.ResponseWriter, r *http.Request) {
		var body json.RawMessage
		json.NewDecoder(r.Body).Decode(&body)
		got = append(got, call{r.Method, r.URL.RequestURI(), string(body)})
		switch {
		case r.Method == "DELETE" && strings.HasPrefix(r.URL.Path, "/v1/formations/"):
			writeJSON(w, 202, deis.Job{ID: "j1", State: deis.JobRunning})
		case r.Method == "DELETE":
			w.WriteHeader(204)
		case r.Method == "GET":
			writeJSON(w, 200, deis.Release{Version: 2})
		default:
			writeJSON(w, 202, deis.Job{ID: "j2", Kind: "app.config", State: deis.JobRunning})
		}
	})
	ctx := context.Background()
	v := "a=b c"
	if j, err := c.UpdateConfig(ctx, "web", map[string]*string{"K": &v, "GONE": nil}); err != nil || j == nil || j.ID != "j2" {
		t.Fatalf("UpdateConfig = %+v, %v", j, err)
	}
	if _, err := c.GetRelease(ctx, "web", 2); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Rollback(ctx, "web", 0); err != nil {
		t.Fatal(err)
	}
	j, err := c.DestroyFormation(ctx, "dev")
	if err != nil || j == nil || j.ID != "j1" {
		t.Fatalf("DestroyFormation = %+v, %v", j, err)
	}
	if err := c.DeletePerm(ctx, "web", "bob"); err != nil {
		t.Fatal(err)
	}
	want := []call{
		{"POST", "/v1/apps/web/config", `{"values":{"GONE":null,"K":"a=b c"}}`},
		{"GET", "/v1/apps/web/releases/2", ""},
		{"POST", "/v1/apps/web/releases/rollback", `{}`},
		{"DELETE", "/v1/formations/dev", ""},
		{"DELETE", "/v1/apps/web/perms/bob", ""},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("calls (-want +got):\n%s", d)
	}
}

func TestTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	}))
	defer srv.Close()
	c := New(srv.URL, "t", WithTimeout(50*time.Millisecond))
	start := time.Now()
	_, err := c.Whoami(context.Background())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want a deadline error", err)
	}
	if time.Since(start) > time.Second {
		t.Errorf("timeout took %v", time.Since(start))
	}
}
