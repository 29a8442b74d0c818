package ec2

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/deis/deis/nodes"
)

// Container ports published by nodes: reachable from the formation's own
// nodes only.
const (
	ContainerPortFrom = 10001
	ContainerPortTo   = 20000
)

// LayerSpec describes a layer's cloud resources.
type LayerSpec struct {
	Formation, Layer string
	PublicKey        string // authorized_keys line of the layer's key
	Proxy            bool   // open 80/443 to the world
	ControllerCIDR   string // where SSH may come from, e.g. 203.0.113.7/32
	Region           string // default: the provider's region
	VpcID            string // default: the region's default VPC
}

// LayerResources are what EnsureLayer made or found.
type LayerResources struct {
	KeyName string
	// GroupID is the layer's group (22 from the controller, 80/443 on
	// proxies); FormationGroupID is shared by every node of the formation
	// and lets them reach each other's container ports.
	GroupID, FormationGroupID string
}

// LayerName is the key pair and security group name of a layer.
func LayerName(formation, layer string) string { return "deis-" + formation + "-" + layer }

// FormationGroupName is the name of a formation's shared security group.
func FormationGroupName(formation string) string { return "deis-" + formation }

// EnsureLayer imports the layer's key pair and creates its security groups,
// reusing any that exist.
func (p *Provider) EnsureLayer(ctx context.Context, s LayerSpec) (LayerResources, error) {
	if s.Formation == "" || s.Layer == "" || s.PublicKey == "" || s.ControllerCIDR == "" {
		return LayerResources{}, errors.New("ec2: a layer needs a formation, a layer, a public key and the controller's CIDR")
	}
	region := p.region(s.Region)
	name := LayerName(s.Formation, s.Layer)
	res := LayerResources{KeyName: name}
	_, err := p.client.ImportKeyPair(ctx, &ec2.ImportKeyPairInput{
		KeyName: aws.String(name), PublicKeyMaterial: []byte(s.PublicKey),
		TagSpecifications: p.tagSpec(types.ResourceTypeKeyPair, s.Formation, s.Layer),
	}, p.in(region))
	if err != nil && !isCode(err, "InvalidKeyPair.Duplicate") {
		return res, explain("ImportKeyPair", err, "")
	}
	fg, err := p.ensureGroup(ctx, region, s.VpcID, FormationGroupName(s.Formation), s.Formation, "")
	if err != nil {
		return res, err
	}
	res.FormationGroupID = fg
	// Container ports: from the formation's group only (self-reference).
	if err := p.allow(ctx, region, fg, portsFrom("tcp", ContainerPortFrom, ContainerPortTo, "", fg)); err != nil {
		return res, err
	}
	lg, err := p.ensureGroup(ctx, region, s.VpcID, name, s.Formation, s.Layer)
	if err != nil {
		return res, err
	}
	res.GroupID = lg
	perms := []types.IpPermission{portsFrom("tcp", 22, 22, s.ControllerCIDR, "")}
	if s.Proxy {
		perms = append(perms, portsFrom("tcp", 80, 80, "0.0.0.0/0", ""), portsFrom("tcp", 443, 443, "0.0.0.0/0", ""))
	}
	for _, perm := range perms {
		if err := p.allow(ctx, region, lg, perm); err != nil {
			return res, err
		}
	}
	p.cfg.Log.Info("ec2 layer ready", "layer", name, "region", region, "group", lg, "formation_group", fg)
	return res, nil
}

// DestroyLayer terminates the layer's instances, waits until they are gone,
// then deletes the layer's group and key pair, and the formation's group
// when no other layer of the formation is left.
func (p *Provider) DestroyLayer(ctx context.Context, s LayerSpec) error {
	region := p.region(s.Region)
	name := LayerName(s.Formation, s.Layer)
	// Instances shutting down (a node destroyed just before) still hold
	// the groups: wait for them too.
	ms, err := p.listStates(ctx, region, []string{"pending", "running", "shutting-down", "stopping", "stopped"},
		filter("tag:"+TagFormation, s.Formation), filter("tag:"+TagLayer, s.Layer))
	if err != nil {
		return err
	}
	if len(ms) > 0 {
		var ids []string
		for _, m := range ms {
			ids = append(ids, m.ProviderID)
		}
		if _, err := p.client.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids}, p.in(region)); err != nil && !isCode(err, "InvalidInstanceID.NotFound") {
			return explain("TerminateInstances", err, "")
		}
		w := ec2.NewInstanceTerminatedWaiter(p.client, p.waitOpts(region))
		if err := w.Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids}, p.cfg.RunTimeout); err != nil {
			return fmt.Errorf("ec2: waiting for the instances of layer %s to terminate: %w", name, err)
		}
	}
	groups, err := p.groups(ctx, region, filter("tag:"+TagFormation, s.Formation), filter("tag:"+TagController, p.cfg.Controller))
	if err != nil {
		return err
	}
	layers := 0
	for _, g := range groups {
		t := tagsOf(g.Tags)
		switch {
		case aws.ToString(g.GroupName) == name:
			if err := p.deleteGroup(ctx, region, aws.ToString(g.GroupId)); err != nil {
				return err
			}
		case t[TagLayer] != "":
			layers++
		}
	}
	if _, err := p.client.DeleteKeyPair(ctx, &ec2.DeleteKeyPairInput{KeyName: aws.String(name)}, p.in(region)); err != nil && !isCode(err, "InvalidKeyPair.NotFound") {
		return explain("DeleteKeyPair", err, "")
	}
	if layers > 0 {
		return nil
	}
	for _, g := range groups {
		if aws.ToString(g.GroupName) == FormationGroupName(s.Formation) {
			if err := p.deleteGroup(ctx, region, aws.ToString(g.GroupId)); err != nil {
				return err
			}
		}
	}
	return nil
}

// deleteGroup deletes a security group. AWS refuses (DependencyViolation)
// for a while after the instances using it are terminated: that is retried
// for up to a minute.
func (p *Provider) deleteGroup(ctx context.Context, region, id string) error {
	delay := p.cfg.PollInterval
	for deadline := time.Now().Add(time.Minute); ; {
		_, err := p.client.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(id)}, p.in(region))
		switch {
		case err == nil || isCode(err, "InvalidGroup.NotFound"):
			return nil
		case !isCode(err, "DependencyViolation") || time.Now().Add(delay).After(deadline):
			return explain("DeleteSecurityGroup", err, "")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, 10*time.Second)
	}
}

// ensureGroup returns the id of group name, creating it when missing.
func (p *Provider) ensureGroup(ctx context.Context, region, vpc, name, formation, layer string) (string, error) {
	in := &ec2.CreateSecurityGroupInput{
		GroupName:         aws.String(name),
		Description:       aws.String("deis " + name),
		TagSpecifications: p.tagSpec(types.ResourceTypeSecurityGroup, formation, layer),
	}
	if vpc != "" {
		in.VpcId = aws.String(vpc)
	}
	out, err := p.client.CreateSecurityGroup(ctx, in, p.in(region))
	if err == nil {
		return aws.ToString(out.GroupId), nil
	}
	if !isCode(err, "InvalidGroup.Duplicate") {
		return "", explain("CreateSecurityGroup", err, "")
	}
	fs := []types.Filter{filter("group-name", name)}
	if vpc != "" {
		fs = append(fs, filter("vpc-id", vpc))
	}
	gs, err := p.groups(ctx, region, fs...)
	if err != nil {
		return "", err
	}
	if len(gs) == 0 {
		return "", fmt.Errorf("ec2: security group %s exists but cannot be described", name)
	}
	// Names can collide (layer web/a-b and layer web-a/b are both
	// deis-web-a-b): reuse only a group made for this very layer.
	t := tagsOf(gs[0].Tags)
	if t[TagController] != p.cfg.Controller || t[TagFormation] != formation || t[TagLayer] != layer {
		return "", nodes.Refused(fmt.Errorf("ec2: security group %s exists but was not made for %s (tags %s=%q %s=%q %s=%q): rename the formation or layer, or remove the group",
			name, strings.TrimSuffix(formation+"/"+layer, "/"), TagController, t[TagController], TagFormation, t[TagFormation], TagLayer, t[TagLayer]))
	}
	return aws.ToString(gs[0].GroupId), nil
}

func (p *Provider) groups(ctx context.Context, region string, fs ...types.Filter) ([]types.SecurityGroup, error) {
	out, err := p.client.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: fs}, p.in(region))
	if err != nil {
		return nil, explain("DescribeSecurityGroups", err, "")
	}
	return out.SecurityGroups, nil
}

// allow adds one ingress rule; a rule that exists already is fine.
func (p *Provider) allow(ctx context.Context, region, group string, perm types.IpPermission) error {
	_, err := p.client.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{
		GroupId: aws.String(group), IpPermissions: []types.IpPermission{perm}}, p.in(region))
	if err != nil && !isCode(err, "InvalidPermission.Duplicate") {
		return explain("AuthorizeSecurityGroupIngress", err, "")
	}
	return nil
}

func portsFrom(proto string, from, to int32, cidr, group string) types.IpPermission {
	perm := types.IpPermission{IpProtocol: aws.String(proto), FromPort: aws.Int32(from), ToPort: aws.Int32(to)}
	if cidr != "" {
		perm.IpRanges = []types.IpRange{{CidrIp: aws.String(cidr)}}
	}
	if group != "" {
		perm.UserIdGroupPairs = []types.UserIdGroupPair{{GroupId: aws.String(group)}}
	}
	return perm
}

func (p *Provider) tagSpec(rt types.ResourceType, formation, layer string) []types.TagSpecification {
	ts := []types.Tag{tag(TagFormation, formation), tag(TagController, p.cfg.Controller)}
	if layer != "" {
		ts = append(ts, tag(TagLayer, layer))
	}
	return []types.TagSpecification{{ResourceType: rt, Tags: ts}}
}

func (p *Provider) waitOpts(region string) func(*ec2.InstanceTerminatedWaiterOptions) {
	return func(o *ec2.InstanceTerminatedWaiterOptions) {
		o.MinDelay, o.MaxDelay = p.cfg.PollInterval, 4*p.cfg.PollInterval
		o.ClientOptions = append(o.ClientOptions, p.in(region))
	}
}

func isCode(err error, code string) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == code
}
