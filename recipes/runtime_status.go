package recipes

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// ContainerStatus is what a node's engine says of one app container: the
// controller records it on every converge and on a refresh (deis ps), so
// a container that died shows as down with its exit code.
type ContainerStatus struct {
	App     string `json:"app"`
	Release int    `json:"release"`
	Type    string `json:"type"`
	Num     int    `json:"num"`
	// State is the engine's: running, restarting (waiting to be
	// restarted after an exit), exited, created, paused or dead.
	State    string `json:"state"`
	ExitCode int    `json:"exit_code"` // of its last exit
	Restarts int    `json:"restarts"`  // by the engine, since it was created
	// Finished is when it last exited; zero if it never did.
	Finished time.Time `json:"finished,omitzero"`
}

// Status reports the node's app containers (of app, or all when app is
// empty), in name order.
func (r *Runtime) Status(ctx context.Context, app string) ([]ContainerStatus, error) {
	items, err := r.list(ctx, app)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, dockerTimeout)
	defer cancel()
	slices.SortFunc(items, func(a, b container.Summary) int { return strings.Compare(summaryName(a), summaryName(b)) })
	out := make([]ContainerStatus, 0, len(items))
	for _, c := range items {
		in, err := r.Docker.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
		if isNotFound(err) {
			continue // removed since the list
		} else if err != nil {
			return nil, fmt.Errorf("inspecting %s: %w", summaryName(c), err)
		}
		st := ContainerStatus{App: c.Labels[LabelApp], Type: c.Labels[LabelType], Restarts: in.Container.RestartCount}
		st.Release, _ = strconv.Atoi(c.Labels[LabelRelease])
		st.Num, _ = strconv.Atoi(c.Labels[LabelNum])
		if s := in.Container.State; s != nil {
			st.State, st.ExitCode = string(s.Status), s.ExitCode
			if t, err := time.Parse(time.RFC3339Nano, s.FinishedAt); err == nil && t.Year() > 1 {
				st.Finished = t.UTC()
			}
		}
		out = append(out, st)
	}
	return out, nil
}
