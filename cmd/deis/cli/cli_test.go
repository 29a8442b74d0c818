package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/deis/deis"
	"github.com/google/go-cmp/cmp"
)

func TestRegisterStoresToken(t *testing.T) {
	e := newTestEnv(t)
	delete(e.env, "DEIS_CONTROLLER")
	addr := strings.TrimPrefix(e.ctl.srv.URL, "http://")
	out, errOut, code := e.run("register", addr, "--username", "alice", "--password", "pw", "--email", "a@example.com")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if out != "Logged in as alice\n" {
		t.Errorf("stdout = %q", out)
	}
	path := filepath.Join(e.home, ".deis", "client.json")
	st, err := loadState(path)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(state{Controller: e.ctl.srv.URL, Token: "tok-alice", Username: "alice"}, st); d != "" {
		t.Errorf("state (-want +got):\n%s", d)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("client.json mode %o", fi.Mode().Perm())
	}
	if out, _, code := e.run("whoami"); code != 0 || !strings.HasPrefix(out, "alice at ") {
		t.Errorf("whoami = %q, exit %d", out, code)
	}
	if out, _, code := e.run("logout"); code != 0 || out != "Logged out\n" {
		t.Errorf("logout = %q, exit %d", out, code)
	}
	st, _ = loadState(path)
	if st.Token != "" || st.Controller != e.ctl.srv.URL {
		t.Errorf("after logout state = %+v", st)
	}
	if got := e.ctl.callsTo("POST /v1/auth/logout"); len(got) != 1 {
		t.Errorf("logout calls = %q", got)
	}
}

func TestLoginBadPassword(t *testing.T) {
	e := newTestEnv(t)
	_, errOut, code := e.run("login", e.ctl.srv.URL, "--username", "alice", "--password", "nope")
	if code != 1 || errOut != "error: logging in to "+e.ctl.srv.URL+": bad username or password (run 'deis login')\n" {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestConfigSetSendsValuesVerbatim(t *testing.T) {
	e := newTestEnv(t)
	e.login()
	value := "postgres://u:p@h/db?a=b&c=d \"quoted\"\nline2 ✓"
	out, errOut, code := e.run("--app", "web", "config:set", "DATABASE_URL="+value, "EMPTY=")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if out != "v2\n" {
		t.Errorf("stdout = %q, want v2", out)
	}
	calls := e.ctl.callsTo("POST /v1/apps/web/config")
	if len(calls) != 1 {
		t.Fatalf("calls = %q", calls)
	}
	var req deis.ConfigUpdateRequest
	if err := json.Unmarshal([]byte(strings.TrimPrefix(calls[0], "POST /v1/apps/web/config ")), &req); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]*string{"DATABASE_URL": &value, "EMPTY": ptr("")}, req.Values); d != "" {
		t.Errorf("sent values (-want +got):\n%s", d)
	}

	// config:list prints the values exactly; --json prints the config.
	out, _, _ = e.run("-a", "web", "config:list")
	if want := "DATABASE_URL=" + value + "\nEMPTY=\nEXISTING=a=b\n"; out != want {
		t.Errorf("config:list = %q, want %q", out, want)
	}
	out, _, _ = e.run("-a", "web", "config:list", "--json")
	var cfg deis.Config
	if err := json.Unmarshal([]byte(out), &cfg); err != nil || cfg.Values["DATABASE_URL"] != value {
		t.Errorf("config:list --json = %q (%v)", out, err)
	}

	out, _, code = e.run("-a", "web", "config:unset", "EMPTY")
	if code != 0 || out != "v3\n" {
		t.Errorf("config:unset = %q, exit %d", out, code)
	}
	if got := e.ctl.callsTo("POST /v1/apps/web/config"); got[1] != `POST /v1/apps/web/config {"values":{"EMPTY":null}}` {
		t.Errorf("unset sent %q", got[1])
	}
}

func TestConfigSetInvalidSendsNothing(t *testing.T) {
	e := newTestEnv(t)
	e.login()
	for _, args := range [][]string{
		{"-a", "web", "config:set", "GOOD=1", "BAD-KEY=2"},
		{"-a", "web", "config:set", "NOEQUALS"},
		{"-a", "web", "scale", "web=-1"},
	} {
		_, errOut, code := e.run(args...)
		if code == 0 || !strings.HasPrefix(errOut, "error: ") || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%q: exit %d, stderr %q; want one error line", args, code, errOut)
		}
	}
	if len(e.ctl.calls) != 0 {
		t.Errorf("requests sent: %q", e.ctl.calls)
	}
}

func TestJobFollowing(t *testing.T) {
	tests := []struct {
		name     string
		final    deis.JobState
		args     []string
		wantCode int
		wantOut  string
		wantErr  string // regexp
	}{
		{"succeeded", deis.JobSucceeded, nil, 0, "",
			`^stopping dev-runtime-1\nremoving layer runtime\ndone in \d+s\n$`},
		{"failed", deis.JobFailed, nil, 1, "",
			`^stopping dev-runtime-1\nremoving layer runtime\nerror: node dev-runtime-1 did not stop\n$`},
		{"no wait", deis.JobSucceeded, []string{"--no-wait"}, 0, "job-1\n", `^$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			e.login()
			e.ctl.jobLines = []string{"stopping dev-runtime-1", "removing layer runtime"}
			e.ctl.jobState = tt.final
			out, errOut, code := e.run(append([]string{"formations:destroy", "dev", "--confirm", "dev"}, tt.args...)...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.wantCode, errOut)
			}
			if out != tt.wantOut {
				t.Errorf("stdout %q, want %q", out, tt.wantOut)
			}
			if !regexp.MustCompile(tt.wantErr).MatchString(errOut) {
				t.Errorf("stderr %q, want %s", errOut, tt.wantErr)
			}
		})
	}
}

func TestDestroyNeedsConfirm(t *testing.T) {
	e := newTestEnv(t)
	e.login()
	for args, want := range map[string]string{
		"formations:destroy dev":                 `error: destroying formation "dev" needs --confirm dev` + "\n",
		"formations:destroy dev --confirm other": `error: --confirm "other" does not match formation "dev"` + "\n",
		"apps:destroy -a web":                    `error: destroying app "web" needs --confirm web` + "\n",
	} {
		if _, errOut, code := e.run(strings.Fields(args)...); code != 2 || errOut != want {
			t.Errorf("%s: exit %d, stderr %q; want %q", args, code, errOut, want)
		}
	}
	if len(e.ctl.calls) != 0 {
		t.Errorf("requests sent: %q", e.ctl.calls)
	}
}

func TestNotImplementedIsOneLine(t *testing.T) {
	e := newTestEnv(t)
	e.login()
	_, errOut, code := e.run("logs", "--app", "web")
	if code != 1 || errOut != "error: logs is not available yet\n" {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestAppsCreateAddsRemote(t *testing.T) {
	e := newTestEnv(t)
	e.login()
	e.dir = gitRepo(t, "")
	out, errOut, code := e.run("create", "myapp")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if out != "Created app myapp on formation dev\n" {
		t.Errorf("stdout %q", out)
	}
	remote := gitOutput(t, e.dir, "remote", "get-url", "deis")
	if remote != "ssh://git@127.0.0.1:2222/myapp.git" {
		t.Errorf("remote = %q", remote)
	}
	// The app now resolves from the remote.
	if out, _, _ := e.run("config:list"); !strings.Contains(out, "EXISTING=a=b") {
		t.Errorf("config:list via remote = %q", out)
	}
	if got := e.ctl.callsTo("GET /v1/apps/myapp/config"); len(got) != 1 {
		t.Errorf("config calls = %q", got)
	}
	// A second create refuses and sends nothing.
	before := len(e.ctl.calls)
	if _, errOut, code := e.run("apps:create", "other"); code != 1 || !strings.Contains(errOut, "already has a git remote named deis") {
		t.Errorf("second create: exit %d, stderr %q", code, errOut)
	}
	if len(e.ctl.calls) != before {
		t.Errorf("second create sent %q", e.ctl.calls[before:])
	}
	// Destroying the app removes the remote that points at it.
	if _, errOut, code := e.run("destroy", "--confirm", "myapp"); code != 0 {
		t.Fatalf("destroy: exit %d: %s", code, errOut)
	}
	if r := gitOutput(t, e.dir, "remote"); r != "" {
		t.Errorf("remotes after destroy = %q", r)
	}
}

func TestAppsCreateOutsideRepo(t *testing.T) {
	e := newTestEnv(t)
	e.login()
	out, errOut, code := e.run("apps:create")
	if code != 0 || out != "Created app peachy-waxworks on formation dev\n" {
		t.Errorf("exit %d, stdout %q", code, out)
	}
	if !strings.Contains(errOut, "no git remote added") {
		t.Errorf("stderr %q", errOut)
	}
}

func gitOutput(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %v: %v", args, err)
	}
	return strings.TrimSpace(string(out))
}
