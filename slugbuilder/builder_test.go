//go:build docker

package slugbuilder_test

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/deis/deis/slugbuilder"
)

func TestBuildGo(t *testing.T) {
	e := newTestEnv(t)
	res, out, cold := e.mustBuild("hello-go", sample("hello-go"), nil)
	wantLines(t, out, "-----> Go app detected\n", "-----> Discovering process types\n",
		"       Procfile declares types -> web\n", "-----> Compressed slug size: ")
	if diff := cmp.Diff(map[string]string{"web": "hello-go"}, res.Procfile); diff != "" {
		t.Errorf("Procfile (-want +got):\n%s", diff)
	}
	if res.Buildpack != "go" || len(res.SHA256) != 64 || res.Size == 0 || filepath.Base(res.Slug) != res.SHA256+".tgz" {
		t.Errorf("result %+v", res)
	}
	files := slugFiles(t, res.Slug)
	if h := files["bin/hello-go"]; h == nil || h.Mode&0o111 == 0 {
		t.Errorf("slug has no executable bin/hello-go: %v", h)
	}
	for _, f := range []string{"Procfile", "main.go", "go.mod"} {
		if files[f] == nil {
			t.Errorf("slug lacks %s", f)
		}
	}
	if body := e.runSlug(res, e.runner()); !strings.HasPrefix(body, "hello from ") {
		t.Errorf("GET / = %q", body)
	}

	_, out, warm := e.mustBuild("hello-go", sample("hello-go"), nil)
	wantLines(t, out, "(cached)")
	t.Logf("go build: cold %s, warm %s", cold.Round(100*time.Millisecond), warm.Round(100*time.Millisecond))
}

// A push that does not compile fails with the compiler's error, and
// everything it printed reached the pusher.
func TestBuildGoBroken(t *testing.T) {
	e := newTestEnv(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "go.mod"), "module hello-go\n\ngo 1.22\n")
	writeFile(t, filepath.Join(dir, "main.go"), "package main\n\nfunc main() {\n\tfmt.Println(\"hi\"\n}\n")
	_, out, _, err := e.build(e.b, "hello-go", dir, nil)
	var be *slugbuilder.BuildError
	if !errors.As(err, &be) {
		t.Fatalf("err = %v (%T), want a *BuildError", err, err)
	}
	if !strings.Contains(err.Error(), "main.go:4") || !strings.Contains(err.Error(), "syntax error") {
		t.Errorf("error %q does not name the compiler's error", err)
	}
	wantLines(t, out, "-----> Go app detected\n", err.Error())
	if be.ExitCode == 0 {
		t.Errorf("exit code 0")
	}
}

// Modules are downloaded once: the second build finds them in the cache.
func TestBuildGoModuleCache(t *testing.T) {
	e := newTestEnv(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "go.mod"), "module example.com/cmpapp\n\ngo 1.22\n\nrequire github.com/google/go-cmp v0.7.0\n")
	writeFile(t, filepath.Join(dir, "go.sum"), "github.com/google/go-cmp v0.7.0 h1:wk8382ETsv4JYUZwIsn6YpYiWiBsYLSJiTsyBybVuN8=\n"+
		"github.com/google/go-cmp v0.7.0/go.mod h1:pXiqmnSA92OHEEa9HXL2W4E7lf9JzCmGVUdgjX3N/iU=\n")
	writeFile(t, filepath.Join(dir, "main.go"), "package main\n\nimport \"github.com/google/go-cmp/cmp\"\n\nfunc main() { println(cmp.Equal(1, 1)) }\n")
	const download = "go: downloading github.com/google/go-cmp v0.7.0"
	res, out, _ := e.mustBuild("hello-go", dir, nil)
	wantLines(t, out, download, "       Default types for buildpack -> web\n")
	if res.Procfile["web"] != "cmpapp" {
		t.Errorf("Procfile %v, want web: cmpapp (the module's last path element)", res.Procfile)
	}
	_, out, _ = e.mustBuild("hello-go", dir, nil)
	if strings.Contains(out, download) {
		t.Errorf("the second build downloaded the module again:\n%s", out)
	}
}

func TestBuildNode(t *testing.T) {
	e := newTestEnv(t)
	res, out, cold := e.mustBuild("node-hello", sample("node-hello"), nil)
	wantLines(t, out, "-----> Node.js app detected\n", "npm ci --omit=dev",
		"       Procfile declares types -> (none)\n", "       Default types for buildpack -> web\n")
	if diff := cmp.Diff(map[string]string{"web": "node server.js"}, res.Procfile); diff != "" {
		t.Errorf("Procfile (-want +got):\n%s", diff)
	}
	files := slugFiles(t, res.Slug)
	for _, f := range []string{"node_modules/escape-html/package.json", "node_modules/escape-html/index.js", "server.js", "Procfile"} {
		if files[f] == nil {
			t.Errorf("slug lacks %s", f)
		}
	}

	res2, out, warm := e.mustBuild("node-hello", sample("node-hello"), nil)
	wantLines(t, out, "Restoring node_modules from the cache")
	if files := slugFiles(t, res2.Slug); files["node_modules/escape-html/index.js"] == nil {
		t.Error("the warm build's slug lacks node_modules/escape-html")
	}
	t.Logf("node build: cold %s, warm (same package-lock.json) %s", cold.Round(100*time.Millisecond), warm.Round(100*time.Millisecond))

	if body := e.runSlug(res2, e.nodeRunner()); !strings.HasPrefix(body, "hello from node-hello on v18") {
		t.Errorf("GET / = %q", body)
	}
}

func TestBuildPython(t *testing.T) {
	e := newTestEnv(t)
	res, out, took := e.mustBuild("python-hello", sample("python-hello"), nil)
	wantLines(t, out, "-----> Python app detected\n", "No dependencies in requirements.txt",
		"       Procfile declares types -> web\n")
	files := slugFiles(t, res.Slug)
	for _, f := range []string{".heroku/python/bin/python3.11", ".heroku/python/lib/python3.11/os.py", "bin/python3"} {
		if files[f] == nil {
			t.Errorf("slug lacks %s", f)
		}
	}
	t.Logf("python build %s, slug %.1f MB", took.Round(100*time.Millisecond), float64(res.Size)/(1<<20))
	if body := e.runSlug(res, e.runner()); !strings.HasPrefix(body, "hello from python-hello on Python 3.11") {
		t.Errorf("GET / = %q", body)
	}
}

func TestBuildStatic(t *testing.T) {
	e := newTestEnv(t)
	res, out, _ := e.mustBuild("static-site", sample("static-site"), nil)
	wantLines(t, out, "-----> Static HTML app detected\n", "       Default types for buildpack -> web\n")
	files := slugFiles(t, res.Slug)
	if files["public/index.html"] == nil || files["bin/busybox"] == nil {
		t.Errorf("slug lacks public/index.html or bin/busybox")
	}
	if body := e.runSlug(res, e.runner()); !strings.Contains(body, "<h1>hello from static-site</h1>") {
		t.Errorf("GET / = %q", body)
	}
}

func TestBuildProcfileOnly(t *testing.T) {
	e := newTestEnv(t)
	res, out, _ := e.mustBuild("shell-hello", sample("shell-hello"), nil)
	wantLines(t, out, "-----> Procfile app detected\n", "       Procfile declares types -> web\n")
	if h := slugFiles(t, res.Slug)["server.sh"]; h == nil || h.Mode&0o111 == 0 {
		t.Errorf("slug has no executable server.sh: %v", h)
	}
	if body := e.runSlug(res, e.runner()); body != "hello from shell-hello\n" {
		t.Errorf("GET / = %q", body)
	}
}

func TestBuildpackURL(t *testing.T) {
	e := newTestEnv(t)
	bps := t.TempDir()
	// An extra CA: build containers trust it beside the host's bundle.
	ca, caLine := testCA(t)
	trusted := fmt.Sprintf("grep -qF %q /etc/ssl/certs/ca-certificates.crt && echo '       extra CA trusted'\n", caLine)
	testBuildpack(t, bps, "greeter", trusted+`echo "       greeting is $(cat $3/GREETING)"; cat $3/GREETING >$1/greeting.txt`+"\n")
	// The same buildpack as a git repository, cloned by URL in the build.
	testBuildpack(t, bps, "greeter-git", `echo "       cloned"; cat $3/GREETING >$1/greeting.txt`+"\n")
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("no git on PATH")
	}
	git := exec.Command("sh", "-c", "git init -q -b main && git add . && git -c user.name=t -c user.email=t@t commit -qm bp")
	git.Dir = filepath.Join(bps, "greeter-git")
	if out, err := git.CombinedOutput(); err != nil {
		t.Fatalf("git: %v: %s", err, out)
	}
	b := &slugbuilder.Builder{Docker: e.cli, Images: e.images, CacheDir: cacheDir, SlugDir: t.TempDir(),
		CustomBuildpacks: bps, Labels: testLabels, ExtraCACerts: []string{ca}}
	app := t.TempDir()
	writeFile(t, filepath.Join(app, "Procfile"), "web: ./mine\n")

	for _, tt := range []struct{ url, line string }{
		{"/buildpacks/greeter", "extra CA trusted\n       greeting is hi"},
		{"greeter", "extra CA trusted\n       greeting is hi"},
		{"file:///buildpacks/greeter-git#main", "cloned"},
	} {
		t.Run(tt.url, func(t *testing.T) {
			res, out, _, err := e.build(b, "custom", app, map[string]string{"BUILDPACK_URL": tt.url, "GREETING": "hi"})
			if err != nil {
				t.Fatalf("Build: %v\n%s", err, out)
			}
			wantLines(t, out, "-----> Test app detected\n", tt.line, "       Procfile declares types -> web\n",
				"       Default types for buildpack -> worker\n")
			if diff := cmp.Diff(map[string]string{"web": "./mine", "worker": "./work --hard"}, res.Procfile); diff != "" {
				t.Errorf("Procfile (-want +got):\n%s", diff)
			}
			if res.Buildpack != tt.url {
				t.Errorf("Buildpack = %q", res.Buildpack)
			}
			if slugFiles(t, res.Slug)["greeting.txt"] == nil {
				t.Error("slug lacks greeting.txt")
			}
		})
	}
	_, _, _, err := e.build(b, "custom", app, map[string]string{"BUILDPACK_URL": "/etc"})
	if err == nil || !strings.Contains(err.Error(), "under /buildpacks") {
		t.Errorf("BUILDPACK_URL=/etc: err = %v", err)
	}
	// A Procfile that does not parse fails the build, and the pusher sees why.
	writeFile(t, filepath.Join(app, "Procfile"), "Web: ./mine\n")
	_, out, _, err := e.build(b, "custom", app, map[string]string{"BUILDPACK_URL": "greeter", "GREETING": "hi"})
	var be *slugbuilder.BuildError
	if !errors.As(err, &be) || !strings.Contains(err.Error(), `procfile line "Web: ./mine"`) {
		t.Errorf("bad Procfile: err = %v", err)
	}
	wantLines(t, out, " !     procfile line")
}

// A build past its Timeout, or whose context is cancelled, is killed and
// its container removed (newTestEnv checks).
func TestBuildTimeoutAndCancel(t *testing.T) {
	e := newTestEnv(t)
	bps := t.TempDir()
	testBuildpack(t, bps, "sleepy", "echo '-----> sleeping'; exec sleep 600\n")
	app := t.TempDir()
	writeFile(t, filepath.Join(app, "Procfile"), "web: true\n")
	env := map[string]string{"BUILDPACK_URL": "sleepy"}
	if _, err := e.b.EnsureImage(e.ctx); err != nil { // not part of the timeout
		t.Fatal(err)
	}

	t.Run("timeout", func(t *testing.T) {
		b := &slugbuilder.Builder{Docker: e.cli, Images: e.images, CustomBuildpacks: bps, Labels: testLabels, Timeout: 8 * time.Second}
		start := time.Now()
		_, out, _, err := e.build(b, "sleepy", app, env)
		if !errors.Is(err, slugbuilder.ErrTimeout) {
			t.Fatalf("err = %v, want ErrTimeout", err)
		}
		wantLines(t, out, "-----> sleeping")
		if took := time.Since(start); took > 30*time.Second {
			t.Errorf("a timed-out build took %s", took)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		b := &slugbuilder.Builder{Docker: e.cli, Images: e.images, CustomBuildpacks: bps, Labels: testLabels}
		ctx, cancel := context.WithCancel(e.ctx)
		out := &signalWriter{match: "sleeping", seen: make(chan struct{})}
		go func() {
			<-out.seen
			cancel()
		}()
		_, err := b.Build(ctx, slugbuilder.Request{App: "sleepy", Source: tarDir(t, app), Env: env}, out)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	})
}
