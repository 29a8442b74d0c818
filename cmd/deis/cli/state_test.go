package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSaveStatePermissions(t *testing.T) {
	home := t.TempDir()
	path := filepath.Join(home, ".deis", "client.json")
	want := state{Controller: "http://c:8000", Token: "secret", Username: "alice"}
	if err := saveState(path, want); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("client.json mode = %o, want 600", perm)
	}
	di, err := os.Stat(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if perm := di.Mode().Perm(); perm != 0o700 {
		t.Errorf(".deis mode = %o, want 700", perm)
	}
	got, err := loadState(path)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("round trip (-want +got):\n%s", d)
	}
}

// TestSaveStateReplaces checks that a save replaces the file (tightening
// a too-open mode and directory) and leaves no temporary file behind.
func TestSaveStateReplaces(t *testing.T) {
	dir := filepath.Join(t.TempDir(), ".deis")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "client.json")
	if err := os.WriteFile(path, []byte(`{"controller":"old","token":"old"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := saveState(path, state{Controller: "http://new"}); err != nil {
		t.Fatal(err)
	}
	got, err := loadState(path)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(state{Controller: "http://new"}, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	fi, _ := os.Stat(path)
	di, _ := os.Stat(dir)
	if fi.Mode().Perm() != 0o600 || di.Mode().Perm() != 0o700 {
		t.Errorf("modes = %o, %o; want 600, 700", fi.Mode().Perm(), di.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("dir holds %d files, want only client.json", len(entries))
	}
}

func TestLoadStateMissing(t *testing.T) {
	st, err := loadState(filepath.Join(t.TempDir(), "nope.json"))
	if err != nil || st != (state{}) {
		t.Fatalf("loadState = %+v, %v; want empty", st, err)
	}
}

func TestControllerURLPrecedence(t *testing.T) {
	tests := []struct {
		env, stored, want string
	}{
		{"", "http://stored:8000", "http://stored:8000"},
		{"override:9000", "http://stored:8000", "http://override:9000"},
		{"https://env", "", "https://env"},
		{"", "", ""},
	}
	for _, tt := range tests {
		c := &cli{getenv: func(k string) string {
			if k == "DEIS_CONTROLLER" {
				return tt.env
			}
			return ""
		}}
		got, err := c.controllerURL(state{Controller: tt.stored})
		if tt.want == "" {
			if err == nil {
				t.Errorf("env %q stored %q: got %q, want an error", tt.env, tt.stored, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("env %q stored %q: got %q, %v; want %q", tt.env, tt.stored, got, err, tt.want)
		}
	}
}
