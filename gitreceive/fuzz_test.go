package gitreceive

import (
	"strings"
	"testing"
)

// FuzzParseCommand feeds arbitrary exec lines to the parser: it never
// panics; what it accepts is one of the two git services on a valid app
// name, and what it refuses gets a one-line message.
func FuzzParseCommand(f *testing.F) {
	for _, seed := range []string{
		"git-receive-pack 'myapp.git'", "git-upload-pack '/web-2.git'", "git-receive-pack ../etc.git",
		"sh -c 'git-receive-pack x.git'", "", "git-receive-pack 'a'\\''b.git'", "git-receive-pack '\x00.git'",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		c, err := parseCommand(line)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("parseCommand(%q): a message of several lines: %q", line, err)
			}
			return
		}
		if c.service != receivePack && c.service != uploadPack {
			t.Errorf("parseCommand(%q) ran service %q", line, c.service)
		}
		if !validAppName(c.app) || strings.ContainsAny(c.app, "/.' ") {
			t.Errorf("parseCommand(%q) accepted app %q", line, c.app)
		}
	})
}
