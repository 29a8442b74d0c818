package recipes

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/deis/deis/proxy/proxytest"
)

// proxyEnv is a real nginx in a temporary prefix, driven by the proxy
// recipe and listening on a free 127.0.0.1 port.
type proxyEnv struct {
	t     *testing.T
	ng    *proxytest.Nginx
	setup nginxSetup
	url   string
}

func newProxyEnv(t *testing.T) *proxyEnv {
	ng := proxytest.New(t)
	t.Cleanup(ng.Stop) // the recipe starts it
	listen := fmt.Sprintf("127.0.0.1:%d", proxytest.FreePort(t))
	debianDefault := filepath.Join(ng.Dir, "sites-enabled", "default")
	if err := os.MkdirAll(filepath.Dir(debianDefault), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(debianDefault, []byte("server { listen 80 default_server; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return &proxyEnv{
		t:  t,
		ng: ng,
		setup: nginxSetup{
			Conf:          ng.Include,
			DebianDefault: debianDefault,
			PIDFile:       ng.PIDFile,
			Bin:           ng.Bin,
			Args:          ng.Args(),
			Listen:        listen,
			Timeout:       30 * time.Second,
		},
		url: "http://" + listen + "/",
	}
}

// apply applies st and checks the results, ignoring messages and durations
// but for the messages in wantMsg (resource -> substring).
func (e *proxyEnv) apply(st ProxyState, want []ResourceResult) []ResourceResult {
	e.t.Helper()
	got := e.setup.apply(context.Background(), st)
	type rr struct{ Resource, Result string }
	var g, w []rr
	for _, r := range got {
		g = append(g, rr{r.Resource, r.Result})
	}
	for _, r := range want {
		w = append(w, rr{r.Resource, r.Result})
		if r.Message == "" {
			continue
		}
		i := slices.IndexFunc(got, func(x ResourceResult) bool { return x.Resource == r.Resource })
		if i < 0 || !strings.Contains(got[i].Message, r.Message) {
			e.t.Errorf("%s: message does not say %q: %+v", r.Resource, r.Message, got)
		}
	}
	if diff := cmp.Diff(w, g); diff != "" {
		e.t.Fatalf("apply results (-want +got):\n%s\nall: %+v", diff, got)
	}
	return got
}

// get requests / from nginx with the given Host.
func (e *proxyEnv) get(host string) (int, string, error) {
	req, err := http.NewRequest("GET", e.url, nil)
	if err != nil {
		return 0, "", err
	}
	req.Host = host
	client := &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// awaitBody waits for host to answer 200 with body: a reload is
// asynchronous, old workers serve until they finish.
func (e *proxyEnv) awaitBody(host, body string) {
	e.t.Helper()
	var code int
	var got string
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		code, got, err = e.get(host)
		if err == nil && code == 200 && got == body {
			return
		}
	}
	e.t.Fatalf("Host %s: want 200 %q, last got %d %q (err %v)", host, body, code, got, err)
}

// workers returns the nginx master's children: a reload replaces them.
func (e *proxyEnv) workers() string {
	e.t.Helper()
	pid := e.ng.PID()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		e.t.Fatalf("nginx workers: %v", err)
	}
	return strings.TrimSpace(string(b))
}

func backend(t *testing.T, name string, hosts chan<- http.Header) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Clone()
		h.Set("Host", r.Host)
		select {
		case hosts <- h:
		default:
		}
		io.WriteString(w, name)
	}))
	t.Cleanup(s.Close)
	return s
}

func webSite(upstreams ...string) ProxyState {
	return ProxyState{Sites: []Site{{App: "web", ServerNames: []string{"web.example.test"}, Upstreams: upstreams}}}
}

func TestApplyProxyRealNginx(t *testing.T) {
	e := newProxyEnv(t)
	headers := make(chan http.Header, 1)
	a := backend(t, "a", headers)
	b := backend(t, "b", nil)
	addrA, addrB := strings.TrimPrefix(a.URL, "http://"), strings.TrimPrefix(b.URL, "http://")

	// First converge: Debian's default site goes, the site is written and
	// nginx, not running yet, is started.
	e.apply(webSite(addrA), []ResourceResult{
		{Resource: debianDefaultResource, Result: Changed},
		{Resource: siteResource, Result: Changed},
		{Resource: nginxServiceResource, Result: Changed},
	})
	if _, err := os.Lstat(e.setup.DebianDefault); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Debian's default site is still there: %v", err)
	}
	e.awaitBody("web.example.test", "a")
	h := <-headers
	for k, want := range map[string]string{"Host": "web.example.test", "X-Forwarded-Proto": "http", "X-Forwarded-For": "127.0.0.1"} {
		if got := h.Get(k); got != want {
			t.Errorf("backend got %s %q, want %q", k, got, want)
		}
	}
	if !strings.HasPrefix(h.Get("X-Request-Start"), "t=") {
		t.Errorf("backend got X-Request-Start %q", h.Get("X-Request-Start"))
	}

	t.Run("same state is unchanged and does not reload", func(t *testing.T) {
		before := e.workers()
		e.apply(webSite(addrA), []ResourceResult{{Resource: siteResource, Result: Unchanged}})
		time.Sleep(200 * time.Millisecond)
		if after := e.workers(); after != before {
			t.Errorf("nginx workers changed from %s to %s: it was reloaded", before, after)
		}
	})

	t.Run("switching upstream reloads", func(t *testing.T) {
		pid, before := e.ng.PID(), e.workers()
		e.apply(webSite(addrB), []ResourceResult{{Resource: siteResource, Result: Changed}})
		e.awaitBody("web.example.test", "b")
		if e.workers() == before {
			t.Errorf("nginx workers are still %s: it was not reloaded", before)
		}
		if e.ng.PID() != pid {
			t.Errorf("nginx master changed from %d to %d: it was restarted", pid, e.ng.PID())
		}
	})

	good, err := os.ReadFile(e.setup.Conf)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("config nginx rejects is rolled back", func(t *testing.T) {
		// It renders, but nginx -t cannot resolve the upstream host.
		e.apply(webSite("deis-no-such-node.invalid:10001"), []ResourceResult{
			{Resource: siteResource, Result: Failed, Message: "host not found in upstream"},
		})
		e.assertConf(good)
		for range 5 {
			e.awaitBody("web.example.test", "b")
		}
		// And the next converge of the good state changes nothing.
		e.apply(webSite(addrB), []ResourceResult{{Resource: siteResource, Result: Unchanged}})
	})

	t.Run("state that does not render is rejected", func(t *testing.T) {
		e.apply(webSite("10.0.0.1:80; include /etc/passwd"), []ResourceResult{
			{Resource: siteResource, Result: Failed, Message: "bad upstream"},
		})
		e.assertConf(good)
	})

	t.Run("unknown host is 404", func(t *testing.T) {
		code, body, err := e.get("other.example.test")
		if err != nil || code != 404 || body != "no app at this host\n" {
			t.Errorf("unknown host: %d %q %v", code, body, err)
		}
	})

	t.Run("site without containers is 503", func(t *testing.T) {
		e.apply(webSite(), []ResourceResult{{Resource: siteResource, Result: Changed}})
		var code int
		var body string
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && code != 503; time.Sleep(50 * time.Millisecond) {
			code, body, _ = e.get("web.example.test")
		}
		if code != 503 || body != "no web containers running for web\n" {
			t.Errorf("got %d %q", code, body)
		}
	})

	pid := e.ng.PID()
	e.ng.Stop()
	if proxytest.Alive(pid) {
		t.Errorf("nginx %d still running after quit", pid)
	}
}

func (e *proxyEnv) assertConf(want []byte) {
	e.t.Helper()
	got, err := os.ReadFile(e.setup.Conf)
	if err != nil {
		e.t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		e.t.Errorf("%s is not the last good config (-want +got):\n%s", e.setup.Conf, diff)
	}
	if tmp, _ := filepath.Glob(filepath.Join(filepath.Dir(e.setup.Conf), ".*tmp*")); len(tmp) > 0 {
		e.t.Errorf("temporary files left behind: %v", tmp)
	}
}

// TestApplyProxyFirstConfigRejected: with no previous file, a rejected
// config leaves none, and nginx still starts (with what it had).
func TestApplyProxyFirstConfigRejected(t *testing.T) {
	e := newProxyEnv(t)
	e.apply(webSite("deis-no-such-node.invalid:10001"), []ResourceResult{
		{Resource: debianDefaultResource, Result: Changed},
		{Resource: siteResource, Result: Failed, Message: "host not found"},
		{Resource: nginxServiceResource, Result: Changed},
	})
	if _, err := os.Stat(e.setup.Conf); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s exists after a rejected first config: %v", e.setup.Conf, err)
	}
	if !e.setup.running() {
		t.Error("nginx is not running")
	}
}

func TestProxyNginxErrorLine(t *testing.T) {
	out := `nginx: [emerg] host not found in upstream "x.invalid:1" in /etc/nginx/conf.d/deis.conf:25
nginx: configuration file /etc/nginx/nginx.conf test failed
`
	if got, want := nginxErrorLine([]byte(out), errors.New("exit status 1")), `[emerg] host not found in upstream "x.invalid:1" in /etc/nginx/conf.d/deis.conf:25`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := nginxErrorLine(nil, errors.New("exit status 1")); got != "exit status 1" {
		t.Errorf("empty output: got %q", got)
	}
}
