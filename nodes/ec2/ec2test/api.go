package ec2test

import (
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

const ns = "http://ec2.amazonaws.com/doc/2016-11-15/"

const ok = "<return>true</return>"

// handlers answer each action with the inner XML of its response, or a
// fault. They run with s.mu held.
var handlers = map[string]func(s *Server, r request) (string, *Fault){
	"DescribeRegions":               (*Server).describeRegions,
	"CreateTags":                    (*Server).createTags,
	"ImportKeyPair":                 (*Server).importKeyPair,
	"DeleteKeyPair":                 (*Server).deleteKeyPair,
	"CreateSecurityGroup":           (*Server).createSecurityGroup,
	"DescribeSecurityGroups":        (*Server).describeSecurityGroups,
	"AuthorizeSecurityGroupIngress": (*Server).authorizeIngress,
	"DeleteSecurityGroup":           (*Server).deleteSecurityGroup,
	"DescribeImages":                (*Server).describeImages,
	"RunInstances":                  (*Server).runInstances,
	"DescribeInstances":             (*Server).describeInstances,
	"TerminateInstances":            (*Server).terminateInstances,
}

func (s *Server) serve(w http.ResponseWriter, hr *http.Request) {
	if err := hr.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	auth := hr.Header.Get("Authorization")
	r := request{form: hr.PostForm, region: region(auth)}
	act := r.form.Get("Action")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r)
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256") {
		s.fail(w, Fault{401, "AuthFailure", "no signature"})
		return
	}
	if q := s.faults[act]; len(q) > 0 {
		s.faults[act] = q[1:]
		s.fail(w, q[0])
		return
	}
	h, found := handlers[act]
	if !found {
		s.fail(w, Fault{400, "InvalidAction", "the fake does not speak " + act})
		return
	}
	body, flt := h(s, r)
	if flt != nil {
		s.fail(w, *flt)
		return
	}
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><%sResponse xmlns="%s"><requestId>req-%d</requestId>%s</%sResponse>`,
		act, ns, len(s.requests), body, act)
}

func (s *Server) fail(w http.ResponseWriter, e Fault) {
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(e.Status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>req-%d</RequestID></Response>`,
		esc(e.Code), esc(e.Msg), len(s.requests))
}

// describeRegions answers for the regions asked for, or for a few.
func (s *Server) describeRegions(r request) (string, *Fault) {
	names := List(r.form, "RegionName")
	if len(names) == 0 {
		names = []string{"eu-west-1", "eu-central-1", "us-east-1", "us-west-2"}
	}
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "<item><regionName>%s</regionName><regionEndpoint>ec2.%s.amazonaws.com</regionEndpoint><optInStatus>opt-in-not-required</optInStatus></item>", esc(n), esc(n))
	}
	return "<regionInfo>" + b.String() + "</regionInfo>", nil
}

// createTags merges Tag.N into the tags of the instances and groups named
// by ResourceId.N (the SDK's name; Resource.N is read too).
func (s *Server) createTags(r request) (string, *Fault) {
	ids := append(List(r.form, "ResourceId"), List(r.form, "Resource")...)
	var targets []map[string]string
	for _, id := range ids {
		switch {
		case s.instances[id] != nil:
			in := s.instances[id]
			if in.Tags == nil {
				in.Tags = map[string]string{}
			}
			targets = append(targets, in.Tags)
		case s.groups[id] != nil:
			g := s.groups[id]
			if g.Tags == nil {
				g.Tags = map[string]string{}
			}
			targets = append(targets, g.Tags)
		case strings.HasPrefix(id, "i-"):
			return "", &Fault{400, "InvalidInstanceID.NotFound", "The instance ID '" + id + "' does not exist"}
		case strings.HasPrefix(id, "sg-"):
			return "", &Fault{400, "InvalidGroup.NotFound", "The security group '" + id + "' does not exist"}
		default:
			return "", &Fault{400, "InvalidID", "The ID '" + id + "' is not valid"}
		}
	}
	for k, v := range pairs(r.form, "Tag") {
		for _, t := range targets {
			t[k] = v
		}
	}
	return ok, nil
}

func (s *Server) importKeyPair(r request) (string, *Fault) {
	name := r.form.Get("KeyName")
	if _, dup := s.keys[name]; dup {
		return "", &Fault{400, "InvalidKeyPair.Duplicate", fmt.Sprintf("The keypair '%s' already exists.", name)}
	}
	mat := r.form.Get("PublicKeyMaterial") // base64, as the SDK sends it
	if b, err := base64.StdEncoding.DecodeString(mat); err == nil {
		mat = string(b)
	}
	s.keys[name] = mat
	return fmt.Sprintf("<keyName>%s</keyName><keyFingerprint>aa:bb</keyFingerprint><keyPairId>%s</keyPairId>", esc(name), s.id("key")), nil
}

func (s *Server) deleteKeyPair(r request) (string, *Fault) {
	delete(s.keys, r.form.Get("KeyName")) // AWS succeeds for a missing key too
	return ok, nil
}

func (s *Server) createSecurityGroup(r request) (string, *Fault) {
	name := r.form.Get("GroupName")
	for _, g := range s.groups {
		if g.Name == name {
			return "", &Fault{400, "InvalidGroup.Duplicate", fmt.Sprintf("The security group '%s' already exists for VPC 'vpc-default'", name)}
		}
	}
	g := &Group{ID: s.id("sg"), Name: name, Vpc: "vpc-default", Tags: Tags(r.form)}
	s.groups[g.ID] = g
	return ok + "<groupId>" + g.ID + "</groupId>", nil
}

func (s *Server) describeSecurityGroups(r request) (string, *Fault) {
	fs := filters(r.form)
	var b strings.Builder
	for _, id := range sortedKeys(s.groups) {
		g := s.groups[id]
		if match(fs, map[string]string{"group-name": g.Name, "vpc-id": g.Vpc}, g.Tags) {
			fmt.Fprintf(&b, "<item><groupId>%s</groupId><groupName>%s</groupName><vpcId>%s</vpcId>%s</item>", g.ID, esc(g.Name), g.Vpc, tagSet(g.Tags))
		}
	}
	return "<securityGroupInfo>" + b.String() + "</securityGroupInfo>", nil
}

func (s *Server) authorizeIngress(r request) (string, *Fault) {
	form := r.form
	g := s.groups[form.Get("GroupId")]
	if g == nil {
		return "", &Fault{400, "InvalidGroup.NotFound", "The security group '" + form.Get("GroupId") + "' does not exist"}
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
			return "", &Fault{400, "InvalidPermission.Duplicate", "the specified rule already exists"}
		}
		g.Rules = append(g.Rules, rule)
	}
	return ok, nil
}

func (s *Server) deleteSecurityGroup(r request) (string, *Fault) {
	id := r.form.Get("GroupId")
	if s.groups[id] == nil {
		return "", &Fault{400, "InvalidGroup.NotFound", "The security group '" + id + "' does not exist"}
	}
	for _, in := range s.instances {
		if in.State != "terminated" && slices.Contains(in.Groups, id) {
			return "", &Fault{400, "DependencyViolation", "resource " + id + " has a dependent object"}
		}
	}
	delete(s.groups, id)
	return ok + "<groupId>" + id + "</groupId>", nil
}

func (s *Server) describeImages(r request) (string, *Fault) {
	fs, ids := filters(r.form), List(r.form, "ImageId")
	var b strings.Builder
	for _, im := range s.images {
		if (len(ids) == 0 || slices.Contains(ids, im.ID)) && match(fs, map[string]string{"name": im.Name, "architecture": "x86_64", "state": "available"}, nil) {
			fmt.Fprintf(&b, "<item><imageId>%s</imageId><name>%s</name><creationDate>%s</creationDate><imageOwnerId>%s</imageOwnerId><rootDeviceName>%s</rootDeviceName></item>",
				esc(im.ID), esc(im.Name), esc(im.Created), DebianOwner, esc(im.Root))
		}
	}
	return "<imagesSet>" + b.String() + "</imagesSet>", nil
}

// runInstances makes one instance in the request's region. It is pending
// until a backend has started it, or until the next describe without one.
func (s *Server) runInstances(r request) (string, *Fault) {
	form := r.form
	if _, found := s.keys[form.Get("KeyName")]; !found {
		return "", &Fault{400, "InvalidKeyPair.NotFound", "The key pair '" + form.Get("KeyName") + "' does not exist"}
	}
	ud, err := base64.StdEncoding.DecodeString(form.Get("UserData"))
	if err != nil {
		return "", &Fault{400, "InvalidParameterValue", "User data is not base64: " + err.Error()}
	}
	n := len(s.instances) + 10
	in := &instance{Instance: Instance{ID: s.id("i"), Image: form.Get("ImageId"), Type: form.Get("InstanceType"),
		Zone: form.Get("Placement.AvailabilityZone"), State: "pending", Key: form.Get("KeyName"), Region: r.region,
		Groups: List(form, "SecurityGroupId"), Tags: Tags(form), UserData: string(ud),
		Private: fmt.Sprintf("10.0.0.%d", n), Public: fmt.Sprintf("203.0.113.%d", n)}}
	s.instances[in.ID] = in
	s.order = append(s.order, in.ID)
	if s.backend != nil && !s.stuck {
		in.Private, in.Public = "", ""
		s.startLocked(in, s.backend)
	}
	return "<reservationId>r-1</reservationId><ownerId>123456789012</ownerId><instancesSet>" + instanceXML(in) + "</instancesSet>", nil
}

// describeInstances lists the instances of the request's region (and
// those planted without one).
func (s *Server) describeInstances(r request) (string, *Fault) {
	fs, ids := filters(r.form), List(r.form, "InstanceId")
	var b strings.Builder
	for _, id := range s.order {
		in := s.instances[id]
		if !in.in(r.region) || len(ids) > 0 && !slices.Contains(ids, id) {
			continue
		}
		if in.backend == nil { // time passes between two describes
			switch {
			case in.State == "pending" && !s.stuck:
				in.State = "running"
			case in.State == "shutting-down":
				in.State = "terminated"
			}
		}
		if match(fs, map[string]string{"instance-state-name": in.State}, in.Tags) {
			b.WriteString("<item><reservationId>r-1</reservationId><ownerId>123456789012</ownerId><instancesSet>" + instanceXML(in) + "</instancesSet></item>")
		}
	}
	for _, id := range ids {
		if in := s.instances[id]; in == nil || !in.in(r.region) {
			return "", &Fault{400, "InvalidInstanceID.NotFound", "The instance ID '" + id + "' does not exist"}
		}
	}
	return "<reservationSet>" + b.String() + "</reservationSet>", nil
}

func (s *Server) terminateInstances(r request) (string, *Fault) {
	ids := List(r.form, "InstanceId")
	for _, id := range ids {
		if in := s.instances[id]; in == nil || !in.in(r.region) {
			return "", &Fault{400, "InvalidInstanceID.NotFound", "The instance ID '" + id + "' does not exist"}
		}
	}
	var b strings.Builder
	for _, id := range ids {
		in := s.instances[id]
		prev := in.State
		switch {
		case gone(in.State):
		case in.up:
			s.stopLocked(in)
		case in.cancel != nil: // starting: stopped once Start returns
			in.cancel()
			in.State = "shutting-down"
		default:
			in.State = "shutting-down"
		}
		fmt.Fprintf(&b, "<item><instanceId>%s</instanceId><currentState><code>%d</code><name>%s</name></currentState><previousState><code>%d</code><name>%s</name></previousState></item>",
			id, stateCodes[in.State], in.State, stateCodes[prev], prev)
	}
	return "<instancesSet>" + b.String() + "</instancesSet>", nil
}

// in reports whether the instance lives in region; instances and requests
// without a region match any.
func (in *instance) in(region string) bool {
	return in.Region == "" || region == "" || in.Region == region
}

var stateCodes = map[string]int{"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64, "stopped": 80}

func instanceXML(in *instance) string {
	extra := ""
	if in.State == "running" {
		extra = "<privateIpAddress>" + esc(in.Private) + "</privateIpAddress><ipAddress>" + esc(in.Public) + "</ipAddress>"
	}
	if in.reason != "" {
		extra += "<stateReason><code>Server.InternalError</code><message>" + esc(in.reason) + "</message></stateReason>"
	}
	return fmt.Sprintf("<item><instanceId>%s</instanceId><imageId>%s</imageId><instanceState><code>%d</code><name>%s</name></instanceState>"+
		"<instanceType>%s</instanceType><keyName>%s</keyName><placement><availabilityZone>%s</availabilityZone></placement>%s%s</item>",
		esc(in.ID), esc(in.Image), stateCodes[in.State], in.State, esc(in.Type), esc(in.Key), esc(in.Zone), extra, tagSet(in.Tags))
}

// filters reads Filter.N.Name / Filter.N.Value.M.
func filters(form url.Values) map[string][]string {
	m := map[string][]string{}
	for i := 1; form.Has(fmt.Sprintf("Filter.%d.Name", i)); i++ {
		m[form.Get(fmt.Sprintf("Filter.%d.Name", i))] = List(form, fmt.Sprintf("Filter.%d.Value", i))
	}
	return m
}

// match reports whether a resource with fields and tags tg passes fs.
// A value ending in * matches as a prefix.
func match(fs map[string][]string, fields map[string]string, tg map[string]string) bool {
	for k, vs := range fs {
		v, found := fields[k]
		if t, isTag := strings.CutPrefix(k, "tag:"); isTag {
			v, found = tg[t]
		}
		if !found || !slices.ContainsFunc(vs, func(p string) bool {
			return p == v || strings.HasSuffix(p, "*") && strings.HasPrefix(v, strings.TrimSuffix(p, "*"))
		}) {
			return false
		}
	}
	return true
}

func tagSet(tg map[string]string) string {
	var b strings.Builder
	b.WriteString("<tagSet>")
	for _, k := range sortedKeys(tg) {
		fmt.Fprintf(&b, "<item><key>%s</key><value>%s</value></item>", esc(k), esc(tg[k]))
	}
	b.WriteString("</tagSet>")
	return b.String()
}

func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
