package cli

import (
	"testing"

	"github.com/deis/deis"
	"github.com/google/go-cmp/cmp"
)

func TestSSHArgs(t *testing.T) {
	tests := []struct {
		name  string
		info  deis.NodeSSHInfo
		hosts string
		cmd   []string
		want  []string
	}{
		{"defaults", deis.NodeSSHInfo{Address: "10.0.0.5"}, "", nil,
			[]string{"-i", "K", "-o", "IdentitiesOnly=yes", "-p", "22", "-o", "UserKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=no", "root@10.0.0.5"}},
		{"port in address, host key, command", deis.NodeSSHInfo{Address: "10.0.0.5:2201", User: "ubuntu"}, "H", []string{"uptime", "-p"},
			[]string{"-i", "K", "-o", "IdentitiesOnly=yes", "-p", "2201", "-o", "UserKnownHostsFile=H", "-o", "StrictHostKeyChecking=yes", "ubuntu@10.0.0.5", "--", "uptime", "-p"}},
		{"explicit port wins", deis.NodeSSHInfo{Address: "h:2201", Port: 2222, User: "u"}, "", nil,
			[]string{"-i", "K", "-o", "IdentitiesOnly=yes", "-p", "2222", "-o", "UserKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=no", "u@h"}},
	}
	for _, tt := range tests {
		got, err := sshArgs(tt.info, "K", tt.hosts, tt.cmd)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, d)
		}
	}
	if _, err := sshArgs(deis.NodeSSHInfo{}, "K", "", nil); err == nil {
		t.Error("no address: no error")
	}
}

func TestKnownHostsLine(t *testing.T) {
	if got := knownHostsLine("h", 22, "ssh-ed25519 AAAA\n"); got != "h ssh-ed25519 AAAA\n" {
		t.Errorf("port 22: %q", got)
	}
	if got := knownHostsLine("h", 2222, "ssh-ed25519 AAAA"); got != "[h]:2222 ssh-ed25519 AAAA\n" {
		t.Errorf("port 2222: %q", got)
	}
}
