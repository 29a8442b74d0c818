package deis

import (
	"testing"
	"time"
)

func TestContainerStatus(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	seen := now.Add(-time.Second)
	tests := []struct {
		name string
		c    Container
		want string
	}{
		{"never looked at", Container{State: "up"}, "up"},
		{"running", Container{State: "up", Observed: "running", Checked: seen}, "up"},
		{"starting", Container{State: "starting"}, "starting"},
		{"crash-looping", Container{State: "up", Observed: "restarting", ExitCode: 1, Restarts: 3, Died: now.Add(-2 * time.Minute), Checked: seen},
			"down (exited 1, 3 restarts, 2m ago)"},
		{"exited once, not restarted", Container{State: "up", Observed: "exited", ExitCode: 137, Died: now.Add(-5 * time.Second), Checked: seen},
			"down (exited 137, 5s ago)"},
		{"restarted and running again", Container{State: "up", Observed: "running", Restarts: 1, Died: now.Add(-3 * time.Hour), Checked: seen},
			"up (1 restart, 3h ago)"},
		{"missing", Container{State: "up", Observed: ObservedMissing, Checked: seen}, "down (missing on its node)"},
		{"created, never started", Container{State: "up", Observed: "created", Checked: seen}, "down (never started)"},
		{"days", Container{State: "up", Observed: "exited", ExitCode: 0, Died: now.Add(-72 * time.Hour), Checked: seen}, "down (exited 0, 3d ago)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.Status(now); got != tt.want {
				t.Errorf("Status() = %q, want %q", got, tt.want)
			}
		})
	}
}
