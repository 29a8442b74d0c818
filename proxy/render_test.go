package proxy_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/deis/deis/proxy"
	"github.com/deis/deis/proxy/proxytest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenCases are rendered to testdata/<name>.conf.
var goldenCases = []struct {
	name  string
	sites []proxy.Site
}{
	{"empty", nil},
	{"one-app", []proxy.Site{
		{App: "web", ServerNames: []string{"web.example.com"}, Upstreams: []string{"10.0.0.2:10001"}},
	}},
	{"several-apps", []proxy.Site{
		// Out of order on purpose: the output is sorted by app.
		{App: "zebra", ServerNames: []string{"zebra.example.com"}, Upstreams: []string{"10.0.0.3:10004", "10.0.0.2:10003"}},
		{App: "api-v2", ServerNames: []string{"API-V2.example.com", "api.example.org"}, Upstreams: []string{"127.0.0.1:10002"}},
		{App: "web", ServerNames: []string{"web.example.com"}, Upstreams: []string{"localhost:10001"}},
	}},
	{"default-site", []proxy.Site{
		{App: "web", Default: true, Upstreams: []string{"10.0.0.2:10001", "[fd00::2]:10002"}},
	}},
	{"no-upstreams", []proxy.Site{
		{App: "idle", ServerNames: []string{"idle.example.com"}},
		{App: "web", ServerNames: []string{"web.example.com"}, Upstreams: []string{"10.0.0.2:10001"}},
	}},
	{"default-no-upstreams", []proxy.Site{
		{App: "web", Default: true},
	}},
	{"many-upstreams", []proxy.Site{
		{App: "big.app", ServerNames: []string{"big.app.a-very-long-domain-name-for-the-bucket-size.deis.example.com"}, Upstreams: manyUpstreams()},
	}},
}

func manyUpstreams() []string {
	var u []string
	for _, host := range []string{"10.0.0.4", "10.0.0.2", "10.0.0.3"} {
		for _, port := range []string{"10003", "10001", "10002", "10001"} { // with a duplicate
			u = append(u, host+":"+port)
		}
	}
	return u
}

func TestRenderGolden(t *testing.T) {
	t.Parallel()
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := proxy.Render(tc.sites)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			path := filepath.Join("testdata", tc.name+".conf")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./proxy -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("Render differs from %s (-want +got; go test ./proxy -update rewrites it):\n%s", path, diff)
			}
		})
	}
}

// TestGoldenNginxT checks every golden config with the real nginx -t.
func TestGoldenNginxT(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "*.conf"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			conf, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			n := proxytest.New(t)
			if err := os.WriteFile(n.Include, conf, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := n.Test(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestRenderIsOrderIndependent(t *testing.T) {
	t.Parallel()
	a := []proxy.Site{
		{App: "b", ServerNames: []string{"y.example.com", "x.example.com"}, Upstreams: []string{"10.0.0.2:2", "10.0.0.1:1"}},
		{App: "a", ServerNames: []string{"a.example.com"}, Upstreams: []string{"10.0.0.1:1"}},
	}
	b := []proxy.Site{
		{App: "a", ServerNames: []string{"a.example.com"}, Upstreams: []string{"10.0.0.1:1"}},
		{App: "b", ServerNames: []string{"x.example.com", "y.example.com"}, Upstreams: []string{"10.0.0.1:1", "10.0.0.2:2"}},
	}
	ra, err := proxy.Render(a)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := proxy.Render(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(ra), string(rb)); diff != "" {
		t.Errorf("order changed the output (-a +b):\n%s", diff)
	}
}

func TestRenderListen(t *testing.T) {
	t.Parallel()
	sites := []proxy.Site{{App: "web", ServerNames: []string{"web.example.com"}, Upstreams: []string{"10.0.0.1:1"}}}
	for listen, want := range map[string]string{
		"":               "listen 80;",
		"8080":           "listen 8080;",
		"127.0.0.1:8080": "listen 127.0.0.1:8080;",
	} {
		got, err := proxy.Config{Listen: listen}.Render(sites)
		if err != nil {
			t.Fatalf("Listen %q: %v", listen, err)
		}
		if !strings.Contains(string(got), want) {
			t.Errorf("Listen %q: no %q in\n%s", listen, want, got)
		}
	}
	for _, bad := range []string{"0", "80; include /etc/passwd", "host:80", "1.2.3.4:0", "99999"} {
		if _, err := (proxy.Config{Listen: bad}).Render(sites); err == nil {
			t.Errorf("Listen %q: no error", bad)
		}
	}
}

func TestRenderRejects(t *testing.T) {
	t.Parallel()
	ok := proxy.Site{App: "web", ServerNames: []string{"web.example.com"}, Upstreams: []string{"10.0.0.1:10001"}}
	with := func(f func(*proxy.Site)) []proxy.Site {
		s := ok
		s.ServerNames = append([]string(nil), ok.ServerNames...)
		s.Upstreams = append([]string(nil), ok.Upstreams...)
		f(&s)
		return []proxy.Site{s}
	}
	tests := []struct {
		name  string
		sites []proxy.Site
		want  string // in the error
	}{
		{"empty app", with(func(s *proxy.Site) { s.App = "" }), "bad app name"},
		{"app with brace", with(func(s *proxy.Site) { s.App = "web}" }), "bad app name"},
		{"app with space", with(func(s *proxy.Site) { s.App = "web x" }), "bad app name"},
		{"app with underscore", with(func(s *proxy.Site) { s.App = "web_x" }), "bad app name"},
		{"app leading dash", with(func(s *proxy.Site) { s.App = "-web" }), "bad app name"},
		{"uppercase app", with(func(s *proxy.Site) { s.App = "Web" }), "bad app name"},
		{"server name injection", with(func(s *proxy.Site) {
			s.ServerNames = []string{"web.example.com; } server { listen 81"}
		}), "bad server name"},
		{"server name newline", with(func(s *proxy.Site) { s.ServerNames = []string{"web.example.com\ninclude x"} }), "bad server name"},
		{"server name wildcard", with(func(s *proxy.Site) { s.ServerNames = []string{"*.example.com"} }), "bad server name"},
		{"server name empty label", with(func(s *proxy.Site) { s.ServerNames = []string{"web..example.com"} }), "bad server name"},
		{"server name quote", with(func(s *proxy.Site) { s.ServerNames = []string{`"web"`} }), "bad server name"},
		{"no names, not default", with(func(s *proxy.Site) { s.ServerNames = nil }), "no server names"},
		{"upstream without port", with(func(s *proxy.Site) { s.Upstreams = []string{"10.0.0.1"} }), "bad upstream"},
		{"upstream port 0", with(func(s *proxy.Site) { s.Upstreams = []string{"10.0.0.1:0"} }), "bad upstream"},
		{"upstream port too big", with(func(s *proxy.Site) { s.Upstreams = []string{"10.0.0.1:65536"} }), "bad upstream"},
		{"upstream port name", with(func(s *proxy.Site) { s.Upstreams = []string{"10.0.0.1:http"} }), "bad upstream"},
		{"upstream injection", with(func(s *proxy.Site) { s.Upstreams = []string{"10.0.0.1:80 backup; } server {"} }), "bad upstream"},
		{"upstream host injection", with(func(s *proxy.Site) { s.Upstreams = []string{"a;b:80"} }), "bad upstream"},
		{"upstream unix socket", with(func(s *proxy.Site) { s.Upstreams = []string{"unix:/tmp/x"} }), "bad upstream"},
		{"two sites for one app", []proxy.Site{ok, ok}, "more than one site"},
		{"shared server name", []proxy.Site{ok, {App: "other", ServerNames: ok.ServerNames}}, `used by apps "web" and "other"`},
		{"two defaults", []proxy.Site{{App: "a", Default: true}, {App: "b", Default: true}}, "2 default sites"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := proxy.Render(tc.sites)
			if err == nil {
				t.Fatalf("no error; rendered:\n%s", got)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
		})
	}
}
