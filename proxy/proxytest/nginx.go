// Package proxytest runs the real nginx in a temporary prefix, so tests can
// check rendered configs with nginx -t and route requests through nginx
// without touching /etc/nginx or needing root.
package proxytest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Nginx is an nginx prefix in a temporary directory. Its nginx.conf
// includes conf.d/*.conf inside http {}, as Debian's does, so Include (not
// created) is picked up when it exists.
type Nginx struct {
	Bin     string // the nginx binary
	Dir     string // the prefix
	Conf    string // Dir/nginx.conf
	Include string // Dir/conf.d/deis.conf, where the rendered config goes
	PIDFile string // Dir/nginx.pid
	t       testing.TB
}

// Binary returns the nginx binary, failing the test if there is none.
func Binary(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx"
	}
	t.Fatal("nginx is not installed: the proxy tests need the real nginx (apt-get install nginx)")
	return ""
}

// New makes a prefix in a temporary directory with a minimal nginx.conf:
// pid, logs and temp paths inside the prefix, one worker, and Include.
func New(t testing.TB) *Nginx {
	t.Helper()
	dir := t.TempDir()
	n := &Nginx{
		Bin:     Binary(t),
		Dir:     dir,
		Conf:    filepath.Join(dir, "nginx.conf"),
		Include: filepath.Join(dir, "conf.d", "deis.conf"),
		PIDFile: filepath.Join(dir, "nginx.pid"),
		t:       t,
	}
	if err := os.MkdirAll(filepath.Dir(n.Include), 0o755); err != nil {
		t.Fatal(err)
	}
	user := ""
	if os.Geteuid() == 0 {
		// Workers would otherwise run as nobody, who cannot enter the
		// temporary directory.
		user = "user root;\n"
	}
	conf := fmt.Sprintf(`%sworker_processes 1;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log warn;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path %[2]s/client_body;
    proxy_temp_path %[2]s/proxy;
    fastcgi_temp_path %[2]s/fastcgi;
    uwsgi_temp_path %[2]s/uwsgi;
    scgi_temp_path %[2]s/scgi;
    include %[3]s/*.conf;
}
`, user, dir, filepath.Dir(n.Include))
	if err := os.WriteFile(n.Conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return n
}

// Args are the arguments that point nginx at the prefix, for any command
// (-t, -s reload, starting it).
func (n *Nginx) Args() []string {
	return []string{"-p", n.Dir, "-c", n.Conf, "-e", filepath.Join(n.Dir, "error.log")}
}

// Test runs nginx -t on the prefix and returns its output on failure.
func (n *Nginx) Test() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, n.Bin, append(n.Args(), "-t")...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("nginx -t: %w: %s", err, bytes.TrimSpace(out))
	}
	return nil
}

// Start starts nginx (it daemonizes) and stops it when the test ends:
// gracefully with -s quit, killing it if it does not go.
func (n *Nginx) Start() {
	n.t.Helper()
	out, err := exec.Command(n.Bin, n.Args()...).CombinedOutput()
	if err != nil {
		n.t.Fatalf("starting nginx: %v: %s", err, out)
	}
	n.t.Cleanup(n.Stop)
}

// PID returns the master's pid, or 0.
func (n *Nginx) PID() int {
	b, err := os.ReadFile(n.PIDFile)
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// Stop asks nginx to quit, then kills it if it is still there after a few
// seconds. Stopping a stopped nginx does nothing.
func (n *Nginx) Stop() {
	pid := n.PID()
	if pid == 0 {
		return
	}
	_ = exec.Command(n.Bin, append(n.Args(), "-s", "quit")...).Run()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if !Alive(pid) {
			return
		}
	}
	n.t.Logf("nginx (pid %d) did not quit: killing it", pid)
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	_ = syscall.Kill(pid, syscall.SIGKILL)
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Alive reports whether pid is a live process (not gone, not a zombie: a
// daemonized nginx is reparented and may be reaped late).
func Alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// pid (comm) S ...: the state follows the last ')'.
	i := bytes.LastIndexByte(stat, ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] != 'Z'
}
