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
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/deis/deis"
	"github.com/deis/deis/nodes"
	"github.com/deis/deis/recipes"
	"github.com/deis/deis/slugs"
	"github.com/deis/deis/store"
	"golang.org/x/sync/errgroup"
)

// AgentPath is where the node agent is installed on nodes; slugs go to
// the node's slug cache, recipes.SlugDir.
const AgentPath = "/var/lib/deis/bin/deis-node"

// Store is what the converger needs of the store.
type Store interface {
	GetFormation(ctx context.Context, v store.Viewer, id string) (deis.Formation, error)
	ListLayers(ctx context.Context, formation string, p store.PageReq) ([]deis.Layer, int, error)
	ListNodes(ctx context.Context, formation string, p store.PageReq) ([]deis.Node, int, error)
	ListFormationApps(ctx context.Context, formation string) ([]deis.App, error)
	ListFormationContainers(ctx context.Context, formation string) ([]deis.Container, error)
	ReplaceContainers(ctx context.Context, app string, cs []deis.Container) error
	ListContainers(ctx context.Context, app string, p store.PageReq) ([]deis.Container, int, error)
	ObserveContainers(ctx context.Context, node, app string, obs []deis.ContainerObservation, at time.Time) error
	AppUsesSlug(ctx context.Context, app, sum string) (bool, error)
	GetApp(ctx context.Context, v store.Viewer, id string) (deis.App, error)
	GetRelease(ctx context.Context, app string, version int) (deis.Release, error)
	ListReleases(ctx context.Context, app string, p store.PageReq) ([]deis.Release, int, error)
	SetReleaseStatus(ctx context.Context, app string, version int, status deis.ReleaseStatus, errMsg string) error
	GetBuild(ctx context.Context, app, uuid string) (deis.Build, error)
	GetConfigVersion(ctx context.Context, app string, version int) (deis.Config, error)
}

// Node is a node as the converger reaches it: a command with stdin, and
// an atomic file upload. nodes.Session is the real one (SSH and SFTP over
// the pooled connection); convergetest has a fake.
type Node interface {
	Run(ctx context.Context, cmd string, stdin io.Reader) (nodes.Result, error)
	Upload(ctx context.Context, dst string, r io.Reader, mode os.FileMode) error
}

// Dialer reaches the nodes of formations.
type Dialer interface {
	Dial(ctx context.Context, f deis.Formation, n deis.Node) (Node, error)
}

// DialFunc is a function that is a Dialer.
type DialFunc func(ctx context.Context, f deis.Formation, n deis.Node) (Node, error)

// Dial calls d.
func (d DialFunc) Dial(ctx context.Context, f deis.Formation, n deis.Node) (Node, error) {
	return d(ctx, f, n)
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
	Store  Store
	Dialer Dialer
	Images Images
	// Agent is the path of the deis-node binary the controller uploads.
	Agent string
	// Slugs is the controller's slug store: it uploads slugs to the nodes
	// that need them.
	Slugs         slugs.Store
	Log           *slog.Logger
	Parallel      int
	Drain         time.Duration
	HealthTimeout time.Duration
	// Grace is how long new containers of types other than web must keep
	// running to be healthy.
	Grace       time.Duration
	StepTimeout time.Duration

	lastGen atomic.Int64 // the newest databag generation handed out

	agentOnce sync.Once
	agentSum  string
	agentErr  error

	mu    sync.Mutex
	locks map[string]*sync.Mutex // one rollout per app at a time
}

// log is the converger's logger, discarding when it has none.
func (c *Converger) log() *slog.Logger {
	if c.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Log
}

// World loads everything formation f's databags are rendered from.
func (c *Converger) World(ctx context.Context, f deis.Formation) (World, error) {
	w := World{Formation: f, HealthTimeout: c.HealthTimeout, Grace: c.Grace, SlugURL: func(b deis.Build) string { return b.SlugURL }}
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
	// Runtime nodes keep the runner image loaded, so it is needed as soon
	// as there is one; but only containers make its absence an error (a
	// controller without an engine may still manage empty nodes).
	if len(all) > 0 || hasRuntime(w) {
		if w.RunnerImage, err = c.Images.EnsureRunner(ctx); err != nil {
			if len(all) > 0 {
				return w, fmt.Errorf("runner image: %w", err)
			}
			c.log().Debug("no runner image for the formation's empty runtime nodes", "formation", f.ID, "err", err)
		}
	}
	return w, nil
}

// generation is a databag generation newer than every one before: the
// time in nanoseconds, or one more than the last when the clock did not
// move on.
func (c *Converger) generation() int64 {
	for {
		last, now := c.lastGen.Load(), time.Now().UnixNano()
		next := max(now, last+1)
		if c.lastGen.CompareAndSwap(last, next) {
			return next
		}
	}
}

// hasRuntime reports whether the world has a runtime node.
func hasRuntime(w World) bool {
	return len(runtimeNodes(w)) > 0
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

// Converge brings the named nodes of formation f (all when ids is nil) to
// the state the store holds now. Converges of one formation run one at a
// time, each rendering the world only once the one before has applied:
// every node's databag names every app's containers, and a databag
// rendered before another app's rollout wrote its new containers would
// remove them. Converges of different formations run in parallel.
func (c *Converger) Converge(ctx context.Context, f deis.Formation, ids []string, p Progress) ([]NodeResult, error) {
	l := c.lock("formation/" + f.ID)
	l.Lock()
	defer l.Unlock()
	w, err := c.World(ctx, f)
	if err != nil {
		return nil, err
	}
	return c.nodes(ctx, w, ids, p)
}

// nodes converges the named nodes of the world (all when ids is nil) in
// parallel, with a bounded fan-out. The caller holds the formation's lock.
func (c *Converger) nodes(ctx context.Context, w World, ids []string, p Progress) ([]NodeResult, error) {
	dbs, err := Render(w)
	if err != nil {
		return nil, err
	}
	gen := c.generation()
	for id, db := range dbs {
		db.Generation = gen
		dbs[id] = db
	}
	var targets []deis.Node
	for _, n := range w.Nodes {
		switch {
		case ids == nil && n.Status.State == deis.NodeLost:
			p.Printf("%s: skipped: its machine is gone (lost)", n.ID)
		case ids == nil || contains(ids, n.ID):
			targets = append(targets, n)
		}
	}
	return c.fanOut(targets, func(n deis.Node) NodeResult {
		start := time.Now()
		rep, err := c.node(ctx, w.Formation, n, dbs[n.ID])
		r := NodeResult{Node: n.ID, Report: rep, Err: err}
		if err == nil && rep.Containers != nil {
			// What the engine says now: a container that died shows.
			if oerr := c.Store.ObserveContainers(ctx, n.ID, "", observations(rep.Containers), time.Now()); oerr != nil {
				c.log().Warn("recording container states", "node", n.ID, "err", oerr)
			}
		}
		p.Printf("%s: %s in %s", n.ID, summary(r), time.Since(start).Round(10*time.Millisecond))
		return r
	}), nil
}

// fanOut runs do on every node, at most Parallel at once, and returns the
// results in the nodes' order.
func (c *Converger) fanOut(targets []deis.Node, do func(deis.Node) NodeResult) []NodeResult {
	results := make([]NodeResult, len(targets))
	g := errgroup.Group{}
	g.SetLimit(max(c.Parallel, 1))
	for i, n := range targets {
		g.Go(func() error {
			results[i] = do(n)
			return nil
		})
	}
	g.Wait()
	return results
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
// agent applies the databag. The common case (all in place) is one SSH
// round trip: a preflight script checks, then execs the agent. Otherwise
// the script prints what is missing, which is put in place before the
// agent runs.
func (c *Converger) node(ctx context.Context, f deis.Formation, n deis.Node, db recipes.Databag) (recipes.AgentReport, error) {
	ctx, cancel := context.WithTimeout(ctx, max(c.StepTimeout, time.Minute))
	defer cancel()
	start := time.Now()
	if err := c.agentChecksum(); err != nil {
		return recipes.AgentReport{}, err
	}
	s, image, slugs, in, err := c.prepare(ctx, f, n, db)
	if err != nil {
		return recipes.AgentReport{}, err
	}
	res, err := s.Run(ctx, preflight(c.agentSum, image, slugs, "apply"), bytes.NewReader(in))
	if err != nil {
		return recipes.AgentReport{}, err
	}
	prepared := false
	if res.ExitCode == preflightMissing {
		facts := parseFacts(res.Stdout)
		if facts.agent != c.agentSum {
			if err := c.uploadAgent(ctx, s); err != nil {
				return recipes.AgentReport{}, err
			}
		}
		if image != "" && !facts.image {
			if err := c.loadImage(ctx, s, n.ID, image, facts.imageFile); err != nil {
				return recipes.AgentReport{}, err
			}
		}
		if err := c.uploadSlugs(ctx, s, facts.missing); err != nil {
			return recipes.AgentReport{}, err
		}
		if res, err = s.Run(ctx, AgentPath+" apply", bytes.NewReader(in)); err != nil {
			return recipes.AgentReport{}, err
		}
		prepared = true
	}
	if c.Log != nil {
		c.log().Debug("node converged", "node", n.ID, "prepared", prepared, "duration", time.Since(start))
	}
	var rep recipes.AgentReport
	if err := json.Unmarshal(res.Stdout, &rep); err != nil {
		return rep, fmt.Errorf("agent on %s exited %d without a report: %s", n.ID, res.ExitCode, lastLine(res.Stderr))
	}
	return rep, nil
}

// Plan reports, per node, what a converge of nodes ids (every node when
// nil) would change, changing nothing: what would be uploaded or loaded,
// then what the agent would do (deis-node plan). A node whose agent is out
// of date reports only that: its plan needs the new agent.
func (c *Converger) Plan(ctx context.Context, w World, ids []string) ([]NodeResult, error) {
	dbs, err := Render(w)
	if err != nil {
		return nil, err
	}
	if err := c.agentChecksum(); err != nil {
		return nil, err
	}
	var targets []deis.Node
	for _, n := range w.Nodes {
		if ids == nil && n.Status.State != deis.NodeLost || contains(ids, n.ID) {
			targets = append(targets, n)
		}
	}
	return c.fanOut(targets, func(n deis.Node) NodeResult {
		rep, err := c.planNode(ctx, w.Formation, n, dbs[n.ID])
		return NodeResult{Node: n.ID, Report: rep, Err: err}
	}), nil
}

func (c *Converger) planNode(ctx context.Context, f deis.Formation, n deis.Node, db recipes.Databag) (recipes.AgentReport, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	s, image, slugs, in, err := c.prepare(ctx, f, n, db)
	if err != nil {
		return recipes.AgentReport{}, err
	}
	res, err := s.Run(ctx, preflight(c.agentSum, image, slugs, "plan"), bytes.NewReader(in))
	if err != nil {
		return recipes.AgentReport{}, err
	}
	var pre []recipes.ResourceResult
	if res.ExitCode == preflightMissing {
		facts := parseFacts(res.Stdout)
		would := func(resource, msg string) {
			pre = append(pre, recipes.ResourceResult{Resource: resource, Result: recipes.WouldChange, Message: msg})
		}
		if image != "" && !facts.image {
			would("runner_image:"+image, "load from "+imageSource(facts.imageFile))
		}
		for _, sum := range facts.missing {
			would("slug_upload:"+shortSum(sum), "upload from the controller")
		}
		if facts.agent != c.agentSum {
			would("agent:"+AgentPath, "upload (the node's resources are planned once it runs the new agent)")
			return recipes.AgentReport{Node: n.ID, Resources: pre}, nil
		}
		if res, err = s.Run(ctx, AgentPath+" plan", bytes.NewReader(in)); err != nil {
			return recipes.AgentReport{}, err
		}
	}
	var rep recipes.AgentReport
	if err := json.Unmarshal(res.Stdout, &rep); err != nil {
		return rep, fmt.Errorf("agent on %s exited %d without a plan: %s", n.ID, res.ExitCode, lastLine(res.Stderr))
	}
	rep.Resources = append(pre, rep.Resources...)
	return rep, nil
}

// prepare opens a session on n and returns what its preflight needs: the
// runner image and the slugs the controller holds for db, and db as JSON.
func (c *Converger) prepare(ctx context.Context, f deis.Formation, n deis.Node, db recipes.Databag) (s Node, image string, slugs []string, in []byte, err error) {
	if s, err = c.Dialer.Dial(ctx, f, n); err != nil {
		return nil, "", nil, nil, err
	}
	if db.Runtime != nil {
		image = db.Runtime.Image
		slugs = c.localSlugs(ctx, db.Runtime.Containers)
	}
	in, err = json.Marshal(db)
	return s, image, slugs, in, err
}

func shortSum(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// preflightMissing is the preflight script's exit code when something must
// be put in place before the agent runs.
const preflightMissing = 97

// nodeFacts is what the preflight learns of a node that is not ready.
type nodeFacts struct {
	agent     string   // "sha256 size" of the installed agent, as recorded at upload
	image     bool     // the runner image is loaded
	imageFile bool     // the node sees the image's archive (docker nodes)
	missing   []string // slugs (sha256) the controller has and the node lacks
}

// preflight is a shell command that checks, in one round trip, that the
// node has the agent whose "sha256 size" is agent, the runner image and
// the slugs, and then execs the agent on the databag (stdin). Otherwise it
// prints the facts (see parseFacts) and exits preflightMissing. The
// agent's checksum is the one recorded at upload, and the image is looked
// up in dockerd's tag index before the CLI: hashing 15 MB and starting
// the docker CLI were most of a no-op converge's CPU.
func preflight(agent, image string, slugs []string, verb string) string {
	var b strings.Builder
	b.WriteString("ok=1\n")
	fmt.Fprintf(&b, "a=\"$(cat %s.sha256 2>/dev/null) $(stat -c %%s %s 2>/dev/null)\"\n", AgentPath, AgentPath)
	fmt.Fprintf(&b, "facts=\"agent $a\"; [ \"$a\" = %q ] || ok=0\n", agent)
	if image != "" {
		fmt.Fprintf(&b, "if { grep -qsF '\"%s\"' /var/lib/docker/image/*/repositories.json || docker image inspect %s >/dev/null 2>&1; }; then facts=\"$facts\nimage\"; else ok=0; ", image, image)
		fmt.Fprintf(&b, "test -f %s && facts=\"$facts\nimagefile\"; fi\n", archivePath(image))
	}
	for _, sum := range slugs {
		fmt.Fprintf(&b, "test -f %s || { facts=\"$facts\nmissing %s\"; ok=0; }\n", recipes.SlugPath(recipes.SlugDir, sum), sum)
	}
	fmt.Fprintf(&b, "[ $ok = 1 ] && exec %s %s\nprintf '%%s\\n' \"$facts\"\nexit %d\n", AgentPath, verb, preflightMissing)
	return b.String()
}

// parseFacts reads the preflight's output.
func parseFacts(out []byte) nodeFacts {
	var f nodeFacts
	for _, line := range strings.Split(string(out), "\n") {
		switch fields := strings.Fields(line); {
		case len(fields) == 3 && fields[0] == "agent":
			f.agent = fields[1] + " " + fields[2]
		case len(fields) == 1 && fields[0] == "image":
			f.image = true
		case len(fields) == 1 && fields[0] == "imagefile":
			f.imageFile = true
		case len(fields) == 2 && fields[0] == "missing":
			f.missing = append(f.missing, fields[1])
		}
	}
	return f
}

// agentChecksum computes, once, the "sha256 size" of the controller's agent
// binary.
func (c *Converger) agentChecksum() error {
	c.agentOnce.Do(func() {
		c.agentSum, c.agentErr = recipes.FileSHA256(c.Agent)
		if c.agentErr == nil {
			var fi os.FileInfo
			if fi, c.agentErr = os.Stat(c.Agent); c.agentErr == nil {
				c.agentSum += " " + strconv.FormatInt(fi.Size(), 10)
			}
		}
	})
	if c.agentErr != nil {
		return fmt.Errorf("node agent %s: %w", c.Agent, c.agentErr)
	}
	return nil
}

// uploadAgent installs the agent on the node, then records its checksum
// (a stale record only costs another upload).
func (c *Converger) uploadAgent(ctx context.Context, s Node) error {
	f, err := os.Open(c.Agent)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := s.Upload(ctx, AgentPath, f, 0o755); err != nil {
		return err
	}
	sum, _, _ := strings.Cut(c.agentSum, " ")
	return s.Upload(ctx, AgentPath+".sha256", strings.NewReader(sum+"\n"), 0o644)
}

// loadImage loads the runner image into the node's engine: from its
// archive when the node sees it (docker nodes mount the controller's), else
// streamed from the controller over SSH.
func (c *Converger) loadImage(ctx context.Context, s Node, node, image string, fromFile bool) error {
	if fromFile {
		res, err := s.Run(ctx, "docker load -q -i "+archivePath(image), nil)
		if err == nil && res.ExitCode == 0 {
			return nil
		}
		c.log().Warn("loading the runner image from its archive on the node: streaming it instead", "node", node, "err", err, "stderr", lastLine(res.Stderr))
	}
	rc, err := c.Images.Save(ctx, image)
	if err != nil {
		return fmt.Errorf("saving %s: %w", image, err)
	}
	defer rc.Close()
	res, err := s.Run(ctx, "docker load -q", rc)
	if err != nil {
		return fmt.Errorf("loading %s on %s: %w", image, node, err)
	}
	if res.ExitCode != 0 {
		return fmt.Errorf("loading %s on %s: %s", image, node, lastLine(res.Stderr))
	}
	return nil
}

// archivePath is where a node sees image's archive, if it does.
func archivePath(image string) string {
	return nodes.NodeArchiveDir + "/" + nodes.ArchiveName(image)
}

func imageSource(fromFile bool) string {
	if fromFile {
		return "its archive on the node"
	}
	return "the controller"
}

// localSlugs returns the slugs of specs the controller stores itself and
// that their app was given: a build naming another app's slug by its
// sha256 does not get that app's bytes shipped to its nodes.
func (c *Converger) localSlugs(ctx context.Context, specs []recipes.ContainerSpec) []string {
	var out []string
	for _, spec := range specs {
		sum := spec.Slug.SHA256
		if !validSum(sum) || slices.Contains(out, sum) || !c.Slugs.Has(sum) {
			continue
		}
		if ours, err := c.Store.AppUsesSlug(ctx, spec.App, sum); err != nil || !ours {
			c.log().Warn("not shipping a slug its app was not given", "app", spec.App, "slug", shortSum(sum), "err", err)
			continue
		}
		out = append(out, sum)
	}
	return out
}

// uploadSlugs copies the named slugs to the node.
func (c *Converger) uploadSlugs(ctx context.Context, s Node, sums []string) error {
	for _, sum := range sums {
		f, err := c.Slugs.Open(sum)
		if err != nil {
			return err
		}
		err = s.Upload(ctx, recipes.SlugPath(recipes.SlugDir, sum), f, 0o644)
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
