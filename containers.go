package deis

import (
	"fmt"
	"strings"
	"time"
)

// Container is one process of an app, named type.num, on a runtime node.
type Container struct {
	App     string         `json:"app"`
	Release int            `json:"release"`
	Type    string         `json:"type"`
	Num     int            `json:"num"`
	Name    string         `json:"name"` // type.num
	Node    string         `json:"node"`
	Port    int            `json:"port"`
	State   ContainerState `json:"state"`
	Health  string         `json:"health"`
	Created time.Time      `json:"created"`
	// What the node's engine last said of it (see ContainerObservation);
	// Checked is zero until the first look.
	Observed string    `json:"observed,omitempty"`
	ExitCode int       `json:"exit_code"`
	Restarts int       `json:"restarts"`
	Died     time.Time `json:"died,omitzero"`
	Checked  time.Time `json:"checked,omitzero"`
}

// ContainerState is where a container stands in its release's rollout.
type ContainerState string

// Container states.
const (
	ContainerStarting ContainerState = "starting" // new, not yet taking traffic
	ContainerUp       ContainerState = "up"       // healthy and behind the proxies
	ContainerDraining ContainerState = "draining" // out of the proxies, about to go
)

// Observed states of a container on its node, besides the engine's own
// (running, restarting, exited, created, paused, dead).
const (
	ObservedRunning = "running"
	// ObservedMissing: the node has no such container.
	ObservedMissing = "missing"
)

// ContainerObservation is what a node's engine says of one container of
// an app: recorded on every converge and on a refresh.
type ContainerObservation struct {
	App      string
	Type     string
	Num      int
	Release  int
	State    string // the engine's state
	ExitCode int
	Restarts int
	Died     time.Time // when it last exited; zero if never
}

// Down reports whether the container was seen not running on its node.
func (c Container) Down() bool {
	return !c.Checked.IsZero() && c.Observed != ObservedRunning
}

// Status is the container's state for people, from its lifecycle state
// and what its node last said: "up", "starting", "draining",
// "down (exited 1, 3 restarts, 2m ago)", "up (1 restart, 5m ago)".
func (c Container) Status(now time.Time) string {
	switch {
	case c.State != ContainerUp: // starting, draining: a rollout is on it
		return string(c.State)
	case c.Observed == ObservedMissing:
		return "down (missing on its node)"
	case c.Down():
		return "down (" + c.exitSummary(now) + ")"
	case c.Restarts > 0:
		return "up (" + c.exitSummary(now) + ")"
	}
	return string(c.State)
}

func (c Container) exitSummary(now time.Time) string {
	var parts []string
	switch {
	case c.Observed == "created":
		parts = append(parts, "never started")
	case c.Observed == ObservedRunning:
		// Running again: the engine keeps no exit code of the last exit.
	case !c.Died.IsZero() || c.ExitCode != 0:
		parts = append(parts, fmt.Sprintf("exited %d", c.ExitCode))
	}
	if c.Restarts > 0 {
		s := "s"
		if c.Restarts == 1 {
			s = ""
		}
		parts = append(parts, fmt.Sprintf("%d restart%s", c.Restarts, s))
	}
	if !c.Died.IsZero() {
		parts = append(parts, ago(now.Sub(c.Died))+" ago")
	}
	if len(parts) == 0 {
		return c.Observed
	}
	return strings.Join(parts, ", ")
}

// ago is a duration in its largest whole unit: 45s, 2m, 3h, 4d.
func ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", max(int(d/time.Second), 0))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	}
	return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
}
