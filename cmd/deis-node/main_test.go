package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deis/deis/recipes"
	"github.com/deis/deis/recipes/recipestest"
)

func TestMain(m *testing.M) { recipestest.Main(m) }

// buildAgent builds deis-node as the Makefile does, with a version.
func buildAgent(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "deis-node")
	out, err := exec.Command("go", "build", "-ldflags", "-X main.version=test-1.2.3", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// agent runs the binary with stdin and returns its stdout and exit code.
func agent(t *testing.T, bin, stdin string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), bin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	t.Logf("deis-node %s: stderr:\n%s", strings.Join(args, " "), stderr.String())
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return stdout.String(), exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), 0
}

func decodeReport(t *testing.T, stdout string) recipes.AgentReport {
	t.Helper()
	var rep recipes.AgentReport
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("stdout is not one report: %v\n%s", err, stdout)
	}
	if dec.More() {
		t.Fatalf("stdout holds more than the report:\n%s", stdout)
	}
	return rep
}

func TestCommandLine(t *testing.T) {
	bin := buildAgent(t)
	tests := []struct {
		name     string
		args     []string
		stdin    string
		wantExit int
		stdout   string // exact, or the report's Error when it starts with "{"
		errStart string
	}{
		{"version", []string{"version"}, "", 0, "deis-node test-1.2.3\n", ""},
		{"no command", nil, "", 2, "", ""},
		{"unknown command", []string{"frob"}, "", 2, "", ""},
		{"bad flag", []string{"apply", "--nope"}, "", 2, "", ""},
		{"nothing to do", []string{"apply"}, `{"node":"n1"}`, 0, "{", ""},
		{"not JSON", []string{"apply"}, `{"node":`, 1, "{", "reading databag: unexpected EOF"},
		{"unknown field", []string{"apply"}, `{"node":"n1","runtime":{"containers":[],"extra":1}}`, 1, "{",
			`reading databag: json: unknown field "extra"`},
		{"two databags", []string{"apply"}, `{"node":"n1"} {"node":"n2"}`, 1, "{", "reading databag: data after the databag"},
		// In order (one state dir for the whole table): a newer databag
		// applies, an older one is refused, the same one again applies.
		{"generation 5", []string{"apply"}, `{"node":"n1","generation":5}`, 0, "{", ""},
		{"generation 3 after 5", []string{"apply"}, `{"node":"n1","generation":3}`, 1, "{",
			"databag generation 3 is older than the one applied last (5)"},
		{"generation 5 again", []string{"apply"}, `{"node":"n1","generation":5}`, 0, "{", ""},
	}
	state := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if len(args) > 0 && args[0] == "apply" {
				args = append(args, "--state-dir", state)
			}
			out, code := agent(t, bin, tt.stdin, args...)
			if code != tt.wantExit {
				t.Errorf("exit %d, want %d", code, tt.wantExit)
			}
			if tt.stdout != "{" {
				if out != tt.stdout {
					t.Errorf("stdout %q, want %q", out, tt.stdout)
				}
				return
			}
			if rep := decodeReport(t, out); !strings.HasPrefix(rep.Error, tt.errStart) || (tt.errStart == "") != (rep.Error == "") {
				t.Errorf("report error %q, want %q", rep.Error, tt.errStart)
			}
		})
	}
}
