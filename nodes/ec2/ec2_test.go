package ec2

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/deis/deis/nodes"
)

const testKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDeisTestKey deis-layer"

func newProvider(t *testing.T, f *fakeEC2, attempts int) *Provider {
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
		fault *fault
		want  string
	}{
		{name: "ok"},
		{name: "bad key", fault: &fault{401, "AuthFailure", "AWS was not able to validate the provided access credentials"},
			want: "the AWS credentials were refused: AWS was not able to validate the provided access credentials (AuthFailure)"},
		{name: "no permission", fault: &fault{403, "UnauthorizedOperation", "You are not authorized to perform this operation. Encoded authorization failure message: AbC"},
			want: "the AWS credentials may not call ec2:DescribeRegions (UnauthorizedOperation): You are not authorized to perform this operation."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			if tc.fault != nil {
				f.Faults["DescribeRegions"] = []fault{*tc.fault}
			}
			err := newProvider(t, f, 1).Verify(context.Background())
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || err.Error() != tc.want) {
				t.Fatalf("Verify = %v, want %q", err, tc.want)
			}
			if c := f.calls("DescribeRegions"); len(c) != 1 || c[0].Get("RegionName.1") != "eu-west-1" {
				t.Fatalf("DescribeRegions requests = %v", c)
			}
		})
	}
}

func TestSeedImageNewestDebian12(t *testing.T) {
	f := newFake(t)
	f.Images = []fakeImage{
		{ID: "ami-old", Name: "debian-12-amd64-20240101-1", Created: "2024-01-01T00:00:00.000Z", Root: "/dev/xvda"},
		{ID: "ami-new", Name: "debian-12-amd64-20250601-2", Created: "2025-06-01T00:00:00.000Z", Root: "/dev/xvda"},
		{ID: "ami-arm", Name: "debian-11-amd64-20260101-3", Created: "2026-01-01T00:00:00.000Z", Root: "/dev/xvda"},
	}
	got, err := newProvider(t, f, 1).SeedImage(context.Background(), "eu-central-1")
	if err != nil || got != "ami-new" {
		t.Fatalf("SeedImage = %q, %v; want ami-new", got, err)
	}
	r := f.calls("DescribeImages")[0]
	if r.Get("Owner.1") != DebianOwner || r.Get("Filter.1.Name") != "name" || r.Get("Filter.1.Value.1") != "debian-12-amd64-*" {
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
			if res.KeyName != "deis-web-runtime" || f.Groups[res.GroupID].Name != "deis-web-runtime" || f.Groups[res.FormationGroupID].Name != "deis-web" {
				t.Fatalf("resources = %+v, groups %v", res, f.Groups)
			}
			k := f.calls("ImportKeyPair")[0]
			if mat, _ := base64.StdEncoding.DecodeString(k.Get("PublicKeyMaterial")); k.Get("KeyName") != "deis-web-runtime" || string(mat) != testKey {
				t.Fatalf("ImportKeyPair = %v", k)
			}
			if got := strings.Join(f.Groups[res.GroupID].Rules, "; "); got != strings.Join(tc.layer, "; ") {
				t.Fatalf("layer rules = %q, want %q", got, tc.layer)
			}
			// Container ports: from the formation's own group, never the world.
			if got, want := f.Groups[res.FormationGroupID].Rules, "tcp 10001-20000 from "+res.FormationGroupID; len(got) != 1 || got[0] != want {
				t.Fatalf("formation rules = %q, want %q", got, want)
			}
			if g := f.Groups[res.GroupID]; g.Tags[TagFormation] != "web" || g.Tags[TagLayer] != "runtime" || g.Tags[TagController] != "ctl1" {
				t.Fatalf("group tags = %v", g.Tags)
			}
			again, err := p.EnsureLayer(context.Background(), spec)
			if err != nil || again != res || len(f.Groups) != 2 || len(f.Keys) != 1 {
				t.Fatalf("second EnsureLayer = %+v, %v; groups %d keys %d", again, err, len(f.Groups), len(f.Keys))
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
	live := f.live()
	if len(live) != 1 || f.Instances[live[0]].Tags[TagLayer] != "proxy" {
		t.Fatalf("live after destroying runtime = %v", live)
	}
	if _, ok := f.Keys["deis-web-runtime"]; ok || len(f.Groups) != 2 {
		t.Fatalf("keys %v groups %d: want runtime's gone, proxy's and the formation's left", f.Keys, len(f.Groups))
	}
	if err := p.DestroyLayer(ctx, LayerSpec{Formation: "web", Layer: "proxy"}); err != nil {
		t.Fatal(err)
	}
	if len(f.live()) != 0 || len(f.Groups) != 0 || len(f.Keys) != 0 {
		t.Fatalf("left behind: live %v groups %v keys %v", f.live(), f.Groups, f.Keys)
	}
	if len(f.calls("DeleteSecurityGroup")) != 3 {
		t.Fatalf("DeleteSecurityGroup calls = %d, want 3 (no DependencyViolation)", len(f.calls("DeleteSecurityGroup")))
	}
}
