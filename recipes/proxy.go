package recipes

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/deis/deis/proxy"
)

// ApplyProxy brings a proxy node's nginx to st: it renders the sites into
// /etc/nginx/conf.d/deis.conf and, only when that changes, tests the new
// config with nginx -t and reloads nginx gracefully. A config nginx rejects
// is never left in place: the previous file is restored and the result is
// failed with nginx's error. nginx is never restarted; it is started when
// it is not running. Debian's default site, which would take the default
// server on :80, is removed.
func ApplyProxy(ctx context.Context, st ProxyState) []ResourceResult {
	return debianNginx().apply(ctx, st)
}

// nginxSetup is where the proxy recipe writes nginx's config and how it
// runs nginx. debianNginx is what proxy nodes use; tests point it at a
// temporary prefix.
type nginxSetup struct {
	Conf          string // the rendered file
	DebianDefault string // Debian's default site, removed when present
	PIDFile       string // the nginx master's pid file
	Bin           string // the nginx binary
	// Args go before -t and -s reload, and alone start nginx: e.g.
	// -p DIR -c DIR/nginx.conf.
	Args []string
	// Systemd reloads and starts nginx with systemctl rather than with
	// nginx -s reload and the bare binary.
	Systemd bool
	// Listen is where the sites listen (proxy.Config.Listen); "" is 80.
	Listen string
	// Timeout bounds each nginx or systemctl command.
	Timeout time.Duration
}

func debianNginx() nginxSetup {
	_, err := os.Stat("/run/systemd/system") // sd_booted(3)
	return nginxSetup{
		Conf:          "/etc/nginx/conf.d/deis.conf",
		DebianDefault: "/etc/nginx/sites-enabled/default",
		PIDFile:       "/run/nginx.pid",
		Bin:           "/usr/sbin/nginx",
		Systemd:       err == nil,
		Timeout:       30 * time.Second,
	}
}

const (
	siteResource          = "nginx_site:deis"
	debianDefaultResource = "nginx_site:debian-default"
	nginxServiceResource  = "service:nginx"
)

func (n nginxSetup) apply(ctx context.Context, st ProxyState) []ResourceResult {
	var results []ResourceResult
	var changed []int // indexes of results a reload makes live
	if r, ok := n.removeDebianDefault(); ok {
		if r.Result == Changed {
			changed = append(changed, len(results))
		}
		results = append(results, r)
	}
	site, prev := n.applySite(ctx, st)
	if site.Result == Changed {
		changed = append(changed, len(results))
	}
	results = append(results, site)

	if !n.running() {
		return append(results, n.start(ctx))
	}
	if len(changed) == 0 {
		return results
	}
	start := time.Now()
	if err := n.reload(ctx); err != nil {
		// Put the previous file back so the next converge, seeing a
		// difference, tries again rather than trusting a file nginx never
		// loaded.
		if site.Result == Changed {
			if rerr := prev.restore(n.Conf); rerr != nil {
				err = errors.Join(err, rerr)
			}
		}
		for _, i := range changed {
			results[i].Result = Failed
			results[i].Message = proxyOneLine(err.Error())
			results[i].Duration += time.Since(start)
		}
	}
	return results
}

// applySite renders st and installs it when it differs from the current
// file, keeping it only if nginx -t accepts it. It returns the previous
// file, for a restore should the reload fail.
func (n nginxSetup) applySite(ctx context.Context, st ProxyState) (ResourceResult, nginxFile) {
	start := time.Now()
	res := func(result, msg string) ResourceResult {
		return ResourceResult{Resource: siteResource, Result: result, Message: msg, Duration: time.Since(start)}
	}
	sites := make([]proxy.Site, len(st.Sites))
	for i, s := range st.Sites {
		sites[i] = proxy.Site(s)
	}
	conf, err := proxy.Config{Listen: n.Listen}.Render(sites)
	if err != nil {
		return res(Failed, proxyOneLine("rendering: "+err.Error())), nginxFile{}
	}
	prev, err := readNginxFile(n.Conf)
	if err != nil {
		return res(Failed, err.Error()), nginxFile{}
	}
	if prev.exists && bytes.Equal(prev.data, conf) {
		return res(Unchanged, ""), prev
	}
	if err := os.MkdirAll(filepath.Dir(n.Conf), 0o755); err != nil {
		return res(Failed, err.Error()), prev
	}
	if err := writeNginxFile(n.Conf, conf, prev.mode); err != nil {
		return res(Failed, err.Error()), prev
	}
	if err := n.test(ctx); err != nil {
		if rerr := prev.restore(n.Conf); rerr != nil {
			err = fmt.Errorf("%w (restoring the previous config: %v)", err, rerr)
		}
		return res(Failed, err.Error()), prev
	}
	msg := fmt.Sprintf("%d sites", len(st.Sites))
	if len(st.Sites) == 1 {
		msg = "1 site"
	}
	return res(Changed, msg), prev
}

// removeDebianDefault removes Debian's default site; ok is false when there
// was none.
func (n nginxSetup) removeDebianDefault() (r ResourceResult, ok bool) {
	if n.DebianDefault == "" {
		return r, false
	}
	start := time.Now()
	if _, err := os.Lstat(n.DebianDefault); errors.Is(err, fs.ErrNotExist) {
		return r, false
	}
	r = ResourceResult{Resource: debianDefaultResource, Result: Changed, Message: "removed " + n.DebianDefault}
	if err := os.Remove(n.DebianDefault); err != nil {
		r.Result, r.Message = Failed, err.Error()
	}
	r.Duration = time.Since(start)
	return r, true
}

// test runs nginx -t and returns nginx's error line.
func (n nginxSetup) test(ctx context.Context) error {
	out, err := n.run(ctx, n.Bin, append(n.args(), "-t")...)
	if err != nil {
		return fmt.Errorf("nginx -t: %s", nginxErrorLine(out, err))
	}
	return nil
}

// reload makes nginx load its config gracefully: new workers take new
// connections while old ones finish theirs.
func (n nginxSetup) reload(ctx context.Context) error {
	var out []byte
	var err error
	if n.Systemd {
		out, err = n.run(ctx, "systemctl", "reload", "nginx")
	} else {
		out, err = n.run(ctx, n.Bin, append(n.args(), "-s", "reload")...)
	}
	if err != nil {
		return fmt.Errorf("reloading nginx: %s", nginxErrorLine(out, err))
	}
	return nil
}

// start starts nginx, which daemonizes.
func (n nginxSetup) start(ctx context.Context) ResourceResult {
	start := time.Now()
	var out []byte
	var err error
	if n.Systemd {
		out, err = n.run(ctx, "systemctl", "start", "nginx")
	} else {
		out, err = n.run(ctx, n.Bin, n.args()...)
	}
	r := ResourceResult{Resource: nginxServiceResource, Result: Changed, Message: "started"}
	if err != nil {
		r.Result, r.Message = Failed, "starting nginx: "+nginxErrorLine(out, err)
	}
	r.Duration = time.Since(start)
	return r
}

func (n nginxSetup) args() []string { return append([]string(nil), n.Args...) }

// run runs a command with the setup's timeout and returns its combined
// output.
func (n nginxSetup) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	timeout := n.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// A daemon started here may keep our output pipe open: do not wait on
	// it past the command's own exit.
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if errors.Is(err, exec.ErrWaitDelay) {
		err = nil
	}
	return out.Bytes(), err
}

// running reports whether the pid file names a live nginx process.
func (n nginxSetup) running() bool {
	b, err := os.ReadFile(n.PIDFile)
	if err != nil {
		return false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true // no procfs: trust kill
	}
	// "pid (comm) state ...": a stale pid file may name another process.
	open, end := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
	if open < 0 || end < open || end+2 >= len(stat) {
		return true
	}
	return string(stat[open+1:end]) == "nginx" && stat[end+2] != 'Z'
}

// nginxErrorLine picks nginx's error out of its output: the first
// [emerg]/[alert]/[crit] line, else the last line, else err.
func nginxErrorLine(out []byte, err error) string {
	var last string
	for _, l := range strings.Split(string(out), "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if strings.Contains(l, "[emerg]") || strings.Contains(l, "[alert]") || strings.Contains(l, "[crit]") {
			return strings.TrimPrefix(l, "nginx: ")
		}
		last = l
	}
	if last != "" {
		return strings.TrimPrefix(last, "nginx: ")
	}
	return err.Error()
}

func proxyOneLine(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), "\n", "; ") }

// nginxFile is a config file's content as it was, to put it back.
type nginxFile struct {
	exists bool
	data   []byte
	mode   fs.FileMode
}

func readNginxFile(path string) (nginxFile, error) {
	f := nginxFile{mode: 0o644}
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return f, err
	}
	if f.data, err = os.ReadFile(path); err != nil {
		return f, err
	}
	f.exists, f.mode = true, fi.Mode().Perm()
	return f, nil
}

// restore puts the file back as it was: its content, or no file.
func (f nginxFile) restore(path string) error {
	if !f.exists {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	return writeNginxFile(path, f.data, f.mode)
}

// writeNginxFile replaces path atomically: a temporary file in the same
// directory (named so that no *.conf include picks it up), synced, then
// renamed over path.
func writeNginxFile(path string, data []byte, mode fs.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename, a no-op
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
