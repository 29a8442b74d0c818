package gitreceive

import (
	"strings"
	"testing"
)

func TestParseCommand(t *testing.T) {
	tests := []struct {
		line    string
		want    command
		wantErr string // substring; "" for success
	}{
		{line: "git-receive-pack 'myapp.git'", want: command{receivePack, "myapp"}},
		{line: "git-receive-pack '/myapp.git'", want: command{receivePack, "myapp"}},
		{line: "git-receive-pack myapp", want: command{receivePack, "myapp"}},
		{line: "git-receive-pack /myapp.git", want: command{receivePack, "myapp"}},
		{line: "git-upload-pack 'web-2.git'", want: command{uploadPack, "web-2"}},
		{line: "git-receive-pack 'a'", want: command{receivePack, "a"}},
		{line: "ls", wantErr: "only git push is served here"},
		{line: "", wantErr: "only git push is served here"},
		{line: "git-upload-archive 'myapp.git'", wantErr: "only git push is served here"},
		{line: "sh -c 'git-receive-pack x.git'", wantErr: "only git push is served here"},
		{line: "git-receive-pack '../etc.git'", wantErr: "invalid app name"},
		{line: "git-receive-pack '/srv/repos/x.git'", wantErr: "invalid app name"},
		{line: "git-receive-pack 'My-App.git'", wantErr: "invalid app name"},
		{line: "git-receive-pack '-x.git'", wantErr: "invalid app name"},
		{line: "git-receive-pack 'x-.git'", wantErr: "invalid app name"},
		{line: "git-receive-pack 'a'\\''b.git'", wantErr: "invalid app name"},
		{line: "git-receive-pack ''", wantErr: "invalid app name"},
		{line: "git-receive-pack", wantErr: "invalid app name"},
		{line: "git-receive-pack '" + strings.Repeat("a", 64) + ".git'", wantErr: "invalid app name"},
		{line: "git-receive-pack '" + strings.Repeat("a", 63) + ".git'", want: command{receivePack, strings.Repeat("a", 63)}},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			got, err := parseCommand(tt.line)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseCommand(%q) = %+v, %v; want error with %q", tt.line, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parseCommand(%q) = %+v, %v; want %+v", tt.line, got, err, tt.want)
			}
		})
	}
}
