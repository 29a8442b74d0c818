// Package convergetest has fake nodes for the converger: they take the
// agent's commands as the real agent would (apply a databag, plan, report
// container states) and keep the containers and nginx sites a node would
// have, in memory, so that rollouts and their failure paths run in unit
// tests with no SSH and no Docker. Faults are set per node.
package convergetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/deis/deis"
	"github.com/deis/deis/converge"
	"github.com/deis/deis/nodes"
	"github.com/deis/deis/recipes"
)

// Fleet is a set of fake nodes, made on first dial; it is a
// converge.Dialer.
type Fleet struct {
	mu    sync.Mutex
	nodes map[string]*Node
	// Delay, when set, is how long each apply takes: it widens the window
	// in which concurrent converges of one node could interleave.
	Delay time.Duration
	// OnApply, when set, is called as each apply starts, with the node.
	OnApply func(node string)
}

// Node returns the fake node id, making it when new.
func (f *Fleet) Node(id string) *Node {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.nodes == nil {
		f.nodes = map[string]*Node{}
	}
	if f.nodes[id] == nil {
		f.nodes[id] = &Node{ID: id, containers: map[string]recipes.ContainerSpec{}, fleet: f}
	}
	return f.nodes[id]
}

// Dial reaches node n; an Unreachable node fails.
func (f *Fleet) Dial(ctx context.Context, _ deis.Formation, n deis.Node) (converge.Node, error) {
	node := f.Node(n.ID)
	if node.Unreachable() {
		return nil, fmt.Errorf("dialing %s: connection refused", n.ID)
	}
	return node, nil
}

// Node is one fake node.
type Node struct {
	ID    string
	fleet *Fleet

	mu          sync.Mutex
	containers  map[string]recipes.ContainerSpec // running, by Docker name
	sites       []recipes.Site                   // nginx's, as last applied
	unreachable bool
	failStart   func(recipes.ContainerSpec) string
	failProxy   string
	applies     int
	active      int // applies running now
	overlapped  bool
}

// SetUnreachable makes the node refuse dials (and commands).
func (n *Node) SetUnreachable(v bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.unreachable = v
}

// Unreachable reports whether the node refuses dials.
func (n *Node) Unreachable() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.unreachable
}

// FailStart makes containers for which fail returns a message fail their
// health check with it (nil: all start).
func (n *Node) FailStart(fail func(recipes.ContainerSpec) string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.failStart = fail
}

// FailProxy makes the proxy recipe fail with msg (nginx -t refusing the
// config): the sites stay as they were ("" to stop).
func (n *Node) FailProxy(msg string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.failProxy = msg
}

// Containers lists the Docker names of the node's running app containers.
func (n *Node) Containers() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Sorted(maps.Keys(n.containers))
}

// Sites is what the node's nginx serves.
func (n *Node) Sites() []recipes.Site {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.sites)
}

// Overlapped reports whether two applies ever ran on the node at once.
func (n *Node) Overlapped() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.overlapped
}

// Run takes the converger's commands: the preflight that execs the agent
// (apply, plan, status), and docker load, which it accepts.
func (n *Node) Run(ctx context.Context, cmd string, stdin io.Reader) (nodes.Result, error) {
	if n.Unreachable() {
		return nodes.Result{}, fmt.Errorf("ssh %s: connection reset", n.ID)
	}
	switch {
	case strings.Contains(cmd, "deis-node apply"):
		return n.apply(ctx, stdin)
	case strings.Contains(cmd, "deis-node plan"):
		return n.report(recipes.AgentReport{Node: n.ID, Resources: []recipes.ResourceResult{}})
	case strings.Contains(cmd, "deis-node status"):
		return n.json(n.status())
	}
	if stdin != nil {
		io.Copy(io.Discard, stdin)
	}
	return nodes.Result{}, nil
}

// Upload accepts any file.
func (n *Node) Upload(ctx context.Context, dst string, r io.Reader, mode os.FileMode) error {
	if n.Unreachable() {
		return fmt.Errorf("sftp %s: connection reset", n.ID)
	}
	_, err := io.Copy(io.Discard, r)
	return err
}

// apply does what deis-node apply does with the databag: containers it
// names start (or fail), others go; the proxy takes the sites.
func (n *Node) apply(ctx context.Context, stdin io.Reader) (nodes.Result, error) {
	var db recipes.Databag
	if err := json.NewDecoder(stdin).Decode(&db); err != nil {
		return nodes.Result{}, fmt.Errorf("fake agent on %s: %w", n.ID, err)
	}
	n.mu.Lock()
	n.active++
	n.overlapped = n.overlapped || n.active > 1
	n.applies++
	n.mu.Unlock()
	defer func() {
		n.mu.Lock()
		n.active--
		n.mu.Unlock()
	}()
	if n.fleet.OnApply != nil {
		n.fleet.OnApply(n.ID)
	}
	if d := n.fleet.Delay; d > 0 {
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return nodes.Result{}, ctx.Err()
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	rep := recipes.AgentReport{Node: n.ID, Resources: []recipes.ResourceResult{}}
	if db.Runtime != nil {
		want := map[string]recipes.ContainerSpec{}
		for _, spec := range db.Runtime.Containers {
			want[spec.Name()] = spec
		}
		for name := range n.containers {
			if _, ok := want[name]; !ok {
				delete(n.containers, name)
				rep.Resources = append(rep.Resources, recipes.ResourceResult{Resource: "container:" + name, Result: recipes.Changed, Message: "removed"})
			}
		}
		for _, name := range slices.Sorted(maps.Keys(want)) {
			spec := want[name]
			res := recipes.ResourceResult{Resource: "container:" + name, Result: recipes.Unchanged}
			if old, ok := n.containers[name]; !ok || old.Hash() != spec.Hash() {
				res.Result, res.Message = recipes.Changed, "created"
				if n.failStart != nil {
					if msg := n.failStart(spec); msg != "" {
						res.Result, res.Message = recipes.Failed, msg
						delete(n.containers, name)
						rep.Resources = append(rep.Resources, res)
						continue
					}
				}
				n.containers[name] = spec
			}
			rep.Resources = append(rep.Resources, res)
		}
		rep.Containers = n.statusLocked()
	}
	if db.Proxy != nil {
		res := recipes.ResourceResult{Resource: "nginx_site:deis", Result: recipes.Unchanged}
		switch {
		case n.failProxy != "":
			res.Result, res.Message = recipes.Failed, n.failProxy
		case !sameSites(n.sites, db.Proxy.Sites):
			n.sites, res.Result = slices.Clone(db.Proxy.Sites), recipes.Changed
		}
		rep.Resources = append(rep.Resources, res)
	}
	return n.report(rep)
}

func sameSites(a, b []recipes.Site) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func (n *Node) status() []recipes.ContainerStatus {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.statusLocked()
}

func (n *Node) statusLocked() []recipes.ContainerStatus {
	out := []recipes.ContainerStatus{}
	for _, name := range slices.Sorted(maps.Keys(n.containers)) {
		c := n.containers[name]
		out = append(out, recipes.ContainerStatus{App: c.App, Release: c.Release, Type: c.Type, Num: c.Num, State: "running"})
	}
	return out
}

func (n *Node) report(rep recipes.AgentReport) (nodes.Result, error) {
	res, err := n.json(rep)
	if err == nil && !rep.OK() {
		res.ExitCode = 1
	}
	return res, err
}

func (n *Node) json(v any) (nodes.Result, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nodes.Result{}, errors.New("fake agent: " + err.Error())
	}
	return nodes.Result{Stdout: b}, nil
}

var _ converge.Dialer = (*Fleet)(nil)
var _ converge.Node = (*Node)(nil)
