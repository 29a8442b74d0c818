//go:build e2e

package e2e

import (
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/moby/moby/client"

	"github.com/deis/deis"
	"github.com/deis/deis/nodes"
	"github.com/deis/deis/nodes/ec2"
	"github.com/deis/deis/nodes/ec2/ec2test"
)

// newFakeEC2 starts the in-process EC2 endpoint with Debian 12 images, its
// instances backed by node containers on the local Docker engine.
func newFakeEC2(t *testing.T) (*ec2test.Server, *nodes.Docker) {
	t.Helper()
	cli, err := client.New(client.FromEnv)
	if err != nil {
		t.Fatalf("the EC2 tests need the Docker engine: %v", err)
	}
	t.Cleanup(func() { cli.Close() })
	d := nodes.NewDocker(cli, "ec2fake-"+strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")), "", nil)
	fake := ec2test.New()
	fake.SetBackend(ec2test.DockerBackend{Docker: d})
	t.Cleanup(func() {
		fake.Close()
		ms, err := d.List(context.Background())
		if err != nil {
			t.Errorf("listing the fake's instance containers: %v", err)
		}
		if len(ms) > 0 {
			t.Errorf("%d instance containers left behind", len(ms))
			for _, m := range ms {
				d.Destroy(context.Background(), m.ProviderID)
			}
		}
		if err := d.RemoveNetwork(context.Background(), ""); err != nil {
			t.Errorf("removing the fake's instance networks: %v", err)
		}
	})
	fake.AddImage(ec2test.Image{ID: "ami-0old", Name: "debian-12-amd64-20250101-1", Created: "2025-01-01T00:00:00.000Z", Root: "/dev/xvda"})
	fake.AddImage(ec2test.Image{ID: "ami-0new", Name: "debian-12-amd64-20261101-9", Created: "2026-11-01T00:00:00.000Z", Root: "/dev/xvda"})
	return fake, d
}

// awsClient is an EC2 client of the fake, for doing what AWS or an
// operator does behind the controller's back.
func awsClient(fake *ec2test.Server) *awsec2.Client {
	return awsec2.New(awsec2.Options{Region: "eu-west-1", BaseEndpoint: aws.String(fake.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDOPS", "ops", "")})
}

func liveByNode(fake *ec2test.Server) map[string]string {
	by := map[string]string{}
	for _, in := range fake.Instances() {
		if slices.Contains(fake.Live(), in.ID) {
			by[in.Tags["deis:node"]] = in.ID
		}
	}
	return by
}

// TestEC2 is the issue-6 story against the in-process EC2 endpoint whose
// instances are node containers: a provider whose creds are checked, seeded
// flavors, layers that make key pairs and security groups, nodes:scale that
// runs instances which bootstrap, converge and serve an app, a capacity
// failure that leaves nothing behind, a lost instance whose containers
// move, scale-down, an untracked instance found at restart and terminated,
// another adopted, and a formation destroy that leaves nothing in the
// account.
func TestEC2(t *testing.T) {
	fake, d := newFakeEC2(t)
	flaky := &flakyBackend{DockerBackend: ec2test.DockerBackend{Docker: d}}
	fake.SetBackend(flaky)
	env := newTestEnv(t, "AWS_ENDPOINT_URL_EC2="+fake.URL, "DEIS_EC2_SSH_CIDR=127.0.0.1/32")
	alice := env.newUser("alice")

	// Bad credentials are refused at once, and nothing is stored.
	fake.Fail("DescribeRegions", ec2test.Fault{Status: 401, Code: "AuthFailure", Msg: "AWS was not able to validate the provided access credentials"})
	msg := alice.fails("providers:create", "aws", "--type", "ec2", "--creds", "access_key_id=AKIDBAD", "secret_access_key=wrong", "region=eu-west-1")
	if !strings.Contains(msg, "the AWS credentials were refused") {
		t.Errorf("bad creds: %q", msg)
	}
	msg = alice.fails("providers:create", "aws", "--type", "ec2", "--creds", "access_key=AKID")
	if !strings.Contains(msg, `ec2 credential "access_key" is unknown`) {
		t.Errorf("unknown cred name: %q", msg)
	}
	// Only an admin may use the controller's own AWS credentials (alice,
	// the first user, is one).
	bob := env.newUser("bob")
	msg = bob.fails("providers:create", "aws", "--type", "ec2")
	if !strings.Contains(msg, "needs --creds access_key_id") {
		t.Errorf("no creds, not an admin: %q", msg)
	}
	if out := alice.ok("providers:list"); strings.Contains(out, "aws") {
		t.Fatalf("a refused provider was stored:\n%s", out)
	}

	out := alice.ok("providers:create", "aws", "--type", "ec2", "--creds", "access_key_id=AKIDTEST", "secret_access_key=s3cret/key", "region=eu-west-1")
	if strings.Contains(out, "s3cret") {
		t.Errorf("providers:create echoed the secret: %s", out)
	}
	var prov deis.Provider
	alice.json(&prov, "providers:info", "aws")
	if prov.Type != "ec2" || !slices.Equal(prov.CredKeys, []string{"access_key_id", "region", "secret_access_key"}) {
		t.Errorf("provider = %+v", prov)
	}
	var fl deis.Flavor
	alice.json(&fl, "flavors:info", "aws-eu-west-1")
	if fl.Provider != "aws" || fl.Params["region"] != "eu-west-1" || fl.Params["instance_type"] != "t3.small" || fl.Params["image"] != "ami-0new" {
		t.Errorf("seeded flavor = %+v, want the newest Debian 12 image on t3.small", fl)
	}
	if rs := fake.Regions("DescribeImages"); len(rs) != 5 {
		t.Errorf("images looked up in %v, want the 5 seed regions", rs)
	}

	// Layers make their key pair and security groups.
	alice.ok("formations:create", "web")
	alice.ok("layers:create", "web", "runtime", "aws-eu-west-1", "--proxy", "n")
	alice.ok("layers:create", "web", "proxy", "aws-eu-west-1", "--runtime", "n")
	var rt deis.Layer
	alice.json(&rt, "layers:info", "web", "runtime")
	if got := fake.KeyPairs()["deis-web-runtime"]; strings.TrimSpace(got) != strings.TrimSpace(rt.SSHPublicKey) {
		t.Errorf("key pair deis-web-runtime = %q, want the layer's key %q", got, rt.SSHPublicKey)
	}
	rules := map[string][]string{}
	ids := map[string]string{}
	for _, g := range fake.Groups() {
		rules[g.Name], ids[g.Name] = g.Rules, g.ID
	}
	want := map[string][]string{
		"deis-web":         {"tcp 10001-20000 from " + ids["deis-web"]},
		"deis-web-runtime": {"tcp 22-22 from 127.0.0.1/32"},
		"deis-web-proxy":   {"tcp 22-22 from 127.0.0.1/32", "tcp 80-80 from 0.0.0.0/0", "tcp 443-443 from 0.0.0.0/0"},
	}
	for name, w := range want {
		if !slices.Equal(rules[name], w) {
			t.Errorf("group %s rules = %q, want %q", name, rules[name], w)
		}
	}
	if len(rules) != 3 {
		t.Errorf("groups = %v, want exactly %v", rules, want)
	}

	// Nodes: instances that bootstrap and converge.
	alice.ok("nodes:scale", "web", "runtime=2", "proxy=1")
	byNode := liveByNode(fake)
	if len(byNode) != 3 || byNode["web-runtime-1"] == "" || byNode["web-runtime-2"] == "" || byNode["web-proxy-1"] == "" {
		t.Fatalf("live instances by node = %v", byNode)
	}
	for node, id := range byNode {
		in, _ := fake.Instance(id)
		layer := strings.Split(node, "-")[1]
		if in.Tags["deis:formation"] != "web" || in.Tags["deis:layer"] != layer || in.Type != "t3.small" || in.Image != "ami-0new" ||
			in.Key != "deis-web-"+layer || len(in.Groups) != 2 {
			t.Errorf("instance of %s = %+v", node, in)
		}
		if node == "web-runtime-1" && ec2test.AuthorizedKey(in.UserData) != strings.TrimSpace(rt.SSHPublicKey) {
			t.Errorf("user data of %s authorizes %q, want the layer key", node, ec2test.AuthorizedKey(in.UserData))
		}
	}
	var ns []deis.Node
	alice.json(&ns, "nodes:list", "web")
	for _, n := range ns {
		if n.Status.State != "ready" || n.ProviderID != byNode[n.ID] || n.HostKey == "" {
			t.Errorf("node %+v: want ready, its instance, a pinned host key", n)
		}
	}

	// An app served through the proxy node.
	repo := filepath.Join(alice.home, "hello")
	os.MkdirAll(repo, 0o755)
	alice.dir = repo
	alice.git("init", "-q", "-b", "main")
	alice.ok("apps:create", "hello", "--formation", "web")
	alice.ok("builds:create", "--slug", helloSlug(t))
	alice.ok("scale", "web=2")
	addr := proxyAddr(t, alice, "web")
	awaitAnswer(t, addr, "hello.example", "hello from ")
	if by := psByNode(t, alice); by["web-runtime-1"] != 1 || by["web-runtime-2"] != 1 {
		t.Errorf("web=2 placed %v, want one per runtime node", by)
	}

	// No capacity: the error names the type and suggests another; nothing
	// is left running that the store does not know.
	fake.Fail("RunInstances", ec2test.Fault{Status: 500, Code: "InsufficientInstanceCapacity", Msg: "We currently do not have sufficient t3.small capacity in the Availability Zone you requested."})
	scaleFails(t, alice, fake, "AWS has no capacity for instance type t3.small", "try instance_type=t3a.small")

	// An instance that starts but dies before it runs (failed status
	// checks): terminated, reported, nothing else changes.
	flaky.fail.Store(1)
	scaleFails(t, alice, fake, "1 node(s) did not come up and were destroyed: web-runtime-3: ec2: instance i-")

	// AWS terminates runtime-2 behind the controller's back: a refresh
	// marks it lost and its container moves.
	if _, err := awsClient(fake).TerminateInstances(context.Background(), &awsec2.TerminateInstancesInput{InstanceIds: []string{byNode["web-runtime-2"]}}); err != nil {
		t.Fatal(err)
	}
	waitGone(t, fake, byNode["web-runtime-2"])
	_, stderr, err := alice.run(nil, "nodes:list", "web", "--refresh")
	if err != nil || !strings.Contains(stderr, "web-runtime-2: machine "+byNode["web-runtime-2"]+" is gone: marked lost") {
		t.Errorf("refresh after a lost instance: %v\n%s", err, stderr)
	}
	if by := psByNode(t, alice); by["web-runtime-1"] != 2 {
		t.Errorf("after runtime-2 was lost, web runs %v, want both on runtime-1", by)
	}
	awaitAnswer(t, addr, "hello.example", "hello from ")

	// Scale-down removes the lost node first.
	alice.ok("nodes:scale", "web", "runtime=1")
	alice.json(&ns, "nodes:list", "web")
	if len(ns) != 2 || ns[0].ID != "web-proxy-1" || ns[1].ID != "web-runtime-1" {
		t.Errorf("after runtime=1 the nodes are %+v", ns)
	}
	awaitAnswer(t, addr, "hello.example", "hello from ")

	// An instance tagged for this controller that the store does not know
	// (a crash between RunInstances and the store): reported at restart
	// and on refresh, then terminated on request.
	id, err := os.ReadFile(filepath.Join(env.dataDir, "controller-id"))
	if err != nil {
		t.Fatal(err)
	}
	fake.AddInstance(ec2test.Instance{ID: "i-0stray", Image: "ami-0new", Type: "t3.small", Region: "eu-west-1",
		Tags:    map[string]string{"deis:formation": "web", "deis:layer": "runtime", "deis:node": "web-runtime-7", "deis:controller": strings.TrimSpace(string(id))},
		Private: "10.0.9.9", Public: "203.0.113.99"})
	env.cmd.Process.Signal(os.Interrupt)
	if code := env.wait(); code != 0 {
		t.Fatalf("controller exit code %d", code)
	}
	env.restart()
	// The restart logs what it found before it listens.
	if !strings.Contains(env.logs.String(), "untracked machine i-0stray") {
		t.Errorf("the restarted controller did not report the untracked instance:\n%s", env.logs)
	}
	_, stderr, err = alice.run(nil, "nodes:list", "web", "--refresh")
	if err != nil || !strings.Contains(stderr, "untracked machine i-0stray (tagged web-runtime-7, layer runtime, address 203.0.113.99): not in the store") {
		t.Errorf("refresh with an untracked instance: %v\n%s", err, stderr)
	}
	if !slices.Contains(fake.Live(), "i-0stray") {
		t.Errorf("a plain refresh terminated the untracked instance")
	}
	_, stderr, err = alice.run(nil, "nodes:list", "web", "--refresh", "--terminate")
	if err != nil || !strings.Contains(stderr, "i-0stray") || !strings.Contains(stderr, "terminated") {
		t.Errorf("refresh --terminate: %v\n%s", err, stderr)
	}
	waitGone(t, fake, "i-0stray")

	// An untracked instance that does answer (run with the layer's key and
	// tags, as the controller would have before a crash) is adopted.
	out2, err := awsClient(fake).RunInstances(context.Background(), &awsec2.RunInstancesInput{
		ImageId: aws.String("ami-0new"), InstanceType: "t3.small", MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		KeyName:  aws.String("deis-web-runtime"),
		UserData: aws.String(base64.StdEncoding.EncodeToString([]byte(ec2.UserData(rt.SSHPublicKey)))),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{
			{Key: aws.String("deis:formation"), Value: aws.String("web")}, {Key: aws.String("deis:layer"), Value: aws.String("runtime")},
			{Key: aws.String("deis:node"), Value: aws.String("web-runtime-8")}, {Key: aws.String("deis:controller"), Value: aws.String(strings.TrimSpace(string(id)))}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	orphan := aws.ToString(out2.Instances[0].InstanceId)
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if in, _ := fake.Instance(orphan); in.State == "running" {
			break
		}
	}
	_, stderr, err = alice.run(nil, "nodes:list", "web", "--refresh", "--adopt")
	if err != nil || !strings.Contains(stderr, "untracked machine "+orphan) || !strings.Contains(stderr, ": adopted as web-runtime-") {
		t.Errorf("refresh --adopt: %v\n%s", err, stderr)
	}
	alice.json(&ns, "nodes:list", "web")
	adopted := false
	for _, n := range ns {
		if n.ProviderID == orphan {
			adopted = n.Status.State == "ready" && n.HostKey != "" && n.Layer == "runtime"
		}
	}
	if !adopted {
		t.Errorf("after --adopt the nodes are %+v, want %s a ready runtime node", ns, orphan)
	}

	// Destroying the formation leaves nothing in the account.
	alice.ok("formations:destroy", "web", "--confirm", "web")
	if live := fake.Live(); len(live) > 0 {
		t.Errorf("instances left running: %v", live)
	}
	if gs := fake.Groups(); len(gs) > 0 {
		t.Errorf("security groups left: %+v", gs)
	}
	if ks := fake.KeyPairs(); len(ks) > 0 {
		t.Errorf("key pairs left: %v", ks)
	}
}

// flakyBackend fails the next fail instance starts, as an instance that
// fails its status checks.
type flakyBackend struct {
	ec2test.DockerBackend
	fail atomic.Int32
}

func (b *flakyBackend) Start(ctx context.Context, in ec2test.Instance, key string) (string, error) {
	if b.fail.Add(-1) >= 0 {
		return "", errors.New("the instance failed its status checks")
	}
	return b.DockerBackend.Start(ctx, in, key)
}

// scaleFails checks that adding a third runtime node fails with an error
// line holding each of want, and leaves the 3 nodes and their instances
// as they were.
func scaleFails(t *testing.T, u *user, fake *ec2test.Server, want ...string) {
	t.Helper()
	_, stderr, err := u.run(nil, "nodes:scale", "web", "runtime=3")
	last := lastLine(stderr)
	for _, w := range want {
		if err == nil || !strings.Contains(last, w) {
			t.Errorf("failed scale: %v, last line %q, want %q\n%s", err, last, w, stderr)
		}
	}
	if got := liveByNode(fake); len(got) != 3 {
		t.Errorf("after the failed scale, live instances = %v, want the 3 nodes'", got)
	}
	var ns []deis.Node
	u.json(&ns, "nodes:list", "web")
	if len(ns) != 3 {
		t.Errorf("after the failed scale, %d nodes, want 3", len(ns))
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// waitGone waits until the fake reports instance id shutting down or
// terminated.
func waitGone(t *testing.T, fake *ec2test.Server, id string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if !slices.Contains(fake.Live(), id) {
			return
		}
	}
	in, _ := fake.Instance(id)
	t.Fatalf("instance %s is %q, want terminated", id, in.State)
}
