package gitreceive

import (
	"fmt"
	"strings"
	"testing"
)

func pkt(s string) string { return fmt.Sprintf("%04x%s", len(s)+4, s) }

func TestPushCommands(t *testing.T) {
	a, b, zero := strings.Repeat("a", 40), strings.Repeat("b", 40), strings.Repeat("0", 40)
	caps := "\x00report-status side-band-64k quiet object-format=sha1 agent=git/2.39.5\n"
	tests := []struct {
		name      string
		stream    string
		wantMain  string
		wantKnown bool
	}{
		{"update of main", pkt(a+" "+b+" refs/heads/main"+caps) + "0000PACK...", b, true},
		{"new branch and a tag", pkt(zero+" "+a+" refs/heads/main"+caps) + pkt(zero+" "+b+" refs/tags/v1\n") + "0000PACK", a, true},
		{"other branch only", pkt(a+" "+b+" refs/heads/feature"+caps) + "0000PACK", "", true},
		{"delete of main", pkt(a+" "+zero+" refs/heads/main"+caps) + "0000", zero, true},
		{"from a shallow clone", pkt("shallow "+a+"\n") + pkt(a+" "+b+" refs/heads/main"+caps) + "0000PACK", b, true},
		{"nothing to push", "0000", "", true},
		{"cut short", pkt(a + " " + b + " refs/heads/main" + caps)[:30], "", false},
		{"no flush yet", pkt(a + " " + b + " refs/heads/main" + caps), "", false},
		{"not pkt-lines", "GET / HTTP/1.1\r\n", "", false},
		{"bad command", pkt("hello\n") + "0000", "", false},
	}
	for _, tt := range tests {
		for _, chunk := range []int{1, 7, len(tt.stream) + 1} {
			t.Run(fmt.Sprintf("%s/chunks of %d", tt.name, chunk), func(t *testing.T) {
				var p pushCommands
				for s := tt.stream; s != ""; {
					n := min(chunk, len(s))
					if w, err := p.Write([]byte(s[:n])); w != n || err != nil {
						t.Fatalf("Write = %d, %v", w, err)
					}
					s = s[n:]
				}
				got, known := p.requested("refs/heads/main")
				if got != tt.wantMain || known != tt.wantKnown {
					t.Errorf("requested(main) = %q, %v; want %q, %v", got, known, tt.wantMain, tt.wantKnown)
				}
			})
		}
	}
}
