package ec2

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

var ok = "<return>true</return>"

// handlers answer each action with the inner XML of its response, or a fault.
var handlers = map[string]func(f *fakeEC2, form url.Values) (string, *fault){
	"DescribeRegions": func(f *fakeEC2, form url.Values) (string, *fault) {
		return "<regionInfo><item><regionName>eu-west-1</regionName><regionEndpoint>ec2.eu-west-1.amazonaws.com</regionEndpoint><optInStatus>opt-in-not-required</optInStatus></item></regionInfo>", nil
	},
	"ImportKeyPair": func(f *fakeEC2, form url.Values) (string, *fault) {
		name := form.Get("KeyName")
		if _, dup := f.Keys[name]; dup {
			return "", &fault{400, "InvalidKeyPair.Duplicate", fmt.Sprintf("The keypair '%s' already exists.", name)}
		}
		f.Keys[name] = form.Get("PublicKeyMaterial")
		return fmt.Sprintf("<keyName>%s</keyName><keyFingerprint>aa:bb</keyFingerprint><keyPairId>%s</keyPairId>", esc(name), f.id("key")), nil
	},
	"DeleteKeyPair": func(f *fakeEC2, form url.Values) (string, *fault) {
		delete(f.Keys, form.Get("KeyName")) // AWS succeeds for a missing key too
		return ok, nil
	},
	"CreateSecurityGroup": func(f *fakeEC2, form url.Values) (string, *fault) {
		name := form.Get("GroupName")
		for _, g := range f.Groups {
			if g.Name == name {
				return "", &fault{400, "InvalidGroup.Duplicate", fmt.Sprintf("The security group '%s' already exists for VPC 'vpc-default'", name)}
			}
		}
		g := &fakeGroup{ID: f.id("sg"), Name: name, Vpc: "vpc-default", Tags: tags(form)}
		f.Groups[g.ID] = g
		return ok + "<groupId>" + g.ID + "</groupId>", nil
	},
	"DescribeSecurityGroups": func(f *fakeEC2, form url.Values) (string, *fault) {
		fs := filters(form)
		var b strings.Builder
		for _, id := range sortedKeys(f.Groups) {
			g := f.Groups[id]
			if match(fs, map[string]string{"group-name": g.Name, "vpc-id": g.Vpc}, g.Tags) {
				fmt.Fprintf(&b, "<item><groupId>%s</groupId><groupName>%s</groupName><vpcId>%s</vpcId>%s</item>", g.ID, esc(g.Name), g.Vpc, tagSet(g.Tags))
			}
		}
		return "<securityGroupInfo>" + b.String() + "</securityGroupInfo>", nil
	},
	"AuthorizeSecurityGroupIngress": func(f *fakeEC2, form url.Values) (string, *fault) {
		g := f.Groups[form.Get("GroupId")]
		if g == nil {
			return "", &fault{400, "InvalidGroup.NotFound", "The security group '" + form.Get("GroupId") + "' does not exist"}
		}
		for i := 1; form.Has(fmt.Sprintf("IpPermissions.%d.IpProtocol", i)); i++ {
			p := fmt.Sprintf("IpPermissions.%d.", i)
			rule := fmt.Sprintf("%s %s-%s from ", form.Get(p+"IpProtocol"), form.Get(p+"FromPort"), form.Get(p+"ToPort"))
			var froms []string
			for j := 1; form.Has(fmt.Sprintf("%sIpRanges.%d.CidrIp", p, j)); j++ {
				froms = append(froms, form.Get(fmt.Sprintf("%sIpRanges.%d.CidrIp", p, j)))
			}
			for j := 1; form.Has(fmt.Sprintf("%sGroups.%d.GroupId", p, j)); j++ {
				froms = append(froms, form.Get(fmt.Sprintf("%sGroups.%d.GroupId", p, j)))
			}
			rule += strings.Join(froms, ",")
			if slices.Contains(g.Rules, rule) {
				return "", &fault{400, "InvalidPermission.Duplicate", "the specified rule already exists"}
			}
			g.Rules = append(g.Rules, rule)
		}
		return ok, nil
	},
	"DeleteSecurityGroup": func(f *fakeEC2, form url.Values) (string, *fault) {
		id := form.Get("GroupId")
		if f.Groups[id] == nil {
			return "", &fault{400, "InvalidGroup.NotFound", "The security group '" + id + "' does not exist"}
		}
		for _, in := range f.Instances {
			if in.State != "terminated" && slices.Contains(in.Groups, id) {
				return "", &fault{400, "DependencyViolation", "resource " + id + " has a dependent object"}
			}
		}
		delete(f.Groups, id)
		return ok + "<groupId>" + id + "</groupId>", nil
	},
	"DescribeImages": func(f *fakeEC2, form url.Values) (string, *fault) {
		fs, ids := filters(form), list(form, "ImageId")
		var b strings.Builder
		for _, im := range f.Images {
			if (len(ids) == 0 || slices.Contains(ids, im.ID)) && match(fs, map[string]string{"name": im.Name, "architecture": "x86_64", "state": "available"}, nil) {
				fmt.Fprintf(&b, "<item><imageId>%s</imageId><name>%s</name><creationDate>%s</creationDate><imageOwnerId>%s</imageOwnerId><rootDeviceName>%s</rootDeviceName></item>",
					im.ID, esc(im.Name), im.Created, DebianOwner, im.Root)
			}
		}
		return "<imagesSet>" + b.String() + "</imagesSet>", nil
	},
	"RunInstances": func(f *fakeEC2, form url.Values) (string, *fault) {
		if _, ok := f.Keys[form.Get("KeyName")]; !ok {
			return "", &fault{400, "InvalidKeyPair.NotFound", "The key pair '" + form.Get("KeyName") + "' does not exist"}
		}
		n := len(f.Instances) + 10
		in := &fakeInstance{ID: f.id("i"), Image: form.Get("ImageId"), Type: form.Get("InstanceType"), Zone: form.Get("Placement.AvailabilityZone"),
			State: "pending", Key: form.Get("KeyName"), Groups: list(form, "SecurityGroupId"), Tags: tags(form),
			UserData: form.Get("UserData"), Private: fmt.Sprintf("10.0.0.%d", n), Public: fmt.Sprintf("203.0.113.%d", n)}
		f.Instances[in.ID] = in
		f.Order = append(f.Order, in.ID)
		return "<reservationId>r-1</reservationId><ownerId>123456789012</ownerId><instancesSet>" + instanceXML(in) + "</instancesSet>", nil
	},
	"DescribeInstances": func(f *fakeEC2, form url.Values) (string, *fault) {
		fs, ids := filters(form), list(form, "InstanceId")
		var b strings.Builder
		for _, id := range f.Order {
			in := f.Instances[id]
			if len(ids) > 0 && !slices.Contains(ids, id) {
				continue
			}
			// Time passes between two describes.
			switch {
			case in.State == "pending" && !f.Stuck:
				in.State = "running"
			case in.State == "shutting-down":
				in.State = "terminated"
			}
			if match(fs, map[string]string{"instance-state-name": in.State}, in.Tags) {
				b.WriteString("<item><reservationId>r-1</reservationId><ownerId>123456789012</ownerId><instancesSet>" + instanceXML(in) + "</instancesSet></item>")
			}
		}
		for _, id := range ids {
			if f.Instances[id] == nil {
				return "", &fault{400, "InvalidInstanceID.NotFound", "The instance ID '" + id + "' does not exist"}
			}
		}
		return "<reservationSet>" + b.String() + "</reservationSet>", nil
	},
	"TerminateInstances": func(f *fakeEC2, form url.Values) (string, *fault) {
		var b strings.Builder
		for _, id := range list(form, "InstanceId") {
			in := f.Instances[id]
			if in == nil {
				return "", &fault{400, "InvalidInstanceID.NotFound", "The instance ID '" + id + "' does not exist"}
			}
			prev := in.State
			if in.State != "terminated" {
				in.State = "shutting-down"
			}
			fmt.Fprintf(&b, "<item><instanceId>%s</instanceId><currentState><code>32</code><name>%s</name></currentState><previousState><code>16</code><name>%s</name></previousState></item>", id, in.State, prev)
		}
		return "<instancesSet>" + b.String() + "</instancesSet>", nil
	},
}

var stateCodes = map[string]int{"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48}

func instanceXML(in *fakeInstance) string {
	addr := ""
	if in.State == "running" {
		addr = "<privateIpAddress>" + in.Private + "</privateIpAddress><ipAddress>" + in.Public + "</ipAddress>"
	}
	return fmt.Sprintf("<item><instanceId>%s</instanceId><imageId>%s</imageId><instanceState><code>%d</code><name>%s</name></instanceState>"+
		"<instanceType>%s</instanceType><keyName>%s</keyName><placement><availabilityZone>%s</availabilityZone></placement>%s%s</item>",
		in.ID, in.Image, stateCodes[in.State], in.State, in.Type, esc(in.Key), in.Zone, addr, tagSet(in.Tags))
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
