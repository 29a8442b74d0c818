//go:build e2e

// Package e2e drives the real binaries: it starts deis-controller on a temp
// data dir (SQLite, or PostgreSQL when DEIS_TEST_DATABASE is set) and runs
// the deis CLI against it as separate users, each with their own HOME.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deis/deis/store/storetest"
)

var binDir string

func TestMain(m *testing.M) {
	os.Exit(func() int {
		dir, err := os.MkdirTemp("", "deis-e2e-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		build := exec.Command("go", "build", "-o", dir, "../cmd/deis", "../cmd/deis-controller")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		// The node agent runs on the nodes: static, as the Makefile builds it.
		agent := exec.Command("go", "build", "-o", dir, "../cmd/deis-node")
		agent.Env = append(os.Environ(), "CGO_ENABLED=0")
		agent.Stdout, agent.Stderr = os.Stderr, os.Stderr
		if err := errors.Join(build.Run(), agent.Run()); err != nil {
			fmt.Fprintln(os.Stderr, "building binaries:", err)
			return 1
		}
		binDir = dir
		return m.Run()
	}())
}

// testEnv is one running controller.
type testEnv struct {
	t       *testing.T
	URL     string
	GitAddr string // host:port of the SSH git endpoint
	dataDir string
	db      string
	addr    string
	env     []string // extra environment of the controller

	cmd  *exec.Cmd
	logs *bytes.Buffer
	done chan struct{}
}

// newTestEnv starts deis-controller on a free loopback port and stops it
// (gracefully, checking that it exits cleanly and left no node container)
// when the test ends. env is added to the controller's environment.
func newTestEnv(t *testing.T, env ...string) *testEnv {
	t.Helper()
	e := &testEnv{t: t, dataDir: t.TempDir(), db: storetest.DatabaseURL(t), env: env}
	e.start("127.0.0.1:0")
	t.Cleanup(func() {
		if e.cmd != nil {
			e.cmd.Process.Signal(os.Interrupt) // a graceful shutdown must exit 0
			code := e.wait()
			if code != 0 || t.Failed() {
				t.Logf("controller exited with code %d; its log:\n%s", code, e.logs)
			}
			if code != 0 {
				t.Errorf("controller did not shut down cleanly: exit code %d", code)
			}
		}
		checkNoLeftovers(t, e.dataDir)
	})
	return e
}

// start runs the controller on the env's data dir, listening on listen.
func (e *testEnv) start(listen string) {
	t := e.t
	t.Helper()
	args := []string{"--data-dir", e.dataDir, "--listen", listen, "--ssh-listen", "127.0.0.1:0", "--log-format", "json"}
	if e.db != "" {
		args = append(args, "--database", e.db)
	}
	cmd := exec.Command(filepath.Join(binDir, "deis-controller"), args...)
	// Short waits keep the suite fast; the rollout logic is the same.
	cmd.Env = append(append(os.Environ(), "DEIS_DRAIN=1s", "DEIS_HEALTH_TIMEOUT=8s"), e.env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	e.cmd, e.logs, e.done = cmd, &bytes.Buffer{}, make(chan struct{})
	logs, done := e.logs, e.done
	addr, gitAddr := make(chan string, 1), make(chan string, 1)
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs.WriteString(sc.Text() + "\n")
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) != nil {
				continue
			}
			switch line.Msg {
			case "git endpoint listening":
				gitAddr <- line.Addr
			case "controller listening":
				addr <- line.Addr
			}
		}
	}()
	select {
	case a := <-addr:
		e.addr, e.URL, e.GitAddr = a, "http://"+a, <-gitAddr
		e.awaitHealthy()
	case <-done:
		t.Fatalf("controller exited before listening:\n%s", logs)
	case <-time.After(60 * time.Second):
		t.Fatalf("controller did not listen within 60s:\n%s", logs)
	}
}

// wait waits for the controller to exit and returns its exit code.
func (e *testEnv) wait() int {
	e.cmd.Wait()
	<-e.done
	code := e.cmd.ProcessState.ExitCode()
	e.cmd = nil
	return code
}

// crash kills the controller without letting it clean up.
func (e *testEnv) crash() {
	e.cmd.Process.Kill()
	e.wait()
}

// restart starts the controller again on the same data dir and address.
func (e *testEnv) restart() { e.start(e.addr) }

func (e *testEnv) awaitHealthy() {
	for i := 0; i < 100; i++ {
		resp, err := http.Get(e.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.t.Fatal("controller never became healthy")
}

// user is someone running the deis CLI with their own HOME.
type user struct {
	t    *testing.T
	env  *testEnv
	name string
	home string
	dir  string // working directory of commands
}

// newUser registers name (its password is "pw-"+name+"-secret").
func (e *testEnv) newUser(name string) *user {
	e.t.Helper()
	home := e.t.TempDir()
	u := &user{t: e.t, env: e, name: name, home: home, dir: home}
	u.ok("register", e.URL, "--username", name, "--password", u.password(), "--email", name+"@example.com")
	return u
}

func (u *user) password() string { return "pw-" + u.name + "-secret" }

// run runs deis with args and returns stdout, stderr and the error.
func (u *user) run(stdin io.Reader, args ...string) (string, string, error) {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute) // a fresh machine builds images on first use
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "deis"), args...)
	cmd.Dir = u.dir
	cmd.Env = append(os.Environ(), "HOME="+u.home, "DEIS_CONTROLLER=", "NO_COLOR=1",
		"GIT_CONFIG_NOSYSTEM=1", "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	cmd.Stdin = stdin
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// ok runs deis and fails the test unless it exits 0; it returns stdout.
func (u *user) ok(args ...string) string {
	u.t.Helper()
	out, errOut, err := u.run(nil, args...)
	if err != nil {
		u.t.Fatalf("%s: deis %s: %v\nstdout: %s\nstderr: %s", u.name, strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// fails runs deis, fails the test unless it exits non-zero with a one-line
// error on stderr, and returns that line.
func (u *user) fails(args ...string) string {
	u.t.Helper()
	out, errOut, err := u.run(nil, args...)
	if err == nil {
		u.t.Fatalf("%s: deis %s succeeded, want an error\nstdout: %s", u.name, strings.Join(args, " "), out)
	}
	msg := strings.TrimSpace(errOut)
	if msg == "" || strings.Contains(msg, "\n") {
		u.t.Errorf("%s: deis %s: want one line on stderr, got %q", u.name, strings.Join(args, " "), errOut)
	}
	return msg
}

// json runs a read command with --json and decodes its stdout into v.
func (u *user) json(v any, args ...string) {
	u.t.Helper()
	out := u.ok(append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		u.t.Fatalf("deis %s --json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// git runs git in the user's working directory.
func (u *user) git(args ...string) string {
	u.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = u.dir
	cmd.Env = append(os.Environ(), "HOME="+u.home, "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		u.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// checkNoLeftovers fails the test when node containers or networks of the
// controller that used dataDir remain, and removes them.
func checkNoLeftovers(t *testing.T, dataDir string) {
	id, err := os.ReadFile(filepath.Join(dataDir, "controller-id"))
	if err != nil {
		return // the controller never started far enough to make anything
	}
	out, err := exec.Command("docker", "ps", "-aq", "--filter", "label=deis.controller="+strings.TrimSpace(string(id))).Output()
	if err != nil {
		t.Errorf("listing leftover containers: %v", err)
		return
	}
	if left := strings.Fields(string(out)); len(left) > 0 {
		t.Errorf("%d node containers left behind: %v", len(left), left)
		exec.Command("docker", append([]string{"rm", "-f"}, left...)...).Run()
	}
	// Destroying a formation removes its network.
	if nets := formationNetworks(t, strings.TrimSpace(string(id)), ""); len(nets) > 0 {
		t.Errorf("%d formation networks left behind: %v", len(nets), nets)
		exec.Command("docker", append([]string{"network", "rm"}, nets...)...).Run()
	}
}

// formationNetworks lists the IDs of the node networks controller made
// (for formation, when not empty).
func formationNetworks(t *testing.T, controller, formation string) []string {
	t.Helper()
	args := []string{"network", "ls", "-q", "--no-trunc", "--filter", "label=deis.controller=" + controller}
	if formation != "" {
		args = append(args, "--filter", "label=deis.formation="+formation)
	}
	out, err := exec.Command("docker", args...).Output()
	if err != nil {
		t.Errorf("listing networks: %v", err)
		return nil
	}
	return strings.Fields(string(out))
}

// api GETs an API path as the user (with the token the CLI stored) and
// decodes the answer into v.
func (u *user) api(path string, v any) error {
	b, err := os.ReadFile(filepath.Join(u.home, ".deis", "client.json"))
	if err != nil {
		return err
	}
	var state struct{ Token string }
	if err := json.Unmarshal(b, &state); err != nil {
		return err
	}
	req, err := http.NewRequest("GET", u.env.URL+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+state.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
