package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/deis/deis"
)

// sshArgs builds the ssh command line for info, with the private key and
// known hosts files at keyFile and hostsFile ("" when the controller gave
// no host key).
func sshArgs(info deis.NodeSSHInfo, keyFile, hostsFile string, command []string) ([]string, error) {
	host, port := hostPort(info)
	if host == "" {
		return nil, errors.New("the node has no address yet")
	}
	user := info.User
	if user == "" {
		user = "root"
	}
	args := []string{"-i", keyFile, "-o", "IdentitiesOnly=yes", "-p", strconv.Itoa(port)}
	if hostsFile != "" {
		args = append(args, "-o", "UserKnownHostsFile="+hostsFile, "-o", "StrictHostKeyChecking=yes")
	} else {
		args = append(args, "-o", "UserKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=no")
	}
	args = append(args, user+"@"+host)
	if len(command) > 0 {
		args = append(append(args, "--"), command...)
	}
	return args, nil
}

// hostPort splits the node's address; the port defaults to 22.
func hostPort(info deis.NodeSSHInfo) (string, int) {
	host, port := info.Address, info.Port
	if h, p, err := net.SplitHostPort(info.Address); err == nil {
		host = h
		if port == 0 {
			port, _ = strconv.Atoi(p)
		}
	}
	if port == 0 {
		port = 22
	}
	return host, port
}

// knownHostsLine returns the known_hosts line of a node's host key.
func knownHostsLine(host string, port int, hostKey string) string {
	if port != 22 {
		host = fmt.Sprintf("[%s]:%d", host, port)
	}
	return host + " " + strings.TrimSpace(hostKey) + "\n"
}

// ssh runs the system ssh client against a node, passing the terminal
// through, and ends the CLI with ssh's exit status.
func (c *cli) ssh(ctx context.Context, info deis.NodeSSHInfo, command []string) error {
	dir, err := os.MkdirTemp("", "deis-ssh-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	keyFile := filepath.Join(dir, "key")
	key := strings.TrimSpace(info.PrivateKey) + "\n"
	if err := os.WriteFile(keyFile, []byte(key), 0o600); err != nil {
		return err
	}
	hostsFile := ""
	if info.HostKey != "" {
		host, port := hostPort(info)
		hostsFile = filepath.Join(dir, "known_hosts")
		if err := os.WriteFile(hostsFile, []byte(knownHostsLine(host, port, info.HostKey)), 0o600); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(c.stderr, "warning: the controller knows no host key for this node: not checking it")
	}
	args, err := sshArgs(info, keyFile, hostsFile, command)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "ssh", args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = c.rawIn, c.stdout, c.stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return exitError{ee.ExitCode()}
	}
	return err
}
