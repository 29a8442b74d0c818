//go:build docker

package ec2test_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/moby/moby/client"
	"golang.org/x/crypto/ssh"

	"github.com/deis/deis/nodes"
	"github.com/deis/deis/nodes/ec2/ec2test"
)

// dockerClient returns a client of the local engine; the test fails when
// none answers.
func dockerClient(t *testing.T) *client.Client {
	t.Helper()
	cli, err := client.New(client.FromEnv)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := cli.Ping(ctx, client.PingOptions{}); err != nil {
		t.Fatalf("no Docker engine (run scripts/setup-debian.sh): %v", err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// containers returns the node names of the containers labelled for
// controller.
func containers(t *testing.T, cli *client.Client, controller string) []string {
	t.Helper()
	res, err := cli.ContainerList(context.Background(), client.ContainerListOptions{All: true,
		Filters: client.Filters{}.Add("label", nodes.LabelController+"="+controller)})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range res.Items {
		out = append(out, c.Labels[nodes.LabelNode])
	}
	slices.Sort(out)
	return out
}

func TestDockerBackend(t *testing.T) {
	cli := dockerClient(t)
	var salt [4]byte
	rand.Read(salt[:])
	controller := "ec2fake-" + hex.EncodeToString(salt[:])
	log := slog.New(slog.DiscardHandler)
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	s := ec2test.New()
	defer s.Close()
	d := nodes.NewDocker(cli, controller, "", log)
	s.SetBackend(ec2test.DockerBackend{Docker: d})
	t.Cleanup(func() { // whatever a failure left behind
		res, _ := cli.ContainerList(context.Background(), client.ContainerListOptions{All: true,
			Filters: client.Filters{}.Add("label", nodes.LabelController+"="+controller)})
		for _, c := range res.Items {
			cli.ContainerRemove(context.Background(), c.ID, client.ContainerRemoveOptions{Force: true})
		}
		d.RemoveNetwork(context.Background(), "")
	})
	c := ec2Client(s, "eu-west-1")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute) // node images may be built
	defer cancel()

	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub))) + " ec2test"
	if _, err := c.ImportKeyPair(ctx, &ec2.ImportKeyPairInput{KeyName: aws.String("deis-t-l"), PublicKeyMaterial: []byte(key)}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for range 2 {
		out, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-1"), InstanceType: "t3.small",
			MinCount: aws.Int32(1), MaxCount: aws.Int32(1), KeyName: aws.String("deis-t-l"),
			UserData: aws.String(base64.StdEncoding.EncodeToString([]byte(userData(key)))),
			TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{
				{Key: aws.String("deis:formation"), Value: aws.String("t")}, {Key: aws.String("deis:layer"), Value: aws.String("l")}}}}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, aws.ToString(out.Instances[0].InstanceId))
	}
	running, err := ec2.NewInstanceRunningWaiter(c, func(o *ec2.InstanceRunningWaiterOptions) {
		o.MinDelay, o.MaxDelay = 200*time.Millisecond, time.Second
	}).WaitForOutput(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids}, 20*time.Minute)
	if err != nil {
		t.Fatalf("instances never ran: %v; %+v", err, s.Instances())
	}
	addr := aws.ToString(running.Reservations[0].Instances[0].PublicIpAddress)
	if addr == "" || aws.ToString(running.Reservations[0].Instances[0].InstanceId) != ids[0] {
		t.Fatalf("first instance described as %+v", running.Reservations[0].Instances[0])
	}
	if got := containers(t, cli, controller); !slices.Equal(got, ids) {
		t.Fatalf("containers = %v, want %v", got, ids)
	}

	if out := sshRun(t, net.JoinHostPort(addr, "22"), signer, "echo ok"); out != "ok\n" {
		t.Errorf("echo ok said %q", out)
	}

	if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids[:1]}); err != nil {
		t.Fatal(err)
	}
	err = ec2.NewInstanceTerminatedWaiter(c, func(o *ec2.InstanceTerminatedWaiterOptions) {
		o.MinDelay, o.MaxDelay = 200*time.Millisecond, time.Second
	}).Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids[:1]}, 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if got := containers(t, cli, controller); !slices.Equal(got, ids[1:]) {
		t.Fatalf("containers after terminating %s = %v", ids[0], got)
	}
	s.Close()
	if got := containers(t, cli, controller); len(got) != 0 {
		t.Fatalf("Close left containers %v", got)
	}
}

// sshRun runs cmd as root at addr, retrying until sshd answers.
func sshRun(t *testing.T, addr string, signer ssh.Signer, cmd string) string {
	t.Helper()
	cfg := &ssh.ClientConfig{User: "root", Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second}
	deadline := time.Now().Add(time.Minute)
	for {
		out, err := func() (string, error) {
			conn, err := ssh.Dial("tcp", addr, cfg)
			if err != nil {
				return "", err
			}
			defer conn.Close()
			sess, err := conn.NewSession()
			if err != nil {
				return "", err
			}
			defer sess.Close()
			b, err := sess.Output(cmd)
			return string(b), err
		}()
		if err == nil {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("ssh root@%s %q: %v", addr, cmd, err)
		}
		time.Sleep(300 * time.Millisecond)
	}
}
