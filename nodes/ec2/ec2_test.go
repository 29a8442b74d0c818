package ec2

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/deis/deis/nodes"
	"github.com/deis/deis/nodes/ec2/ec2test"
)

const testKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDeisTestKey deis-layer"

// newFake starts a fake EC2 endpoint, closed when the test ends.
func newFake(t *testing.T) *ec2test.Server {
	f := ec2test.New()
	t.Cleanup(f.Close)
	return f
}

// group returns the fake's security group with id.
func group(f *ec2test.Server, id string) ec2test.Group {
	for _, g := range f.Groups() {
		if g.ID == id {
			return g
		}
	}
	return ec2test.Group{}
}

// layerOf returns the layer tag of the fake's instance id.
func layerOf(f *ec2test.Server, id string) string {
	in, _ := f.Instance(id)
	return in.Tags[TagLayer]
}

func newProvider(t *testing.T, f *ec2test.Server, attempts int) *Provider {
	t.Helper()
	p, err := New(context.Background(), Config{Region: "eu-west-1", Endpoint: f.URL, Controller: "ctl1",
		Creds:       Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: "secret"},
		MaxAttempts: attempts, MaxBackoff: 5 * time.Millisecond, PollInterval: 5 * time.Millisecond, RunTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestVerify(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault *ec2test.Fault
		want  string
	}{
		{name: "ok"},
		{name: "bad key", fault: &ec2test.Fault{Status: 401, Code: "AuthFailure", Msg: "AWS was not able to validate the provided access credentials"},
			want: "the AWS credentials were refused: AWS was not able to validate the provided access credentials (AuthFailure)"},
		{name: "no permission", fault: &ec2test.Fault{Status: 403, Code: "UnauthorizedOperation", Msg: "You are not authorized to perform this operation. Encoded authorization failure message: AbC"},
			want: "the AWS credentials may not call ec2:DescribeRegions (UnauthorizedOperation): You are not authorized to perform this operation."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			if tc.fault != nil {
				f.Fail("DescribeRegions", *tc.fault)
			}
			err := newProvider(t, f, 1).Verify(context.Background())
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || err.Error() != tc.want) {
				t.Fatalf("Verify = %v, want %q", err, tc.want)
			}
			if c := f.Calls("DescribeRegions"); len(c) != 1 || c[0].Get("RegionName.1") != "eu-west-1" {
				t.Fatalf("DescribeRegions requests = %v", c)
			}
		})
	}
}

func TestSeedImageNewestDebian12(t *testing.T) {
	f := newFake(t)
	for _, im := range []ec2test.Image{
		{ID: "ami-old", Name: "debian-12-amd64-20240101-1", Created: "2024-01-01T00:00:00.000Z", Root: "/dev/xvda"},
		{ID: "ami-new", Name: "debian-12-amd64-20250601-2", Created: "2025-06-01T00:00:00.000Z", Root: "/dev/xvda"},
		{ID: "ami-arm", Name: "debian-11-amd64-20260101-3", Created: "2026-01-01T00:00:00.000Z", Root: "/dev/xvda"},
	} {
		f.AddImage(im)
	}
	got, err := newProvider(t, f, 1).SeedImage(context.Background(), "eu-central-1")
	if err != nil || got != "ami-new" {
		t.Fatalf("SeedImage = %q, %v; want ami-new", got, err)
	}
	r := f.Calls("DescribeImages")[0]
	if DebianOwner != ec2test.DebianOwner || r.Get("Owner.1") != DebianOwner || r.Get("Filter.1.Name") != "name" || r.Get("Filter.1.Value.1") != "debian-12-amd64-*" {
		t.Fatalf("DescribeImages request = %v", r)
	}
}

func TestEnsureLayerRules(t *testing.T) {
	for _, tc := range []struct {
		name  string
		proxy bool
		layer []string
	}{
		{name: "runtime", layer: []string{"tcp 22-22 from 198.51.100.7/32"}},
		{name: "proxy", proxy: true, layer: []string{"tcp 22-22 from 198.51.100.7/32", "tcp 80-80 from 0.0.0.0/0", "tcp 443-443 from 0.0.0.0/0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			p := newProvider(t, f, 1)
			spec := LayerSpec{Formation: "web", Layer: "runtime", PublicKey: testKey, Proxy: tc.proxy, ControllerCIDR: "198.51.100.7/32"}
			res, err := p.EnsureLayer(context.Background(), spec)
			if err != nil {
				t.Fatal(err)
			}
			if res.KeyName != "deis-web-runtime" || group(f, res.GroupID).Name != "deis-web-runtime" || group(f, res.FormationGroupID).Name != "deis-web" {
				t.Fatalf("resources = %+v, groups %v", res, f.Groups())
			}
			k := f.Calls("ImportKeyPair")[0]
			if mat, _ := base64.StdEncoding.DecodeString(k.Get("PublicKeyMaterial")); k.Get("KeyName") != "deis-web-runtime" || string(mat) != testKey {
				t.Fatalf("ImportKeyPair = %v", k)
			}
			if got := strings.Join(group(f, res.GroupID).Rules, "; "); got != strings.Join(tc.layer, "; ") {
				t.Fatalf("layer rules = %q, want %q", got, tc.layer)
			}
			// Container ports: from the formation's own group, never the world.
			if got, want := group(f, res.FormationGroupID).Rules, "tcp 10001-20000 from "+res.FormationGroupID; len(got) != 1 || got[0] != want {
				t.Fatalf("formation rules = %q, want %q", got, want)
			}
			if g := group(f, res.GroupID); g.Tags[TagFormation] != "web" || g.Tags[TagLayer] != "runtime" || g.Tags[TagController] != "ctl1" {
				t.Fatalf("group tags = %v", g.Tags)
			}
			again, err := p.EnsureLayer(context.Background(), spec)
			if err != nil || again != res || len(f.Groups()) != 2 || len(f.KeyPairs()) != 1 {
				t.Fatalf("second EnsureLayer = %+v, %v; groups %d keys %d", again, err, len(f.Groups()), len(f.KeyPairs()))
			}
		})
	}
}

func TestDestroyLayer(t *testing.T) {
	f := newFake(t)
	p := newProvider(t, f, 1)
	ctx := context.Background()
	for _, l := range []string{"runtime", "proxy"} {
		if _, err := p.EnsureLayer(ctx, LayerSpec{Formation: "web", Layer: l, PublicKey: testKey, ControllerCIDR: "198.51.100.7/32"}); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Create(ctx, nodes.Spec{Formation: "web", Layer: l, Node: "web-" + l + "-1", PublicKey: testKey,
			Params: map[string]string{"instance_type": "t3.small", "image": "ami-1"}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.DestroyLayer(ctx, LayerSpec{Formation: "web", Layer: "runtime"}); err != nil {
		t.Fatal(err)
	}
	live := f.Live()
	if len(live) != 1 || layerOf(f, live[0]) != "proxy" {
		t.Fatalf("live after destroying runtime = %v", live)
	}
	if _, ok := f.KeyPairs()["deis-web-runtime"]; ok || len(f.Groups()) != 2 {
		t.Fatalf("keys %v groups %d: want runtime's gone, proxy's and the formation's left", f.KeyPairs(), len(f.Groups()))
	}
	if err := p.DestroyLayer(ctx, LayerSpec{Formation: "web", Layer: "proxy"}); err != nil {
		t.Fatal(err)
	}
	if len(f.Live()) != 0 || len(f.Groups()) != 0 || len(f.KeyPairs()) != 0 {
		t.Fatalf("left behind: live %v groups %v keys %v", f.Live(), f.Groups(), f.KeyPairs())
	}
	if len(f.Calls("DeleteSecurityGroup")) != 3 {
		t.Fatalf("DeleteSecurityGroup calls = %d, want 3 (no DependencyViolation)", len(f.Calls("DeleteSecurityGroup")))
	}
}

// TestEnsureLayerNameCollision: layer a-b of formation web and layer b of
// formation web-a are both named deis-web-a-b; the second is refused (the
// user's to fix), not given the first one's group.
func TestEnsureLayerNameCollision(t *testing.T) {
	f := newFake(t)
	p := newProvider(t, f, 1)
	ctx := context.Background()
	if _, err := p.EnsureLayer(ctx, LayerSpec{Formation: "web", Layer: "a-b", PublicKey: testKey, ControllerCIDR: "198.51.100.7/32"}); err != nil {
		t.Fatal(err)
	}
	_, err := p.EnsureLayer(ctx, LayerSpec{Formation: "web-a", Layer: "b", PublicKey: testKey, ControllerCIDR: "198.51.100.7/32"})
	if err == nil || !errors.Is(err, nodes.ErrRefused) || !strings.Contains(err.Error(), "security group deis-web-a-b exists but was not made for web-a/b") {
		t.Fatalf("colliding layer: %v", err)
	}
	// The same layer again reuses its own groups.
	if _, err := p.EnsureLayer(ctx, LayerSpec{Formation: "web", Layer: "a-b", PublicKey: testKey, ControllerCIDR: "198.51.100.7/32"}); err != nil {
		t.Fatalf("rebuilding a layer: %v", err)
	}
}
