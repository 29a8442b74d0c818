package ec2

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/deis/deis/nodes"
)

// Debian's AMI owner and the name pattern of its Debian 12 amd64 images.
const (
	DebianOwner   = "136693071363"
	Debian12Names = "debian-12-amd64-*"
)

// UserData is the cloud-init document that authorizes key for root.
func UserData(key string) string {
	return "#cloud-config\ndisable_root: false\nssh_pwauth: false\nssh_authorized_keys:\n  - " +
		strconv.Quote(strings.TrimSpace(key)) + "\n"
}

// Create runs one instance for s and waits until it is running with an
// address. Spec.Params: instance_type, image (default: the newest Debian 12),
// subnet, zone, volume_gb, region. A failure after RunInstances terminates
// the instance before returning.
func (p *Provider) Create(ctx context.Context, s nodes.Spec) (nodes.Machine, error) {
	pr := s.Params
	region := p.region(pr["region"])
	itype := pr["instance_type"]
	if itype == "" {
		return nodes.Machine{}, errors.New("ec2: the flavor has no instance_type")
	}
	image := pr["image"]
	if image == "" {
		var err error
		if image, err = p.SeedImage(ctx, region); err != nil {
			return nodes.Machine{}, err
		}
	}
	name := LayerName(s.Formation, s.Layer)
	gs, err := p.groups(ctx, region, filter("group-name", name, FormationGroupName(s.Formation)),
		filter("tag:"+TagController, p.cfg.Controller))
	if err != nil {
		return nodes.Machine{}, err
	}
	if len(gs) != 2 {
		return nodes.Machine{}, fmt.Errorf("ec2: layer %s has no security groups in %s: build the layer first", name, region)
	}
	in := &ec2.RunInstancesInput{
		ImageId: aws.String(image), InstanceType: types.InstanceType(itype),
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		KeyName:          aws.String(name),
		SecurityGroupIds: []string{aws.ToString(gs[0].GroupId), aws.ToString(gs[1].GroupId)},
		UserData:         aws.String(base64.StdEncoding.EncodeToString([]byte(UserData(s.PublicKey)))),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{
			tag("Name", s.Node), tag(TagFormation, s.Formation), tag(TagLayer, s.Layer),
			tag(TagNode, s.Node), tag(TagController, p.cfg.Controller)}}},
	}
	sort.Strings(in.SecurityGroupIds)
	if v := pr["subnet"]; v != "" {
		in.SubnetId = aws.String(v)
	}
	where := "instance type " + itype
	if v := pr["zone"]; v != "" {
		in.Placement = &types.Placement{AvailabilityZone: aws.String(v)}
		where += " in zone " + v
	} else {
		where += " in region " + region
	}
	if v := pr["volume_gb"]; v != "" {
		gb, err := strconv.Atoi(v)
		if err != nil || gb <= 0 {
			return nodes.Machine{}, fmt.Errorf("ec2: volume_gb %q is not a positive number", v)
		}
		imgs, err := p.client.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{image}}, p.in(region))
		if err != nil {
			return nodes.Machine{}, explain("DescribeImages", err, "")
		}
		if len(imgs.Images) == 0 {
			return nodes.Machine{}, fmt.Errorf("ec2: image %s not found in %s", image, region)
		}
		in.BlockDeviceMappings = []types.BlockDeviceMapping{{DeviceName: imgs.Images[0].RootDeviceName,
			Ebs: &types.EbsBlockDevice{VolumeSize: aws.Int32(int32(gb)), DeleteOnTermination: aws.Bool(true)}}}
	}
	out, err := p.client.RunInstances(ctx, in, p.in(region))
	if err != nil {
		return nodes.Machine{}, explain("RunInstances", err, where)
	}
	if len(out.Instances) == 0 {
		return nodes.Machine{}, errors.New("ec2: RunInstances returned no instance")
	}
	id := aws.ToString(out.Instances[0].InstanceId)
	p.remember(id, region)
	p.cfg.Log.Info("ec2 instance started", "node", s.Node, "instance", id, "region", region)
	m, err := p.waitRunning(ctx, region, id, s.Proxy)
	if err != nil {
		// Nothing may be left running that the caller does not know about.
		tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if terr := p.Destroy(tctx, id); terr != nil {
			return nodes.Machine{}, fmt.Errorf("%w; terminating %s also failed: %v", err, id, terr)
		}
		return nodes.Machine{}, fmt.Errorf("%w (instance %s was terminated)", err, id)
	}
	return m, nil
}

func (p *Provider) waitRunning(ctx context.Context, region, id string, proxy bool) (nodes.Machine, error) {
	w := ec2.NewInstanceRunningWaiter(p.client, func(o *ec2.InstanceRunningWaiterOptions) {
		o.MinDelay, o.MaxDelay = p.cfg.PollInterval, 4*p.cfg.PollInterval
		o.ClientOptions = append(o.ClientOptions, p.in(region))
	})
	out, err := w.WaitForOutput(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, p.cfg.RunTimeout)
	if err != nil {
		return nodes.Machine{}, fmt.Errorf("ec2: instance %s did not come up: %w", id, err)
	}
	for _, r := range out.Reservations {
		for _, in := range r.Instances {
			m := machine(in)
			if m.Address == "" {
				return m, fmt.Errorf("ec2: instance %s is running without an address", id)
			}
			if proxy {
				m.Public = net.JoinHostPort(m.Address, "80")
			}
			return m, nil
		}
	}
	return nodes.Machine{}, fmt.Errorf("ec2: instance %s is not described", id)
}

func machine(in types.Instance) nodes.Machine {
	t := tagsOf(in.Tags)
	private := aws.ToString(in.PrivateIpAddress)
	addr := aws.ToString(in.PublicIpAddress)
	if addr == "" {
		addr = private
	}
	return nodes.Machine{ProviderID: aws.ToString(in.InstanceId), Node: t[TagNode], Formation: t[TagFormation],
		Layer: t[TagLayer], Address: addr, Private: private, SSHPort: 22, SSHUser: "root",
		Running: in.State != nil && in.State.Name == types.InstanceStateNameRunning}
}

func (p *Provider) remember(id, region string) {
	p.mu.Lock()
	p.where[id] = region
	p.mu.Unlock()
}

// Destroy terminates an instance; one that is already gone is fine.
func (p *Provider) Destroy(ctx context.Context, id string) error {
	p.mu.Lock()
	region, ok := p.where[id]
	p.mu.Unlock()
	if !ok {
		if _, err := p.List(ctx); err != nil {
			return err
		}
		p.mu.Lock()
		region, ok = p.where[id]
		p.mu.Unlock()
		if !ok {
			return nil // not among this controller's live instances
		}
	}
	_, err := p.client.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}, p.in(region))
	if err != nil && !isCode(err, "InvalidInstanceID.NotFound") {
		return explain("TerminateInstances", err, "")
	}
	return nil
}

// List returns this controller's instances that are not terminated, in the
// provider's regions.
func (p *Provider) List(ctx context.Context) ([]nodes.Machine, error) {
	p.mu.Lock()
	regions := map[string]bool{}
	for r := range p.regions {
		regions[r] = true
	}
	p.mu.Unlock()
	for _, r := range p.cfg.Regions {
		regions[r] = true
	}
	var all []nodes.Machine
	for r := range regions {
		ms, err := p.list(ctx, r)
		if err != nil {
			return nil, err
		}
		all = append(all, ms...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ProviderID < all[j].ProviderID })
	return all, nil
}

func (p *Provider) list(ctx context.Context, region string, extra ...types.Filter) ([]nodes.Machine, error) {
	return p.listStates(ctx, region, []string{"pending", "running", "stopping", "stopped"}, extra...)
}

func (p *Provider) listStates(ctx context.Context, region string, states []string, extra ...types.Filter) ([]nodes.Machine, error) {
	fs := append([]types.Filter{filter("tag:"+TagController, p.cfg.Controller),
		filter("instance-state-name", states...)}, extra...)
	var ms []nodes.Machine
	pg := ec2.NewDescribeInstancesPaginator(p.client, &ec2.DescribeInstancesInput{Filters: fs})
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx, p.in(region))
		if err != nil {
			return nil, explain("DescribeInstances", err, "")
		}
		for _, r := range out.Reservations {
			for _, in := range r.Instances {
				m := machine(in)
				p.remember(m.ProviderID, region)
				ms = append(ms, m)
			}
		}
	}
	return ms, nil
}

// SeedImage returns the id of the newest Debian 12 amd64 image in region.
func (p *Provider) SeedImage(ctx context.Context, region string) (string, error) {
	out, err := p.client.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{DebianOwner},
		Filters: []types.Filter{filter("name", Debian12Names), filter("architecture", "x86_64"), filter("state", "available")},
	}, p.in(p.region(region)))
	if err != nil {
		return "", explain("DescribeImages", err, "")
	}
	var best types.Image
	for _, im := range out.Images {
		if aws.ToString(im.CreationDate) > aws.ToString(best.CreationDate) {
			best = im
		}
	}
	if best.ImageId == nil {
		return "", fmt.Errorf("ec2: no Debian 12 image (owner %s, name %s) in %s", DebianOwner, Debian12Names, p.region(region))
	}
	return aws.ToString(best.ImageId), nil
}
