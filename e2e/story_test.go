//go:build e2e

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/deis/deis"
	"github.com/google/go-cmp/cmp"
)

func ids[T any](items []T, id func(T) string) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, id(it))
	}
	return out
}

// TestObjectModel is the issue-2 story: one user builds up every kind of
// object with the real CLI against the real controller, and a second user
// can see only what is shared with them.
func TestObjectModel(t *testing.T) {
	env := newTestEnv(t)
	alice := env.newUser("alice")

	// Auth: whoami, logout (the token is revoked), login again.
	if out := alice.ok("whoami"); !strings.Contains(out, "alice") {
		t.Fatalf("whoami = %q", out)
	}
	alice.ok("logout")
	if msg := alice.fails("apps:list"); !strings.Contains(strings.ToLower(msg), "login") {
		t.Errorf("after logout, apps:list said %q, want a hint to log in", msg)
	}
	alice.fails("login", env.URL, "--username", "alice", "--password", "wrong-password")
	alice.ok("login", env.URL, "--username", "alice", "--password", alice.password())
	var me deis.User
	alice.json(&me, "whoami")
	if me.Username != "alice" || !me.Admin {
		t.Errorf("whoami --json = %+v, want alice, an admin (first user)", me)
	}

	{ // keys
		pub := filepath.Join(alice.home, "id_ed25519")
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "alice-laptop", "-f", pub).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v %s", err, out)
		}
		alice.ok("keys:add", pub+".pub")
		alice.fails("keys:add", pub+".pub") // same key twice: 409
		var keys []deis.Key
		alice.json(&keys, "keys:list")
		if len(keys) != 1 || keys[0].ID != "alice-laptop" || !strings.HasPrefix(keys[0].Fingerprint, "SHA256:") {
			t.Fatalf("keys:list = %+v", keys)
		}
		alice.ok("keys:remove", "alice-laptop")
		alice.json(&keys, "keys:list")
		if len(keys) != 0 {
			t.Errorf("after keys:remove: %+v", keys)
		}
	}

	{ // providers and flavors
		alice.ok("providers:create", "rack", "--type", "static", "--creds", "user=ops", "password=s3cr=t")
		var p deis.Provider
		alice.json(&p, "providers:info", "rack")
		if p.Type != "static" || !slices.Equal(p.CredKeys, []string{"password", "user"}) {
			t.Errorf("providers:info = %+v", p)
		}
		if out := alice.ok("providers:info", "rack"); strings.Contains(out, "s3cr=t") {
			t.Errorf("providers:info shows a credential in clear: %s", out)
		}
		if msg := alice.fails("providers:create", "aws", "--type", "ec2", "--creds", "access_key_id=AKID"); !strings.Contains(msg, "access_key_id is given but secret_access_key is not") {
			t.Errorf("ec2 provider: %q", msg)
		}
		alice.fails("providers:create", "Bad_Id", "--type", "static")
		var ps []deis.Provider
		alice.json(&ps, "providers:list")
		if d := cmp.Diff([]string{"docker", "rack", "static"}, ids(ps, func(p deis.Provider) string { return p.ID })); d != "" {
			t.Errorf("providers:list (-want +got):\n%s", d)
		}
		alice.ok("flavors:create", "rack-small", "--provider", "rack", "--params", "size=small", "zone=a")
		alice.ok("flavors:update", "rack-small", "--params", "size=large", "--unset", "zone")
		var f deis.Flavor
		alice.json(&f, "flavors:info", "rack-small")
		if d := cmp.Diff(map[string]string{"size": "large"}, f.Params); d != "" || f.Provider != "rack" {
			t.Errorf("flavors:info = %+v (-want +got params):\n%s", f, d)
		}
		alice.fails("providers:delete", "rack") // in use by rack-small
		alice.ok("flavors:delete", "rack-small")
		alice.ok("providers:delete", "rack")
		var fs []deis.Flavor
		alice.json(&fs, "flavors:list")
		if d := cmp.Diff([]string{"docker", "static"}, ids(fs, func(f deis.Flavor) string { return f.ID })); d != "" {
			t.Errorf("flavors:list (-want +got):\n%s", d)
		}
	}

	{ // formations and layers
		alice.ok("formations:create", "dev", "--flavor", "static")
		alice.fails("formations:create", "dev")
		alice.ok("formations:create", "scratch")
		alice.ok("formations:update", "dev", "--domain", "dev.example.com")
		var f deis.Formation
		alice.json(&f, "formations:info", "dev")
		if f.Domain != "dev.example.com" || f.Owner != "alice" {
			t.Errorf("formations:info = %+v", f)
		}
		alice.ok("layers:create", "dev", "proxy", "static", "--runtime", "n", "--ssh-user", "deis")
		alice.ok("layers:update", "dev", "proxy", "--ssh-port", "2200")
		var l deis.Layer
		alice.json(&l, "layers:info", "dev", "proxy")
		if !l.Proxy || l.Runtime || l.SSHUser != "deis" || l.SSHPort != 2200 || !strings.HasPrefix(l.SSHPublicKey, "ssh-ed25519 ") {
			t.Errorf("layers:info = %+v", l)
		}
		if out := alice.ok("layers:info", "dev", "proxy"); strings.Contains(out, "PRIVATE KEY") {
			t.Error("layers:info shows the private key")
		}
		var ls []deis.Layer
		alice.json(&ls, "layers:list", "dev")
		if d := cmp.Diff([]string{"proxy", "runtime"}, ids(ls, func(l deis.Layer) string { return l.ID })); d != "" {
			t.Errorf("layers:list (-want +got):\n%s", d)
		}
		alice.ok("layers:destroy", "dev", "proxy")
		alice.json(&ls, "layers:list", "dev")
		if len(ls) != 1 {
			t.Errorf("after layers:destroy: %+v", ls)
		}
		alice.fails("formations:destroy", "scratch", "--confirm", "wrong")
		alice.ok("formations:destroy", "scratch", "--confirm", "scratch")
		var all []deis.Formation
		alice.json(&all, "formations:list")
		if d := cmp.Diff([]string{"dev"}, ids(all, func(f deis.Formation) string { return f.ID })); d != "" {
			t.Errorf("formations:list (-want +got):\n%s", d)
		}
	}

	// The app lives in a git repository; apps:create adds the deis remote.
	repo := filepath.Join(alice.home, "shop")
	if err := os.MkdirAll(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	alice.dir = repo
	alice.git("init", "-q", "-b", "main")
	alice.ok("apps:create", "shop", "--formation", "dev")
	if remote := alice.git("remote", "get-url", "deis"); !strings.Contains(remote, "shop.git") {
		t.Errorf("git remote deis = %q", remote)
	}
	alice.fails("apps:create", "shop", "--formation", "dev") // duplicate

	awkward := map[string]string{
		"EQUALS":  "a=b=c",
		"QUOTES":  `it's "quoted" \ and $HOME`,
		"SPACES":  "  two  spaces  ",
		"NEWLINE": "one\ntwo",
		"UNICODE": "héllo 世界 🚀",
	}
	args := []string{"config:set"}
	for k, v := range awkward {
		args = append(args, k+"="+v)
	}
	alice.ok(args...)                                  // v2, from the git remote
	alice.ok("config:set", "--app", "shop", "EXTRA=1") // v3, with --app
	awkward["EXTRA"] = "1"
	var cfg deis.Config
	alice.json(&cfg, "config:list")
	if d := cmp.Diff(awkward, cfg.Values); d != "" {
		t.Errorf("config:list after awkward config:set (-want +got):\n%s", d)
	}
	if msg := alice.fails("config:set", "1BAD=x"); !strings.Contains(msg, "1BAD") {
		t.Errorf("bad key: %q", msg)
	}
	var rels []deis.Release
	alice.json(&rels, "releases:list")
	if got := ids(rels, func(r deis.Release) string { return "v" + strconv.Itoa(r.Version) }); !slices.Equal(got, []string{"v3", "v2", "v1"}) {
		t.Errorf("releases:list = %v, want v3 v2 v1", got)
	}
	var r2 deis.Release
	alice.json(&r2, "releases:info", "v2")
	if r2.Version != 2 || r2.Owner != "alice" {
		t.Errorf("releases:info v2 = %+v", r2)
	}
	if msg := alice.fails("scale", "web=-1"); msg == "" {
		t.Error("negative scale gave no message")
	}
	alice.fails("scale", "web=1") // no build yet: unknown process type

	// A second user: 404 on alice's things until she shares the app.
	bob := env.newUser("bob")
	if msg := bob.fails("formations:info", "dev"); !strings.Contains(msg, "not found") {
		t.Errorf("bob formations:info dev: %q, want not found", msg)
	}
	if msg := bob.fails("apps:info", "--app", "shop"); !strings.Contains(msg, "not found") {
		t.Errorf("bob apps:info shop: %q", msg)
	}
	alice.ok("perms:create", "bob")
	var perms deis.Perms
	alice.json(&perms, "perms:list")
	if !slices.Equal(perms.Users, []string{"bob"}) {
		t.Errorf("perms:list = %+v", perms)
	}
	var app deis.App
	bob.json(&app, "apps:info", "--app", "shop")
	if app.ID != "shop" || app.Owner != "alice" {
		t.Errorf("bob apps:info = %+v", app)
	}
	bob.ok("config:set", "--app", "shop", "BY=bob")
	bob.fails("apps:destroy", "--app", "shop", "--confirm", "shop") // not the owner
	bob.fails("formations:info", "dev")                             // sharing an app does not share the formation
	alice.ok("perms:delete", "bob")
	bob.fails("apps:info", "--app", "shop")

	alice.ok("apps:destroy", "--confirm", "shop")
	if out, _ := exec.Command("git", "-C", repo, "remote").Output(); strings.Contains(string(out), "deis") {
		t.Error("apps:destroy left the deis git remote")
	}
	alice.ok("formations:destroy", "dev", "--confirm", "dev")
}
