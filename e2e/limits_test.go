//go:build e2e

package e2e

import (
	"net/http"
	"os"
	"strings"
	"testing"
)

// TestControllerLimits: the data dir is 0700 at every start, even one an
// operator made 0755 (security review #21), and a request with a huge URL
// is refused at the door rather than read (#4, #22).
func TestControllerLimits(t *testing.T) {
	env := newTestEnv(t)
	env.crash()
	if err := os.Chmod(env.dataDir, 0o755); err != nil {
		t.Fatal(err)
	}
	env.restart()
	if fi, err := os.Stat(env.dataDir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("data dir mode after a start: %v, %v; want 0700", fi.Mode().Perm(), err)
	}
	resp, err := http.Get(env.URL + "/v1/jobs/" + strings.Repeat("x", 100<<10) + "/lines")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("a 100 KB URL: %s, want 431", resp.Status)
	}
}
