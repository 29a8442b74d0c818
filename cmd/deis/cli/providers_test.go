package cli

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestMultiValueFlagsOnTheWire checks "--creds K=V K=V" and "--params ...
// --unset K K" send every value, split on the first '='.
func TestMultiValueFlagsOnTheWire(t *testing.T) {
	e := newTestEnv(t)
	e.login()
	if _, errOut, code := e.run("providers:create", "rack", "--type", "static", "--creds", "user=ops", "password=s3cr=t"); code != 0 {
		t.Fatalf("providers:create: exit %d: %s", code, errOut)
	}
	if _, errOut, code := e.run("flavors:update", "small", "--params", "size=large", "img=a=b", "--unset", "zone", "region"); code != 0 {
		t.Fatalf("flavors:update: exit %d: %s", code, errOut)
	}
	want := []string{
		`POST /v1/providers {"id":"rack","type":"static","creds":{"password":"s3cr=t","user":"ops"}}`,
		`PATCH /v1/flavors/small {"params":{"img":"a=b","region":null,"size":"large","zone":null}}`,
	}
	if d := cmp.Diff(want, e.ctl.calls); d != "" {
		t.Errorf("requests (-want +got):\n%s", d)
	}
	if _, errOut, code := e.run("flavors:update", "small", "extra"); code != 2 {
		t.Errorf("stray argument: exit %d, stderr %q", code, errOut)
	}
}

func TestProvidersDiscover(t *testing.T) {
	e := newTestEnv(t)
	e.login()
	out, errOut, code := e.run("providers:discover")
	if code != 0 || !strings.HasPrefix(out, "No provider credentials found") || errOut != "" {
		t.Errorf("nothing to discover: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if len(e.ctl.calls) != 0 {
		t.Errorf("requests sent: %q", e.ctl.calls)
	}

	e.env["AWS_ACCESS_KEY_ID"] = "AKIA1"
	_, errOut, code = e.run("providers:discover")
	if code != 1 || errOut != "error: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not\n" {
		t.Errorf("half the creds: exit %d, stderr %q", code, errOut)
	}

	e.env["AWS_SECRET_ACCESS_KEY"] = "s/e=cret"
	_, errOut, code = e.run("providers:discover")
	if code != 1 || errOut != "error: saving provider ec2: the ec2 provider is not available yet\n" {
		t.Errorf("ec2 not built: exit %d, stderr %q", code, errOut)
	}
	want := []string{
		`PATCH /v1/providers/ec2 {"creds":{"AWS_ACCESS_KEY_ID":"AKIA1","AWS_SECRET_ACCESS_KEY":"s/e=cret","AWS_SESSION_TOKEN":null}}`,
		`POST /v1/providers {"id":"ec2","type":"ec2","creds":{"AWS_ACCESS_KEY_ID":"AKIA1","AWS_SECRET_ACCESS_KEY":"s/e=cret"}}`,
	}
	if d := cmp.Diff(want, e.ctl.calls); d != "" {
		t.Errorf("requests (-want +got):\n%s", d)
	}
}
