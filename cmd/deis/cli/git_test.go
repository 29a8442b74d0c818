package cli

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
)

func TestParseRemoteApp(t *testing.T) {
	tests := []struct {
		url, want string
	}{
		{"ssh://git@deis.example.com:2222/myapp.git", "myapp"},
		{"ssh://git@127.0.0.1:2222/peachy-waxworks.git", "peachy-waxworks"},
		{"ssh://git@host/myapp", "myapp"},
		{"ssh://git@host:2222/myapp.git/", "myapp"},
		{"git@deis.example.com:myapp.git", "myapp"},
		{"git@host:apps/myapp.git", "myapp"},
		{"host:myapp", "myapp"},
		{"https://deis.example.com/git/myapp.git", "myapp"},
		{"/srv/git/myapp.git", "myapp"},
		{"  ssh://git@host:2222/myapp.git\n", "myapp"},
		{"git@host:", ""},
		{"ssh://git@host:2222/", ""},
		{"git@host:My_App.git", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, err := parseRemoteApp(tt.url)
		if tt.want == "" {
			if err == nil {
				t.Errorf("parseRemoteApp(%q) = %q, want an error", tt.url, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("parseRemoteApp(%q) = %q, %v; want %q", tt.url, got, err, tt.want)
		}
	}
}

func TestResolveApp(t *testing.T) {
	remote := func(url string) func() string { return func() string { return url } }
	tests := []struct {
		name     string
		explicit []string
		remote   string
		want     string
		wantErr  bool
	}{
		{"positional beats flag and remote", []string{"pos", "flag"}, "git@h:remote.git", "pos", false},
		{"flag beats remote", []string{"", "flag"}, "git@h:remote.git", "flag", false},
		{"flag alone", []string{"flag"}, "", "flag", false},
		{"remote", []string{"", ""}, "ssh://git@h:2222/remote.git", "remote", false},
		{"nothing", []string{""}, "", "", true},
		{"bad remote", nil, "git@h:", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := resolveApp(tt.explicit, remote(tt.remote))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("resolveApp = %q, %v; want %q (error %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// gitRepo makes a git work tree in a temp dir, with a deis remote when
// remote is not empty.
func gitRepo(t *testing.T, remote string) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("no git on PATH")
	}
	dir := t.TempDir()
	run := func(args ...string) {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v: %s", args, err, out)
		}
	}
	run("init", "-q")
	if remote != "" {
		run("remote", "add", "deis", remote)
	}
	return dir
}

// TestAppNameFromRepo resolves the app with the real git CLI.
func TestAppNameFromRepo(t *testing.T) {
	tests := []struct {
		name, remote, flag, want string
		outside                  bool
	}{
		{name: "remote", remote: "ssh://git@h:2222/from-remote.git", want: "from-remote"},
		{name: "flag wins", remote: "ssh://git@h:2222/from-remote.git", flag: "from-flag", want: "from-flag"},
		{name: "no remote", want: ""},
		{name: "not a repo", outside: true, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCLI(strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{}, func(string) string { return "" })
			c.dir = gitRepo(t, tt.remote)
			if tt.outside {
				c.dir = t.TempDir()
			}
			c.app = tt.flag
			got, err := c.appName(context.Background())
			if tt.want == "" {
				if err != errNoApp {
					t.Errorf("appName = %q, %v; want errNoApp", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("appName = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
