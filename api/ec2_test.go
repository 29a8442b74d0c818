package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deis/deis"
	"github.com/deis/deis/converge"
	"github.com/deis/deis/nodes"
	"github.com/deis/deis/nodes/ec2"
	"github.com/deis/deis/nodes/ec2/ec2test"
	"github.com/deis/deis/store/storetest"
)

// newEC2API is a controller API whose ec2 providers talk to an in-process
// EC2 endpoint (no instance here answers SSH: these tests stop short of
// nodes).
func newEC2API(t *testing.T) (*testAPI, *ec2test.Server) {
	t.Helper()
	fake := ec2test.New()
	t.Cleanup(fake.Close)
	fake.AddImage(ec2test.Image{ID: "ami-0new", Name: "debian-12-amd64-20261101-9", Created: "2026-11-01T00:00:00.000Z", Root: "/dev/xvda"})
	st := storetest.Open(t)
	opener := &ec2.Opener{Base: ec2.Config{Controller: "ctl-test", Endpoint: fake.URL, SSHCIDR: "198.51.100.7/32",
		MaxAttempts: 2, MaxBackoff: time.Millisecond, PollInterval: time.Millisecond, RunTimeout: 5 * time.Second}}
	mgr := &nodes.Manager{Store: st, Providers: &nodes.Providers{EC2: opener.Open}, Pool: nodes.NewPool(nil)}
	conv := &converge.Converger{Store: st, Dialer: dialer(mgr)}
	s := New(Config{Store: st, Nodes: mgr, Conv: conv})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { srv.Close(); s.Wait() })
	return &testAPI{t: t, srv: srv}, fake
}

func errorOf(t *testing.T, out []byte) deis.Error {
	t.Helper()
	var e deis.Error
	if err := json.Unmarshal(out, &e); err != nil {
		t.Fatalf("decoding error %s: %v", out, err)
	}
	return e
}

// TestEC2Providers: creds are checked with AWS before anything is stored,
// bad ones leave nothing, good ones seed flavors, and an update that AWS
// refuses keeps the old creds.
func TestEC2Providers(t *testing.T) {
	t.Parallel()
	a, fake := newEC2API(t)
	a.user("root") // the first user is the admin; alice is not
	tok := a.user("alice")
	good := map[string]string{"access_key_id": "AKIDTEST", "secret_access_key": "s3cret", "region": "eu-west-1"}
	for _, tc := range []struct {
		name   string
		token  string
		creds  map[string]string
		fault  *ec2test.Fault
		status int
		msg    string
	}{
		{"unknown cred", tok, map[string]string{"access_key_id": "a", "secret_access_key": "b", "secret": "c"}, nil, 422, `ec2 credential "secret" is unknown`},
		{"half a key", tok, map[string]string{"access_key_id": "a"}, nil, 422, "secret_access_key is not"},
		{"no creds, not admin", tok, nil, nil, 422, "only an admin may use the controller's own AWS credentials"},
		{"refused", tok, good, &ec2test.Fault{Status: 401, Code: "AuthFailure", Msg: "AWS was not able to validate the provided access credentials"}, 422,
			"the AWS credentials were refused: AWS was not able to validate the provided access credentials (AuthFailure)"},
		{"not allowed", tok, good, &ec2test.Fault{Status: 403, Code: "UnauthorizedOperation", Msg: "You are not authorized to perform this operation. Encoded authorization failure message: X"}, 422,
			"the AWS credentials may not call ec2:DescribeRegions (UnauthorizedOperation)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.fault != nil {
				fake.Fail("DescribeRegions", *tc.fault)
			}
			status, out := a.do("POST", "/v1/providers", tc.token, deis.ProviderCreateRequest{ID: "aws", Type: "ec2", Creds: tc.creds})
			if e := errorOf(t, out); status != tc.status || !strings.Contains(e.Message, tc.msg) || strings.Contains(e.Message, "\n") {
				t.Errorf("status %d, %q; want %d with %q", status, e.Message, tc.status, tc.msg)
			}
			if status, _ := a.do("GET", "/v1/providers/aws", tc.token, nil); status != 404 {
				t.Errorf("a refused provider was stored: GET answers %d", status)
			}
		})
	}

	var p deis.Provider
	a.must(201, "POST", "/v1/providers", tok, deis.ProviderCreateRequest{ID: "aws", Type: "ec2", Creds: good}, &p)
	if !slices.Equal(p.CredKeys, []string{"access_key_id", "region", "secret_access_key"}) {
		t.Errorf("cred keys = %v", p.CredKeys)
	}
	var fls deis.Page[deis.Flavor]
	a.must(200, "GET", "/v1/flavors", tok, nil, &fls)
	var seeded []string
	for _, f := range fls.Results {
		if f.Provider == "aws" {
			seeded = append(seeded, f.ID)
			if f.Params["image"] != "ami-0new" || f.Params["instance_type"] != "t3.small" || "aws-"+f.Params["region"] != f.ID {
				t.Errorf("seeded flavor %+v", f)
			}
		}
	}
	want := []string{"aws-ap-southeast-1", "aws-eu-central-1", "aws-eu-west-1", "aws-us-east-1", "aws-us-west-2"}
	if slices.Sort(seeded); !slices.Equal(seeded, want) {
		t.Errorf("seeded flavors = %v, want %v", seeded, want)
	}
	if rs := fake.Regions("DescribeImages"); len(rs) != 5 {
		t.Errorf("DescribeImages in %v, want each seed region", rs)
	}

	// An update AWS refuses changes nothing.
	fake.Fail("DescribeRegions", ec2test.Fault{Status: 401, Code: "AuthFailure", Msg: "bad key"})
	bad := "AKIDBAD"
	status, out := a.do("PATCH", "/v1/providers/aws", tok, deis.ProviderUpdateRequest{Creds: map[string]*string{"access_key_id": &bad}})
	if status != 422 || !strings.Contains(errorOf(t, out).Message, "the AWS credentials were refused") {
		t.Errorf("refused update: %d %s", status, out)
	}
	// An accepted update is checked with the merged creds: here in
	// us-east-1, the default, now that region is unset.
	a.must(200, "PATCH", "/v1/providers/aws", tok, deis.ProviderUpdateRequest{Creds: map[string]*string{"region": nil}}, &p)
	if rs := fake.Regions("DescribeRegions"); rs[len(rs)-1] != "us-east-1" {
		t.Errorf("the update was checked in %q, want the default region us-east-1", rs[len(rs)-1])
	}
}

// TestEC2Layers: a layer on an ec2 flavor gets its key pair and groups; a
// layer AWS refuses to build is not created and leaves nothing behind;
// destroying layers removes what they made.
func TestEC2Layers(t *testing.T) {
	t.Parallel()
	a, fake := newEC2API(t)
	a.user("root")
	tok := a.user("alice")
	a.must(201, "POST", "/v1/providers", tok, deis.ProviderCreateRequest{ID: "aws", Type: "ec2",
		Creds: map[string]string{"access_key_id": "AKIDTEST", "secret_access_key": "s3cret", "region": "eu-west-1"}}, nil)
	a.must(201, "POST", "/v1/formations", tok, deis.FormationCreateRequest{ID: "web"}, nil)

	// AWS refuses the security group: the layer is not created and its
	// key pair is removed again.
	fake.Fail("CreateSecurityGroup", ec2test.Fault{Status: 400, Code: "SecurityGroupLimitExceeded", Msg: "You have reached the maximum number of security groups."})
	status, out := a.do("POST", "/v1/formations/web/layers", tok, deis.LayerCreateRequest{ID: "runtime", Flavor: "aws-eu-west-1"})
	if e := errorOf(t, out); status != 502 || e.Code != deis.CodeProvider || !strings.Contains(e.Message, "SecurityGroupLimitExceeded") {
		t.Errorf("refused layer: %d %+v", status, e)
	}
	if status, _ := a.do("GET", "/v1/formations/web/layers/runtime", tok, nil); status != 404 {
		t.Errorf("a layer AWS refused was stored: %d", status)
	}
	if ks, gs := fake.KeyPairs(), fake.Groups(); len(ks) != 0 || len(gs) != 0 {
		t.Errorf("a refused layer left key pairs %v and groups %+v", ks, gs)
	}

	var rt, px deis.Layer
	a.must(201, "POST", "/v1/formations/web/layers", tok, deis.LayerCreateRequest{ID: "runtime", Flavor: "aws-eu-west-1", Proxy: ptr(false)}, &rt)
	a.must(201, "POST", "/v1/formations/web/layers", tok, deis.LayerCreateRequest{ID: "proxy", Flavor: "aws-eu-west-1", Runtime: ptr(false)}, &px)
	if rt.SSHUser != "root" || rt.SSHPort != 22 {
		t.Errorf("ec2 layer reaches %s@:%d, want root on 22", rt.SSHUser, rt.SSHPort)
	}
	ks := fake.KeyPairs()
	if strings.TrimSpace(ks["deis-web-runtime"]) != strings.TrimSpace(rt.SSHPublicKey) || strings.TrimSpace(ks["deis-web-proxy"]) != strings.TrimSpace(px.SSHPublicKey) {
		t.Errorf("key pairs = %v", ks)
	}
	rules := map[string][]string{}
	var fg string
	for _, g := range fake.Groups() {
		rules[g.Name] = g.Rules
		if g.Name == "deis-web" {
			fg = g.ID
		}
		if g.Tags["deis:controller"] != "ctl-test" || g.Tags["deis:formation"] != "web" {
			t.Errorf("group %s tags = %v", g.Name, g.Tags)
		}
	}
	want := map[string][]string{
		"deis-web":         {"tcp 10001-20000 from " + fg},
		"deis-web-runtime": {"tcp 22-22 from 198.51.100.7/32"},
		"deis-web-proxy":   {"tcp 22-22 from 198.51.100.7/32", "tcp 80-80 from 0.0.0.0/0", "tcp 443-443 from 0.0.0.0/0"},
	}
	if len(rules) != len(want) {
		t.Errorf("groups = %v, want %v", rules, want)
	}
	for name, w := range want {
		if !slices.Equal(rules[name], w) {
			t.Errorf("group %s rules = %q, want %q", name, rules[name], w)
		}
	}

	a.must(204, "DELETE", "/v1/formations/web/layers/proxy", tok, nil, nil)
	if _, ok := fake.KeyPairs()["deis-web-proxy"]; ok {
		t.Error("layers:destroy left the key pair")
	}
	for _, g := range fake.Groups() {
		if g.Name == "deis-web-proxy" {
			t.Error("layers:destroy left the layer's group")
		}
	}
	var job deis.Job
	a.must(202, "DELETE", "/v1/formations/web", tok, nil, &job)
	awaitJob(t, a, tok, job.ID)
	if ks, gs := fake.KeyPairs(), fake.Groups(); len(ks) != 0 || len(gs) != 0 {
		t.Errorf("formations:destroy left key pairs %v and groups %+v", ks, gs)
	}
}

func awaitJob(t *testing.T, a *testAPI, tok, id string) deis.Job {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var j deis.Job
		a.must(http.StatusOK, "GET", "/v1/jobs/"+id, tok, nil, &j)
		if j.State != deis.JobRunning {
			if j.State != deis.JobSucceeded {
				t.Fatalf("job %s %s: %s", j.ID, j.State, j.Error)
			}
			return j
		}
	}
	t.Fatalf("job %s did not end", id)
	return deis.Job{}
}
