//go:build e2e

package e2e

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deis/deis"
)

// load sends requests for host to the proxy at addr at rate per second
// until stop is called (and at most for max), counting failures: transport
// errors and non-2xx answers.
type load struct {
	ok, failed atomic.Int64
	mu         sync.Mutex
	firstErr   string
	stop       context.CancelFunc
	done       chan struct{}
}

func startLoad(addr, host string, rate int, max time.Duration) *load {
	ctx, cancel := context.WithTimeout(context.Background(), max)
	l := &load{stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(l.done)
		var wg sync.WaitGroup
		tick := time.NewTicker(time.Second / time.Duration(rate))
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				wg.Wait()
				return
			case <-tick.C:
				wg.Add(1)
				go func() {
					defer wg.Done()
					code, body, err := get(addr, host)
					if err == nil && code >= 200 && code < 300 {
						l.ok.Add(1)
						return
					}
					l.failed.Add(1)
					l.mu.Lock()
					if l.firstErr == "" {
						l.firstErr = body
						if err != nil {
							l.firstErr = err.Error()
						}
					}
					l.mu.Unlock()
				}()
			}
		}
	}()
	return l
}

func (l *load) finish() (ok, failed int64, firstErr string) {
	l.stop()
	<-l.done
	return l.ok.Load(), l.failed.Load(), l.firstErr
}

// slugWithProcfile repacks a slug with another Procfile.
func slugWithProcfile(t *testing.T, procfile string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "slug.tgz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	tw := tar.NewWriter(zw)
	tw.WriteHeader(&tar.Header{Name: "./Procfile", Mode: 0o644, Size: int64(len(procfile))})
	tw.Write([]byte(procfile))
	tw.Close()
	zw.Close()
	f.Close()
	return path
}

// TestZeroDowntime runs a bounded load (200 req/s) through the proxy while
// config:set and containers:scale roll out, and while a release whose
// containers never become healthy fails: not one request may fail, and the
// old release must keep answering.
func TestZeroDowntime(t *testing.T) {
	env := newTestEnv(t)
	alice := env.newUser("alice")
	alice.splitFormation("zd")
	repo := filepath.Join(alice.home, "hello")
	os.MkdirAll(repo, 0o755)
	alice.dir = repo
	alice.git("init", "-q", "-b", "main")
	alice.ok("apps:create", "hello", "--formation", "zd")
	alice.ok("builds:create", "--slug", helloSlug(t))
	alice.ok("scale", "web=2")
	addr, host := proxyAddr(t, alice, "zd"), "hello.zd.localhost"
	awaitAnswer(t, addr, host, "hello from ")

	l := startLoad(addr, host, 200, 3*time.Minute)
	alice.ok("config:set", "GREETING=bonjour")
	alice.ok("scale", "web=4")
	alice.ok("config:set", "GREETING=hallo")
	alice.ok("scale", "web=2")
	time.Sleep(time.Second)
	ok, failed, firstErr := l.finish()
	t.Logf("rollouts under load: %d requests answered, %d failed", ok, failed)
	if failed > 0 || ok < 1000 {
		t.Errorf("%d of %d requests failed during rollouts (first: %q)", failed, ok+failed, firstErr)
	}
	awaitAnswer(t, addr, host, "hallo from ")

	// A release that never becomes healthy fails; the old one serves on.
	l = startLoad(addr, host, 200, 3*time.Minute)
	_, _, _ = alice.run(nil, "builds:create", "--slug", slugWithProcfile(t, "web: sleep 600\n"))
	ok, failed, firstErr = l.finish()
	t.Logf("failed release under load: %d requests answered, %d failed", ok, failed)
	if failed > 0 {
		t.Errorf("%d requests failed while a broken release was tried (first: %q)", failed, firstErr)
	}
	var rels []deis.Release
	alice.json(&rels, "releases:list")
	if rels[0].Status != deis.ReleaseFailed || rels[0].Error == "" {
		t.Errorf("the broken release is %+v, want failed with a reason", rels[0])
	}
	if _, body, err := get(addr, host); err != nil || body == "" || !containsAll(body, "hallo from ") {
		t.Errorf("after the failed release the app answers %q, %v", body, err)
	}
	var cs []deis.Container
	alice.json(&cs, "ps")
	for _, c := range cs {
		if c.Release == rels[0].Version {
			t.Errorf("container %s of the failed release remains", c.Name)
		}
	}

	// Removing a runtime node that runs containers moves them first: no
	// request fails while the node goes.
	if by := psByNode(t, alice); by["zd-runtime-2"] == 0 {
		t.Fatalf("runtime-2 runs nothing to move: %v", by)
	}
	l = startLoad(addr, host, 200, 3*time.Minute)
	_, progress, err := alice.run(nil, "nodes:scale", "zd", "runtime=1")
	ok, failed, firstErr = l.finish()
	t.Logf("scale-down under load: %d requests answered, %d failed", ok, failed)
	if err != nil || !strings.Contains(progress, "moving containers off zd-runtime-2") {
		t.Errorf("nodes:scale runtime=1: %v\n%s", err, progress)
	}
	if failed > 0 {
		t.Errorf("%d requests failed while a node was removed (first: %q)", failed, firstErr)
	}
	if by := psByNode(t, alice); by["zd-runtime-1"] != 2 || len(by) != 1 {
		t.Errorf("after the scale-down web runs %v, want both on runtime-1", by)
	}
	alice.ok("formations:destroy", "zd", "--confirm", "zd")
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
