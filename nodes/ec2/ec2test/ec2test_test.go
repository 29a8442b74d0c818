package ec2test_test

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/deis/deis/nodes/ec2/ec2test"
)

const testKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDeisTestKey deis-layer"

func newServer(t *testing.T) *ec2test.Server {
	s := ec2test.New()
	t.Cleanup(s.Close)
	return s
}

// ec2Client is the real SDK client pointed at s, signing for region.
func ec2Client(s *ec2test.Server, region string) *ec2.Client {
	return ec2.New(ec2.Options{Region: region, BaseEndpoint: aws.String(s.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")})
}

// userData is the cloud-config the ec2 provider writes (ec2.UserData).
func userData(key string) string {
	return "#cloud-config\ndisable_root: false\nssh_pwauth: false\nssh_authorized_keys:\n  - " + strconv.Quote(key) + "\n"
}

// run imports a key pair once and runs one instance tagged tags.
func run(t *testing.T, c *ec2.Client, tags map[string]string) string {
	t.Helper()
	ctx := context.Background()
	_, err := c.ImportKeyPair(ctx, &ec2.ImportKeyPairInput{KeyName: aws.String("k"), PublicKeyMaterial: []byte(testKey)})
	if err != nil && code(err) != "InvalidKeyPair.Duplicate" {
		t.Fatal(err)
	}
	var ts []types.Tag
	for k, v := range tags {
		ts = append(ts, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	out, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-1"), InstanceType: "t3.small",
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), KeyName: aws.String("k"),
		UserData:          aws.String(base64.StdEncoding.EncodeToString([]byte(userData(testKey)))),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: ts}}})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Instances[0].InstanceId)
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// state describes instance id.
func state(t *testing.T, c *ec2.Client, id string) types.Instance {
	t.Helper()
	out, err := c.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Reservations[0].Instances[0]
}

func TestCreateTags(t *testing.T) {
	s := newServer(t)
	c := ec2Client(s, "eu-west-1")
	ctx := context.Background()
	id := run(t, c, map[string]string{"deis:node": "web-proxy-1"})
	sg, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("deis-web"), Description: aws.String("x")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id, aws.ToString(sg.GroupId)},
		Tags: []types.Tag{{Key: aws.String("deis:controller"), Value: aws.String("ctl2")}, {Key: aws.String("deis:node"), Value: aws.String("web-proxy-2")}}})
	if err != nil {
		t.Fatal(err)
	}
	in, _ := s.Instance(id)
	want := map[string]string{"deis:controller": "ctl2", "deis:node": "web-proxy-2"}
	if diff := cmp.Diff(want, in.Tags); diff != "" {
		t.Errorf("instance tags (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, s.Groups()[0].Tags); diff != "" {
		t.Errorf("group tags (-want +got):\n%s", diff)
	}
	// Described with its new tags, and found by them.
	out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{{Name: aws.String("tag:deis:controller"), Values: []string{"ctl2"}}}})
	if err != nil || len(out.Reservations) != 1 {
		t.Fatalf("DescribeInstances by the new tag = %+v, %v", out, err)
	}
	_, err = c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id, "i-0000000000000dead"}, Tags: []types.Tag{{Key: aws.String("x"), Value: aws.String("y")}}})
	if code(err) != "InvalidInstanceID.NotFound" {
		t.Errorf("CreateTags on a missing instance = %v", err)
	}
	if in, _ := s.Instance(id); in.Tags["x"] != "" {
		t.Errorf("a failed CreateTags tagged %s: %v", id, in.Tags)
	}
}

func TestRegions(t *testing.T) {
	s := newServer(t)
	eu, us := ec2Client(s, "eu-west-1"), ec2Client(s, "us-east-1")
	ctx := context.Background()
	id := run(t, eu, nil)
	if in, _ := s.Instance(id); in.Region != "eu-west-1" {
		t.Errorf("instance region = %q", in.Region)
	}
	// Instances are regional.
	out, err := us.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	if err != nil || len(out.Reservations) != 0 {
		t.Errorf("us-east-1 sees %+v, %v", out, err)
	}
	if _, err := us.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); code(err) != "InvalidInstanceID.NotFound" {
		t.Errorf("terminating from us-east-1 = %v", err)
	}
	if got := state(t, eu, id).State.Name; got != types.InstanceStateNameRunning {
		t.Errorf("state in eu-west-1 = %s", got)
	}
	if diff := cmp.Diff([]string{"us-east-1", "eu-west-1"}, s.Regions("DescribeInstances")); diff != "" {
		t.Errorf("DescribeInstances regions (-want +got):\n%s", diff)
	}
	if got := s.Regions("RunInstances"); !slices.Equal(got, []string{"eu-west-1"}) {
		t.Errorf("RunInstances regions = %v", got)
	}

	dr, err := us.DescribeRegions(ctx, &ec2.DescribeRegionsInput{RegionNames: []string{"ap-south-1"}})
	if err != nil || len(dr.Regions) != 1 || aws.ToString(dr.Regions[0].RegionName) != "ap-south-1" {
		t.Fatalf("DescribeRegions(ap-south-1) = %+v, %v", dr, err)
	}
	if dr, err = us.DescribeRegions(ctx, &ec2.DescribeRegionsInput{}); err != nil || len(dr.Regions) < 2 {
		t.Fatalf("DescribeRegions = %+v, %v", dr, err)
	}
	if got := s.Regions("DescribeRegions"); !slices.Equal(got, []string{"us-east-1", "us-east-1"}) {
		t.Errorf("DescribeRegions regions = %v", got)
	}
}

func TestFaultsAndAuth(t *testing.T) {
	s := newServer(t)
	c := ec2Client(s, "eu-west-1")
	ctx := context.Background()
	s.Fail("DescribeRegions", ec2test.Fault{Status: 400, Code: "First", Msg: "one"}, ec2test.Fault{Status: 400, Code: "Second", Msg: "two"})
	for _, want := range []string{"First", "Second", ""} {
		if _, err := c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{}); code(err) != want {
			t.Errorf("DescribeRegions = %v, want code %q", err, want)
		}
	}
	post := func(auth string, form url.Values) (int, string) {
		req, _ := http.NewRequest("POST", s.URL, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if st, body := post("", url.Values{"Action": {"DescribeRegions"}}); st != 401 || !strings.Contains(body, "<Code>AuthFailure</Code>") {
		t.Errorf("unsigned request = %d %s", st, body)
	}
	auth := "AWS4-HMAC-SHA256 Credential=AKIDTEST/20250101/ap-south-1/ec2/aws4_request, SignedHeaders=host, Signature=00"
	if st, body := post(auth, url.Values{"Action": {"StartInstances"}}); st != 400 || !strings.Contains(body, "<Code>InvalidAction</Code>") {
		t.Errorf("unknown action = %d %s", st, body)
	}
	if got := s.Regions("StartInstances"); !slices.Equal(got, []string{"ap-south-1"}) {
		t.Errorf("StartInstances regions = %v", got)
	}
}

func TestRequestHelpers(t *testing.T) {
	s := newServer(t)
	id := run(t, ec2Client(s, "eu-west-1"), map[string]string{"deis:layer": "proxy", "Name": "n1"})
	r := s.Calls("RunInstances")[0]
	if diff := cmp.Diff(map[string]string{"deis:layer": "proxy", "Name": "n1"}, ec2test.Tags(r)); diff != "" {
		t.Errorf("Tags (-want +got):\n%s", diff)
	}
	if got := ec2test.List(url.Values{"X.1": {"a"}, "X.2": {"b"}, "X.4": {"d"}}, "X"); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("List = %v", got)
	}
	in, _ := s.Instance(id)
	if in.UserData != userData(testKey) || ec2test.AuthorizedKey(in.UserData) != testKey {
		t.Errorf("user data %q gives key %q", in.UserData, ec2test.AuthorizedKey(in.UserData))
	}
	if got := ec2test.AuthorizedKey("#cloud-config\nssh_pwauth: false\n"); got != "" {
		t.Errorf("AuthorizedKey without keys = %q", got)
	}
	if got := s.KeyPairs()["k"]; got != testKey {
		t.Errorf("key pair material = %q", got)
	}

	s.AddInstance(ec2test.Instance{ID: "i-planted", Tags: map[string]string{"deis:controller": "ctl1"}})
	if live := s.Live(); !slices.Equal(live, []string{id, "i-planted"}) {
		t.Errorf("Live = %v", live)
	}
	if got := state(t, ec2Client(s, "us-east-1"), "i-planted"); got.State.Name != types.InstanceStateNameRunning || aws.ToString(got.PublicIpAddress) == "" {
		t.Errorf("planted instance = %+v", got)
	}
}

// backend is a Backend whose Starts wait for release and which records
// what it stops.
type backend struct {
	release chan error // one per Start: nil starts it
	stopped chan string
}

func (b *backend) Start(ctx context.Context, in ec2test.Instance, key string) (string, error) {
	if key != testKey {
		return "", errors.New("wrong key " + key)
	}
	select {
	case err := <-b.release:
		if err != nil {
			return "", err
		}
		return "172.18.0.9", nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func (b *backend) Stop(ctx context.Context, in ec2test.Instance) error {
	b.stopped <- in.ID
	return nil
}

// await describes id until it is in state want.
func await(t *testing.T, c *ec2.Client, id string, want types.InstanceStateName) types.Instance {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		in := state(t, c, id)
		if in.State.Name == want {
			return in
		}
		if time.Now().After(deadline) {
			t.Fatalf("instance %s is %s, want %s", id, in.State.Name, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestBackend(t *testing.T) {
	s := ec2test.New()
	b := &backend{release: make(chan error), stopped: make(chan string, 10)}
	s.SetBackend(b)
	c := ec2Client(s, "eu-west-1")
	ctx := context.Background()

	// Pending until the backend has started it, then running at its address.
	id := run(t, c, nil)
	for range 3 {
		if got := state(t, c, id).State.Name; got != types.InstanceStateNamePending {
			t.Fatalf("state before Start returns = %s", got)
		}
	}
	b.release <- nil
	in := await(t, c, id, types.InstanceStateNameRunning)
	if aws.ToString(in.PublicIpAddress) != "172.18.0.9" || aws.ToString(in.PrivateIpAddress) != "172.18.0.9" {
		t.Errorf("addresses = %v %v", aws.ToString(in.PublicIpAddress), aws.ToString(in.PrivateIpAddress))
	}

	// A failed Start terminates the instance.
	failed := run(t, c, nil)
	b.release <- errors.New("no room")
	if in := await(t, c, failed, types.InstanceStateNameTerminated); in.StateReason == nil || !strings.Contains(aws.ToString(in.StateReason.Message), "no room") {
		t.Errorf("state reason = %+v", in.StateReason)
	}

	// Terminating one that is starting cancels the Start.
	starting := run(t, c, nil)
	if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{starting}}); err != nil {
		t.Fatal(err)
	}
	await(t, c, starting, types.InstanceStateNameTerminated)

	// Terminating a running one stops it.
	if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	if got := <-b.stopped; got != id {
		t.Errorf("stopped %s, want %s", got, id)
	}
	await(t, c, id, types.InstanceStateNameTerminated)

	// Close stops the ones left running.
	last := run(t, c, nil)
	b.release <- nil
	await(t, c, last, types.InstanceStateNameRunning)
	s.Close()
	if got := <-b.stopped; got != last {
		t.Errorf("Close stopped %s, want %s", got, last)
	}
	if len(b.stopped) != 0 || len(s.Live()) != 0 {
		t.Errorf("after Close: %d more stops, live %v", len(b.stopped), s.Live())
	}
}

// instant is a Backend that starts and stops at once.
type instant struct{}

func (instant) Start(context.Context, ec2test.Instance, string) (string, error) {
	return "172.18.0.9", nil
}
func (instant) Stop(context.Context, ec2test.Instance) error { return nil }

func TestConcurrent(t *testing.T) {
	s := newServer(t)
	s.SetBackend(instant{})
	c := ec2Client(s, "eu-west-1")
	run(t, c, nil)
	errs := make(chan error, 8)
	for range 8 {
		go func() { errs <- cycle(c, s) }()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if n := len(s.Calls("TerminateInstances")); n != 8 || len(s.Live()) != 1 {
		t.Errorf("TerminateInstances calls = %d, live %v; want 8 and 1", n, s.Live())
	}
}

// cycle runs an instance until it is running, then terminates it.
func cycle(c *ec2.Client, s *ec2test.Server) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-1"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		KeyName: aws.String("k"), UserData: aws.String(base64.StdEncoding.EncodeToString([]byte(userData(testKey))))})
	if err != nil {
		return err
	}
	ids := []string{aws.ToString(out.Instances[0].InstanceId)}
	s.Instances()
	s.Live()
	if err := ec2.NewInstanceRunningWaiter(c, fast).Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids}, 10*time.Second); err != nil {
		return err
	}
	if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids}); err != nil {
		return err
	}
	return ec2.NewInstanceTerminatedWaiter(c, func(o *ec2.InstanceTerminatedWaiterOptions) {
		o.MinDelay, o.MaxDelay = 5*time.Millisecond, 20*time.Millisecond
	}).Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids}, 10*time.Second)
}

func fast(o *ec2.InstanceRunningWaiterOptions) {
	o.MinDelay, o.MaxDelay = 5*time.Millisecond, 20*time.Millisecond
}
