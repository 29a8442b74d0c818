//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deis/deis"
)

// TestDryRun: --dry-run on config:set, scale, rollback and converge prints
// the plan and changes nothing; a container removed behind deis's back is
// in the converge plan, and a converge puts it back.
func TestDryRun(t *testing.T) {
	env := newTestEnv(t)
	alice := env.newUser("alice")
	alice.ok("formations:create", "dry", "--flavor", "docker")
	alice.ok("nodes:scale", "dry", "runtime=1")
	repo := filepath.Join(alice.home, "hello")
	os.MkdirAll(repo, 0o755)
	alice.dir = repo
	alice.git("init", "-q", "-b", "main")
	alice.ok("apps:create", "hello", "--formation", "dry")
	alice.ok("builds:create", "--slug", helloSlug(t))
	alice.ok("scale", "web=2")

	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"config:set", "GREETING=hi", "--dry-run"}, []string{"would set GREETING",
			"start  web.1 v3 on dry-runtime-1", "start  web.2 v3 on dry-runtime-1", "retire web.1 v2 on dry-runtime-1", "retire web.2 v2 on dry-runtime-1"}},
		{[]string{"config:unset", "NOPE", "--dry-run"}, []string{"would set nothing"}},
		{[]string{"scale", "web=3", "--dry-run"}, []string{"would scale v2 to web=3", "start  web.3 v2 on dry-runtime-1", "keep   web.1 v2 on dry-runtime-1"}},
		{[]string{"rollback", "--dry-run"}, []string{"would roll back to v1 as v3"}},
		{[]string{"formations:converge", "dry", "--dry-run"}, []string{"dry-runtime-1: nothing to change ("}},
	} {
		out := alice.ok(tc.args...)
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("deis %s printed:\n%s\nwant %q", strings.Join(tc.args, " "), out, w)
			}
		}
	}
	if msg := alice.fails("rollback", "v2", "--dry-run"); !strings.Contains(msg, "v2 is not a release before the current one") {
		t.Errorf("rollback to the current release: %q", msg)
	}
	var rels []deis.Release
	alice.json(&rels, "releases")
	if len(rels) != 2 {
		t.Errorf("dry runs made releases: %+v", rels)
	}
	if by := psByNode(t, alice); by["dry-runtime-1"] != 2 {
		t.Errorf("after dry runs web runs %v, want 2", by)
	}

	// A container removed behind deis's back is in the plan; the plan
	// does not bring it back, a converge does.
	alice.ok("nodes:ssh", "dry-runtime-1", "docker", "rm", "-f", "deis-hello-v2-web.1")
	out := alice.ok("formations:converge", "dry", "--dry-run")
	if !strings.Contains(out, "would change: container:deis-hello-v2-web.1 (created)") {
		t.Errorf("converge plan after a removal:\n%s", out)
	}
	if ps := alice.ok("nodes:ssh", "dry-runtime-1", "docker", "ps", "--format", "'{{.Names}}'"); strings.Contains(ps, "deis-hello-v2-web.1") {
		t.Errorf("the dry run started the container:\n%s", ps)
	}
	out = alice.ok("nodes:converge", "dry-runtime-1", "--dry-run", "--json")
	if !strings.Contains(out, `"resource": "container:deis-hello-v2-web.1"`) && !strings.Contains(out, `"resource":"container:deis-hello-v2-web.1"`) {
		t.Errorf("nodes:converge --dry-run --json:\n%s", out)
	}
	alice.ok("formations:converge", "dry")
	if out := alice.ok("formations:converge", "dry", "--dry-run"); !strings.Contains(out, "dry-runtime-1: nothing to change") {
		t.Errorf("plan after the converge:\n%s", out)
	}
	alice.ok("formations:destroy", "dry", "--confirm", "dry")
}
