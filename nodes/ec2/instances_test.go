package ec2

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/deis/deis/nodes"
	"github.com/deis/deis/nodes/ec2/ec2test"
)

func layered(t *testing.T, f *ec2test.Server, attempts int) *Provider {
	t.Helper()
	p := newProvider(t, f, attempts)
	if _, err := p.EnsureLayer(context.Background(), LayerSpec{Formation: "web", Layer: "proxy", PublicKey: testKey, Proxy: true, ControllerCIDR: "198.51.100.7/32"}); err != nil {
		t.Fatal(err)
	}
	return p
}

var spec = nodes.Spec{Formation: "web", Layer: "proxy", Node: "web-proxy-1", Proxy: true, PublicKey: testKey,
	Params: map[string]string{"instance_type": "t3.small", "image": "ami-123", "zone": "eu-west-1a", "subnet": "subnet-9", "volume_gb": "30"}}

func TestCreateListDestroy(t *testing.T) {
	f := newFake(t)
	f.AddImage(ec2test.Image{ID: "ami-123", Name: "debian-12-amd64-x", Created: "2025-01-01T00:00:00.000Z", Root: "/dev/xvda"})
	p := layered(t, f, 1)
	ctx := context.Background()
	m, err := p.Create(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	want := nodes.Machine{ProviderID: f.Instances()[0].ID, Node: "web-proxy-1", Formation: "web", Layer: "proxy", Address: "203.0.113.10",
		SSHPort: 22, SSHUser: "root", Public: "203.0.113.10:80", Private: "10.0.0.10", Running: true}
	if m != want {
		t.Fatalf("Create = %+v\nwant %+v", m, want)
	}
	r := f.Calls("RunInstances")[0]
	for k, v := range map[string]string{
		"ImageId": "ami-123", "InstanceType": "t3.small", "KeyName": "deis-web-proxy", "SubnetId": "subnet-9",
		"Placement.AvailabilityZone": "eu-west-1a", "MinCount": "1", "MaxCount": "1",
		"BlockDeviceMapping.1.DeviceName": "/dev/xvda", "BlockDeviceMapping.1.Ebs.VolumeSize": "30",
		"TagSpecification.1.ResourceType": "instance",
	} {
		if r.Get(k) != v {
			t.Errorf("RunInstances %s = %q, want %q", k, r.Get(k), v)
		}
	}
	if got := ec2test.Tags(r); got[TagFormation] != "web" || got[TagLayer] != "proxy" || got[TagNode] != "web-proxy-1" || got[TagController] != "ctl1" {
		t.Errorf("RunInstances tags = %v", got)
	}
	if got := ec2test.List(r, "SecurityGroupId"); len(got) != 2 {
		t.Errorf("security groups = %v, want the layer's and the formation's", got)
	}
	ud := decodeUserData(t, r)
	for _, s := range []string{"#cloud-config\n", "disable_root: false", "ssh_authorized_keys:", testKey} {
		if !strings.Contains(ud, s) {
			t.Errorf("user data %q lacks %q", ud, s)
		}
	}
	ms, err := p.List(ctx)
	if err != nil || len(ms) != 1 || ms[0] != (nodes.Machine{ProviderID: m.ProviderID, Node: "web-proxy-1", Formation: "web", Layer: "proxy",
		Address: "203.0.113.10", Private: "10.0.0.10", SSHPort: 22, SSHUser: "root", Running: true}) {
		t.Fatalf("List = %+v, %v", ms, err)
	}
	d := f.Calls("DescribeInstances")
	if fs := filters(d[len(d)-1]); fs["tag:deis:controller"][0] != "ctl1" || strings.Join(fs["instance-state-name"], ",") != "pending,running,stopping,stopped" {
		t.Fatalf("List filters = %v", fs)
	}
	for range 2 { // the second time the instance is gone: fine
		if err := p.Destroy(ctx, m.ProviderID); err != nil {
			t.Fatal(err)
		}
	}
	if ms, err := p.List(ctx); err != nil || len(ms) != 0 || len(f.Live()) != 0 {
		t.Fatalf("after Destroy: List = %v, %v; live %v", ms, err, f.Live())
	}
}

func TestCreateFaults(t *testing.T) {
	for _, tc := range []struct {
		name     string
		faults   []ec2test.Fault
		stuck    bool
		attempts int
		want     []string // substrings of the error; none means success
		runs     int      // RunInstances requests
	}{
		{name: "capacity", faults: []ec2test.Fault{{Status: 500, Code: "InsufficientInstanceCapacity", Msg: "We currently do not have sufficient t3.small capacity in the Availability Zone you requested (eu-west-1a)."}},
			attempts: 5, runs: 1, want: []string{"no capacity for instance type t3.small in zone eu-west-1a", "InsufficientInstanceCapacity", "try instance_type=t3a.small or another zone"}},
		{name: "server error retried", faults: []ec2test.Fault{{Status: 500, Code: "InternalError", Msg: "An internal error has occurred."}}, attempts: 3, runs: 2},
		{name: "throttled once", faults: []ec2test.Fault{{Status: 503, Code: "RequestLimitExceeded", Msg: "Request limit exceeded."}}, attempts: 3, runs: 2},
		{name: "throttled always", faults: []ec2test.Fault{{Status: 503, Code: "RequestLimitExceeded", Msg: "Request limit exceeded."}, {Status: 503, Code: "RequestLimitExceeded", Msg: "x"}},
			attempts: 2, runs: 2, want: []string{"AWS throttled ec2:RunInstances even after retries"}},
		{name: "unauthorized", faults: []ec2test.Fault{{Status: 403, Code: "UnauthorizedOperation", Msg: "You are not authorized to perform this operation. Encoded authorization failure message: xyz\nmore"}},
			attempts: 3, runs: 1, want: []string{"the AWS credentials may not call ec2:RunInstances (UnauthorizedOperation): You are not authorized to perform this operation."}},
		{name: "never running", stuck: true, attempts: 1, runs: 1, want: []string{"did not come up", "was terminated"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			p := layered(t, f, tc.attempts)
			f.Fail("RunInstances", tc.faults...)
			f.SetStuck(tc.stuck)
			s := spec
			s.Params = map[string]string{"instance_type": "t3.small", "image": "ami-123", "zone": "eu-west-1a"}
			m, err := p.Create(context.Background(), s)
			if got := len(f.Calls("RunInstances")); got != tc.runs {
				t.Errorf("RunInstances requests = %d, want %d", got, tc.runs)
			}
			if len(tc.want) == 0 {
				if err != nil || m.ProviderID == "" || len(f.Live()) != 1 {
					t.Fatalf("Create = %+v, %v; live %v", m, err, f.Live())
				}
				return
			}
			if err == nil {
				t.Fatalf("Create = %+v, want an error", m)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q is not one line", err)
			}
			if live := f.Live(); len(live) != 0 {
				t.Fatalf("a failed Create left %v running", live)
			}
		})
	}
}

func TestCreateNeedsLayer(t *testing.T) {
	f := newFake(t)
	_, err := newProvider(t, f, 1).Create(context.Background(), spec)
	if err == nil || !strings.Contains(err.Error(), "build the layer first") || len(f.Calls("RunInstances")) != 0 {
		t.Fatalf("Create without a layer = %v", err)
	}
}

func decodeUserData(t *testing.T, form url.Values) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(form.Get("UserData"))
	if err != nil {
		t.Fatalf("user data is not base64: %v", err)
	}
	return string(b)
}

// filters reads a request's Filter.N.Name / Filter.N.Value.M.
func filters(form url.Values) map[string][]string {
	m := map[string][]string{}
	for i := 1; form.Has(fmt.Sprintf("Filter.%d.Name", i)); i++ {
		m[form.Get(fmt.Sprintf("Filter.%d.Name", i))] = ec2test.List(form, fmt.Sprintf("Filter.%d.Value", i))
	}
	return m
}
