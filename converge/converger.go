package converge

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/deis/deis/client"
	"github.com/deis/deis/nodes"
	"github.com/deis/deis/recipes"
	"github.com/deis/deis/store"
	"golang.org/x/sync/errgroup"
)

// Paths on nodes.
const (
	AgentPath = "/var/lib/deis/bin/deis-node"
	SlugDir   = "/var/lib/deis/slugs"
)

// Store is what the converger needs of the store.
type Store interface {
	GetFormation(ctx context.Context, v store.Viewer, id string) (client.Formation, error)
	ListLayers(ctx context.Context, formation string, p store.PageReq) ([]client.Layer, int, error)
	ListNodes(ctx context.Context, formation string, p store.PageReq) ([]client.Node, int, error)
	ListFormationApps(ctx context.Context, formation string) ([]client.App, error)
	ListFormationContainers(ctx context.Context, formation string) ([]client.Container, error)
	ReplaceContainers(ctx context.Context, app string, cs []client.Container) error
	GetApp(ctx context.Context, v store.Viewer, id string) (client.App, error)
	GetRelease(ctx context.Context, app string, version int) (client.Release, error)
	ListReleases(ctx context.Context, app string, p store.PageReq) ([]client.Release, int, error)
	SetReleaseStatus(ctx context.Context, app string, version int, status, errMsg string) error
	GetBuild(ctx context.Context, app, uuid string) (client.Build, error)
	GetConfigVersion(ctx context.Context, app string, version int) (client.Config, error)
}

// Sessions opens SSH sessions to nodes.
type Sessions interface {
	Session(ctx context.Context, f client.Formation, n client.Node) (*nodes.Session, error)
}

// Images provides the runner image and streams it to nodes.
type Images interface {
	EnsureRunner(ctx context.Context) (string, error)
	Save(ctx context.Context, image string) (io.ReadCloser, error)
}

// Progress receives progress lines.
type Progress interface {
	Printf(format string, a ...any)
}

// Converger brings nodes to their desired state and rolls out releases.
type Converger struct {
	Store    Store
	Sessions Sessions
	Images   Images
	// Agent is the path of the deis-node binary the controller uploads.
	Agent string
	// Slugs is the controller's slug directory: <sha256>.tgz files it
	// uploads to the nodes that need them.
	Slugs         string
	Log           *slog.Logger
	Parallel      int
	Drain         time.Duration
	HealthTimeout time.Duration
	StepTimeout   time.Duration

	agentOnce sync.Once
	agentSum  string
	agentErr  error

	mu    sync.Mutex
	locks map[string]*sync.Mutex // one rollout per app at a time
}

// World loads everything formation f's databags are rendered from.
func (c *Converger) World(ctx context.Context, f client.Formation) (World, error) {
	w := World{Formation: f, HealthTimeout: c.HealthTimeout, SlugURL: func(b client.Build) string { return b.SlugURL }}
	var err error
	if w.Layers, _, err = c.Store.ListLayers(ctx, f.ID, store.PageReq{}); err != nil {
		return w, err
	}
	if w.Nodes, _, err = c.Store.ListNodes(ctx, f.ID, store.PageReq{}); err != nil {
		return w, err
	}
	apps, err := c.Store.ListFormationApps(ctx, f.ID)
	if err != nil {
		return w, err
	}
	all, err := c.Store.ListFormationContainers(ctx, f.ID)
	if err != nil {
		return w, err
	}
	for _, a := range apps {
		st := AppState{App: a, Releases: map[int]Release{}}
		for _, ctr := range all {
			if ctr.App != a.ID {
				continue
			}
			st.Containers = append(st.Containers, ctr)
			if _, ok := st.Releases[ctr.Release]; !ok {
				r, err := c.loadRelease(ctx, a.ID, ctr.Release)
				if err != nil {
					return w, err
				}
				st.Releases[ctr.Release] = r
			}
		}
		w.Apps = append(w.Apps, st)
	}
	if len(all) > 0 {
		if w.RunnerImage, err = c.Images.EnsureRunner(ctx); err != nil {
			return w, fmt.Errorf("runner image: %w", err)
		}
	}
	return w, nil
}

func (c *Converger) loadRelease(ctx context.Context, app string, version int) (Release, error) {
	rel, err := c.Store.GetRelease(ctx, app, version)
	if err != nil {
		return Release{}, err
	}
	if rel.Build == "" {
		return Release{}, fmt.Errorf("release v%d of %s has no build", version, app)
	}
	b, err := c.Store.GetBuild(ctx, app, rel.Build)
	if err != nil {
		return Release{}, err
	}
	cfg, err := c.Store.GetConfigVersion(ctx, app, rel.Config)
	if err != nil {
		return Release{}, err
	}
	return Release{Version: version, Build: b, Config: cfg.Values}, nil
}

// NodeResult is one node's converge.
type NodeResult struct {
	Node   string
	Report recipes.AgentReport
	Err    error
}

// Failed reports whether the node's converge failed, and why.
func (r NodeResult) Failed() (bool, string) {
	if r.Err != nil {
		return true, r.Err.Error()
	}
	var msgs []string
	for _, res := range r.Report.Resources {
		if res.Result == recipes.Failed {
			msgs = append(msgs, res.Resource+": "+res.Message)
		}
	}
	if r.Report.Error != "" {
		msgs = append(msgs, r.Report.Error)
	}
	return len(msgs) > 0, strings.Join(msgs, "; ")
}

// Nodes converges the named nodes of the world (all when ids is nil) in
// parallel, with a bounded fan-out.
func (c *Converger) Nodes(ctx context.Context, w World, ids []string, p Progress) ([]NodeResult, error) {
	dbs, err := Render(w)
	if err != nil {
		return nil, err
	}
	var targets []client.Node
	for _, n := range w.Nodes {
		switch {
		case ids == nil && n.Status.State == nodes.StateLost:
			p.Printf("%s: skipped: its machine is gone (lost)", n.ID)
		case ids == nil || contains(ids, n.ID):
			targets = append(targets, n)
		}
	}
	results := make([]NodeResult, len(targets))
	g := errgroup.Group{}
	g.SetLimit(max(c.Parallel, 1))
	for i, n := range targets {
		g.Go(func() error {
			start := time.Now()
			rep, err := c.node(ctx, w.Formation, n, dbs[n.ID])
			results[i] = NodeResult{Node: n.ID, Report: rep, Err: err}
			p.Printf("%s: %s in %s", n.ID, summary(results[i]), time.Since(start).Round(10*time.Millisecond))
			return nil
		})
	}
	g.Wait()
	return results, nil
}

func contains(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func summary(r NodeResult) string {
	if failed, why := r.Failed(); failed {
		return "failed: " + why
	}
	counts := map[string]int{}
	for _, res := range r.Report.Resources {
		counts[res.Result]++
	}
	return fmt.Sprintf("%d changed, %d unchanged", counts[recipes.Changed], counts[recipes.Unchanged])
}

// node converges one node: agent, runner image and slugs in place, then the
// agent applies the databag.
func (c *Converger) node(ctx context.Context, f client.Formation, n client.Node, db recipes.Databag) (recipes.AgentReport, error) {
	ctx, cancel := context.WithTimeout(ctx, max(c.StepTimeout, time.Minute))
	defer cancel()
	s, err := c.Sessions.Session(ctx, f, n)
	if err != nil {
		return recipes.AgentReport{}, err
	}
	var image string
	var slugs []string
	if db.Runtime != nil && len(db.Runtime.Containers) > 0 {
		image = db.Runtime.Containers[0].Image
		slugs = c.localSlugs(db.Runtime.Containers)
	}
	facts, err := probe(ctx, s, image, slugs)
	if err != nil {
		return recipes.AgentReport{}, err
	}
	if err := c.ensureAgent(ctx, s, facts.agent); err != nil {
		return recipes.AgentReport{}, err
	}
	if image != "" && !facts.image {
		if err := c.loadImage(ctx, s, image); err != nil {
			return recipes.AgentReport{}, err
		}
	}
	if err := c.uploadSlugs(ctx, s, facts.missing); err != nil {
		return recipes.AgentReport{}, err
	}
	in, err := json.Marshal(db)
	if err != nil {
		return recipes.AgentReport{}, err
	}
	res, err := s.Run(ctx, AgentPath+" apply", bytes.NewReader(in))
	if err != nil {
		return recipes.AgentReport{}, err
	}
	var rep recipes.AgentReport
	if err := json.Unmarshal(res.Stdout, &rep); err != nil {
		return rep, fmt.Errorf("agent on %s exited %d without a report: %s", n.ID, res.ExitCode, lastLine(res.Stderr))
	}
	return rep, nil
}

// nodeFacts is what one probe command learns of a node before a converge.
type nodeFacts struct {
	agent   string   // sha256 of the installed agent, "" if none
	image   bool     // the runner image is loaded
	missing []string // slugs (sha256) the controller has and the node lacks
}

// probe asks the node, in one round trip, for its agent's checksum,
// whether it has the runner image and which of the slugs it lacks.
func probe(ctx context.Context, s *nodes.Session, image string, slugs []string) (nodeFacts, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "echo agent $(sha256sum %s 2>/dev/null | cut -d' ' -f1)\n", AgentPath)
	if image != "" {
		fmt.Fprintf(&b, "docker image inspect %s >/dev/null 2>&1 && echo image\n", image)
	}
	for _, sum := range slugs {
		fmt.Fprintf(&b, "test -f %s/%s.tgz || echo missing %s\n", SlugDir, sum, sum)
	}
	b.WriteString("true\n")
	res, err := s.Run(ctx, "sh -s", strings.NewReader(b.String()))
	if err != nil {
		return nodeFacts{}, err
	}
	var f nodeFacts
	for _, line := range strings.Split(string(res.Stdout), "\n") {
		switch fields := strings.Fields(line); {
		case len(fields) == 2 && fields[0] == "agent":
			f.agent = fields[1]
		case len(fields) == 1 && fields[0] == "image":
			f.image = true
		case len(fields) == 2 && fields[0] == "missing":
			f.missing = append(f.missing, fields[1])
		}
	}
	return f, nil
}

// ensureAgent uploads the agent when the node's differs.
func (c *Converger) ensureAgent(ctx context.Context, s *nodes.Session, installed string) error {
	c.agentOnce.Do(func() { c.agentSum, c.agentErr = recipes.FileSHA256(c.Agent) })
	if c.agentErr != nil {
		return fmt.Errorf("node agent %s: %w", c.Agent, c.agentErr)
	}
	if installed == c.agentSum {
		return nil
	}
	f, err := os.Open(c.Agent)
	if err != nil {
		return err
	}
	defer f.Close()
	return s.Upload(ctx, AgentPath, f, 0o755)
}

// loadImage streams the runner image from the controller's engine into the
// node's.
func (c *Converger) loadImage(ctx context.Context, s *nodes.Session, image string) error {
	rc, err := c.Images.Save(ctx, image)
	if err != nil {
		return fmt.Errorf("saving %s: %w", image, err)
	}
	defer rc.Close()
	res, err := s.Run(ctx, "docker load -q", rc)
	if err != nil {
		return fmt.Errorf("loading %s on %s: %w", image, s.Node.ID, err)
	}
	if res.ExitCode != 0 {
		return fmt.Errorf("loading %s on %s: %s", image, s.Node.ID, lastLine(res.Stderr))
	}
	return nil
}

// localSlugs returns the slugs of specs the controller stores itself.
func (c *Converger) localSlugs(specs []recipes.ContainerSpec) []string {
	var out []string
	for _, spec := range specs {
		sum := spec.Slug.SHA256
		if !validSum(sum) || slices.Contains(out, sum) {
			continue
		}
		if _, err := os.Stat(filepath.Join(c.Slugs, sum+".tgz")); err == nil {
			out = append(out, sum)
		}
	}
	return out
}

// uploadSlugs copies the named slugs to the node.
func (c *Converger) uploadSlugs(ctx context.Context, s *nodes.Session, sums []string) error {
	for _, sum := range sums {
		f, err := os.Open(filepath.Join(c.Slugs, sum+".tgz"))
		if err != nil {
			return err
		}
		err = s.Upload(ctx, SlugDir+"/"+sum+".tgz", f, 0o644)
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func validSum(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}
