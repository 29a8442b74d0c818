package slugbuilder

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseProcfile(t *testing.T) {
	tests := []struct {
		name, in string
		want     map[string]string
		wantErr  bool
	}{
		{"one", "web: hello-go\n", map[string]string{"web": "hello-go"}, false},
		{"several, comments, blanks", "# types\nweb: ./server.sh\n\nworker:  bin/work --fast \n",
			map[string]string{"web": "./server.sh", "worker": "bin/work --fast"}, false},
		{"colons in the command", "web: busybox httpd -p $PORT -h /app:x\n",
			map[string]string{"web": "busybox httpd -p $PORT -h /app:x"}, false},
		{"empty", "", map[string]string{}, false},
		{"no colon", "web hello\n", nil, true},
		{"bad type", "Web: x\n", nil, true},
		{"no command", "web:\n", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseProcfile(strings.NewReader(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("procfile (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLastLine(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		want   string
	}{
		{"compiler error, indented", []string{"-----> Running: go build\n", "       # hello\n       ./main.go:3:1: syntax error: x\n"},
			"./main.go:3:1: syntax error: x"},
		{"error marker", []string{"-----> x\n", " !     No buildpack detected this app\n"}, "No buildpack detected this app"},
		{"split across writes, blank lines after", []string{"ab", "c\n\n", "  \n"}, "abc"},
		{"no newline at the end", []string{"one\ntw", "o"}, "two"},
		{"nothing", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			l := &lastLine{w: &out}
			for _, w := range tt.writes {
				if n, err := l.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write(%q) = %d, %v", w, n, err)
				}
			}
			if got := l.Line(); got != tt.want {
				t.Errorf("Line() = %q, want %q", got, tt.want)
			}
			if got := out.String(); got != strings.Join(tt.writes, "") {
				t.Errorf("passed through %q", got)
			}
		})
	}
}

// A pusher that went away does not stop the build: writes still succeed.
func TestLastLineWriterFails(t *testing.T) {
	l := &lastLine{w: failingWriter{}}
	if n, err := l.Write([]byte("x\ny\n")); n != 4 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if l.Line() != "y" {
		t.Errorf("Line() = %q", l.Line())
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestContextFiles(t *testing.T) {
	files, err := contextFiles()
	if err != nil {
		t.Fatal(err)
	}
	modes := map[string]int64{}
	for _, f := range files {
		modes[f.name] = f.mode
	}
	for _, bp := range []string{"go", "nodejs", "python", "static", "procfile"} {
		for _, s := range []string{"detect", "compile", "release"} {
			if p := "buildpacks/" + bp + "/bin/" + s; modes[p] != 0o755 {
				t.Errorf("%s: mode %o, want 755", p, modes[p])
			}
		}
	}
	for name, mode := range map[string]int64{"Dockerfile": 0o644, "build.sh": 0o755, "buildpack.sh": 0o644, "dirhash.py": 0o644} {
		if modes[name] != mode {
			t.Errorf("%s: mode %o, want %o", name, modes[name], mode)
		}
	}
	_, a, _ := buildContext("deis/base:bookworm@sha256:1")
	_, b, _ := buildContext("deis/base:bookworm@sha256:2")
	if a == b {
		t.Error("the image hash does not depend on the base image")
	}
}

func TestSetupTar(t *testing.T) {
	dir := t.TempDir()
	bundle := filepath.Join(dir, "bundle.crt")
	extra := filepath.Join(dir, "extra.crt")
	writeFile(t, bundle, "HOST BUNDLE\n")
	writeFile(t, extra, "-----BEGIN CERTIFICATE-----\nEXTRA\n-----END CERTIFICATE-----\n")
	bps := filepath.Join(dir, "bps")
	writeFile(t, filepath.Join(bps, "mine", "bin", "compile"), "#!/bin/sh\n")
	os.Chmod(filepath.Join(bps, "mine", "bin", "compile"), 0o755)

	b := &Builder{CABundle: bundle, ExtraCACerts: []string{extra}, CustomBuildpacks: bps}
	data, err := b.setupTar(Request{App: "a", Env: map[string]string{"GOPROXY": "http://mirror", "B": "2"}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		got[hdr.Name] = string(body)
		if hdr.Name == "buildpacks/mine/bin/compile" && hdr.Mode&0o111 == 0 {
			t.Errorf("custom buildpack script lost its mode: %o", hdr.Mode)
		}
	}
	want := map[string]string{
		"tmp/env/B": "2", "tmp/env/GOPROXY": "http://mirror",
		"etc/ssl/certs/ca-certificates.crt": "HOST BUNDLE\n",
		"tmp/ca/":                           "",
		"tmp/ca/extra.crt":                  "\n-----BEGIN CERTIFICATE-----\nEXTRA\n-----END CERTIFICATE-----\n",
		"buildpacks/mine/":                  "", "buildpacks/mine/bin/": "", "buildpacks/mine/bin/compile": "#!/bin/sh\n",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("setup tar (-want +got):\n%s", diff)
	}

	b = &Builder{CABundle: filepath.Join(dir, "missing.crt")}
	if _, err := b.setupTar(Request{App: "a"}); err == nil {
		t.Error("a CA bundle set but missing is no error")
	}
	b = &Builder{CABundle: bundle, ExtraCACerts: []string{bundle}}
	if _, err := b.setupTar(Request{App: "a"}); err == nil {
		t.Error("an extra CA file without a PEM certificate is no error")
	}
}

func TestContainerConfig(t *testing.T) {
	b := &Builder{Memory: 1 << 30, CPUs: 0.5, Labels: map[string]string{"deis.controller": "c1", LabelBuild: "spoof"}}
	cfg, hc := b.containerConfig(runSpec{image: "deis/builder:x", req: Request{App: "web", SHA: "abc"}, cache: "/var/cache/web"})
	wantLabels := map[string]string{LabelBuild: "web", LabelBuild + ".sha": "abc", "deis.controller": "c1"}
	if diff := cmp.Diff(wantLabels, cfg.Labels); diff != "" || cfg.Image != "deis/builder:x" {
		t.Errorf("image %s, labels (-want +got):\n%s", cfg.Image, diff)
	}
	if hc.Memory != 1<<30 || hc.NanoCPUs != 5e8 || hc.Privileged || hc.CapDrop[0] != "ALL" {
		t.Errorf("limits: memory %d, cpus %d, privileged %v, cap drop %v", hc.Memory, hc.NanoCPUs, hc.Privileged, hc.CapDrop)
	}
	if diff := cmp.Diff([]string{"/var/cache/web:/cache"}, hc.Binds); diff != "" {
		t.Errorf("binds (-want +got):\n%s", diff)
	}
	for _, v := range []string{"SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS", "GIT_SSL_CAINFO", "PIP_CERT"} {
		if !strings.Contains(strings.Join(cfg.Env, "\n"), v+"="+caInImage) {
			t.Errorf("env lacks %s: %v", v, cfg.Env)
		}
	}
	b = &Builder{}
	_, hc = b.containerConfig(runSpec{req: Request{App: "web"}})
	if hc.Memory != DefaultMemory || hc.NanoCPUs != 1.5e9 || hc.Binds != nil {
		t.Errorf("defaults: memory %d, cpus %d, binds %v", hc.Memory, hc.NanoCPUs, hc.Binds)
	}
}

func writeFile(t *testing.T, p, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
