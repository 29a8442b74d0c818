package recipes

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/deis/deis"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

// Labels on the app containers the runtime recipe runs. A container with
// LabelApp is deis's: the recipe removes it when the databag does not name it.
const (
	LabelApp     = "deis.app"
	LabelRelease = "deis.release"
	LabelType    = "deis.type"
	LabelNum     = "deis.num"
	LabelSpec    = "deis.spec" // ContainerSpec.Hash()
	// LabelOwner scopes a Runtime with an Owner (tests sharing one engine).
	LabelOwner = "deis.owner"
)

// DefaultHealthTimeout bounds the health check when RuntimeState has none.
const DefaultHealthTimeout = 30 * time.Second

// DefaultGrace is how long a new non-web container must keep running when
// RuntimeState has no Grace.
const DefaultGrace = 3 * time.Second

// Name is the container's Docker name, deis-<app>-v<release>-<type>.<num>:
// two releases of an app run side by side during a rollout.
func (c ContainerSpec) Name() string {
	return fmt.Sprintf("deis-%s-v%d-%s.%d", c.App, c.Release, c.Type, c.Num)
}

// Hash is the hex sha256 of c's canonical JSON (struct fields in order, map
// keys sorted): a container whose LabelSpec equals it needs no change.
func (c ContainerSpec) Hash() string {
	b, err := json.Marshal(c)
	if err != nil {
		panic(err) // strings, ints and a map[string]string always marshal
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// runtimeDocker is the part of the Docker engine API the runtime recipe uses.
type runtimeDocker interface {
	ImageInspect(ctx context.Context, image string, opts ...client.ImageInspectOption) (client.ImageInspectResult, error)
	ContainerList(ctx context.Context, opts client.ContainerListOptions) (client.ContainerListResult, error)
	ContainerInspect(ctx context.Context, id string, opts client.ContainerInspectOptions) (client.ContainerInspectResult, error)
	ContainerCreate(ctx context.Context, opts client.ContainerCreateOptions) (client.ContainerCreateResult, error)
	CopyToContainer(ctx context.Context, id string, opts client.CopyToContainerOptions) (client.CopyToContainerResult, error)
	ContainerStart(ctx context.Context, id string, opts client.ContainerStartOptions) (client.ContainerStartResult, error)
	ContainerStop(ctx context.Context, id string, opts client.ContainerStopOptions) (client.ContainerStopResult, error)
	ContainerRemove(ctx context.Context, id string, opts client.ContainerRemoveOptions) (client.ContainerRemoveResult, error)
	ContainerLogs(ctx context.Context, id string, opts client.ContainerLogsOptions) (client.ContainerLogsResult, error)
	ContainerUpdate(ctx context.Context, id string, opts client.ContainerUpdateOptions) (client.ContainerUpdateResult, error)
}

// Runtime is the runtime recipe: it fetches slugs and runs, replaces and
// removes app containers on the node's Docker engine until they match a
// RuntimeState.
type Runtime struct {
	Docker runtimeDocker // *client.Client
	// SlugDir holds the slugs; SlugDir (the constant) on a node.
	SlugDir string
	// HTTP downloads slugs; nil means a client with a 10 minute timeout.
	HTTP *http.Client
	Log  *slog.Logger
	// Owner, when set, labels the containers this Runtime makes and limits
	// it to them, so that several can share one engine. Empty on a node.
	Owner string
	// StopTimeout is how long a removed container gets to exit after
	// SIGTERM (default 5s: it is already out of the proxy).
	StopTimeout time.Duration
}

// Timeouts of single Docker calls.
const (
	dockerTimeout = 30 * time.Second
	copyTimeout   = 5 * time.Minute
	pollInterval  = 100 * time.Millisecond
)

// Apply brings the node's app containers to st and reports on every slug
// and container. The error is for what stops the whole recipe (the engine
// cannot be listed); a failed resource is a failed result.
func (r *Runtime) Apply(ctx context.Context, st RuntimeState) ([]ResourceResult, error) {
	existing, err := r.list(ctx, "")
	if err != nil {
		return nil, err
	}
	p := planRuntime(st.Containers, existing)
	var results []ResourceResult
	slugErr := make(map[string]string)
	for _, ref := range p.slugs {
		res := r.slugResource(ctx, ref)
		if res.Result == Failed {
			slugErr[ref.SHA256] = res.Message
		}
		results = append(results, res)
	}
	// Removals run in parallel: each waits up to StopTimeout for its
	// container to exit (sh -c as PID 1 ignores SIGTERM, so usually all of it).
	removed := make([]ResourceResult, len(p.remove))
	var wg sync.WaitGroup
	for i, c := range p.remove {
		wg.Go(func() { removed[i] = r.removeResource(ctx, c) })
	}
	wg.Wait()
	results = append(results, removed...)
	return append(results, r.converge(ctx, p.containers, slugErr, st.health())...), nil
}

// health is how new containers are judged healthy: web by its port within
// a timeout, other types by running for a grace period.
type health struct {
	timeout, grace time.Duration
}

func (st RuntimeState) health() health {
	h := health{timeout: st.HealthTimeout, grace: st.Grace}
	if h.timeout <= 0 {
		h.timeout = DefaultHealthTimeout
	}
	if h.grace <= 0 {
		h.grace = DefaultGrace
	}
	return h
}

// converge creates what steps need created, then waits for the new
// containers' health in parallel.
func (r *Runtime) converge(ctx context.Context, steps []containerStep, slugErr map[string]string, h health) []ResourceResult {
	out := make([]ResourceResult, len(steps))
	images := make(map[string]error)
	var wg sync.WaitGroup
	for i, s := range steps {
		start := time.Now()
		res := ResourceResult{Resource: "container:" + s.spec.Name(), Result: Failed, Message: s.reason}
		switch {
		case s.invalid:
		case !s.create:
			res.Result = Unchanged
		case slugErr[s.spec.Slug.SHA256] != "":
			res.Message = "slug " + shortSHA(s.spec.Slug.SHA256) + ": " + slugErr[s.spec.Slug.SHA256]
		default:
			id, err := r.create(ctx, s, images)
			if err == nil {
				wg.Go(func() { out[i] = r.healthResource(ctx, id, s, h, start) })
				continue
			}
			res.Message = oneLine(err.Error())
		}
		res.Duration = time.Since(start)
		out[i] = res
	}
	wg.Wait()
	return out
}

// healthResource waits for a created container to be healthy and reports
// it.
func (r *Runtime) healthResource(ctx context.Context, id string, s containerStep, h health, start time.Time) ResourceResult {
	res := ResourceResult{Resource: "container:" + s.spec.Name(), Result: Changed, Message: s.reason}
	var err error
	if s.spec.Type == deis.WebType {
		err = r.awaitHealthy(ctx, id, s.spec, h.timeout)
	} else {
		err = r.awaitRunning(ctx, id, h.grace)
	}
	if err != nil {
		res.Result = Failed
		res.Message = oneLine(fmt.Sprintf("%s; unhealthy: %v; last log: %s", s.reason, err, r.lastLog(ctx, id)))
		r.logger().Warn("container unhealthy", "container", s.spec.Name(), "err", err)
	} else {
		r.logger().Info("container healthy", "container", s.spec.Name(), "reason", s.reason)
	}
	res.Duration = time.Since(start)
	return res
}

// list returns deis's containers on the engine (of app, or of every app
// when app is empty), running or not.
func (r *Runtime) list(ctx context.Context, app string) ([]container.Summary, error) {
	ctx, cancel := context.WithTimeout(ctx, dockerTimeout)
	defer cancel()
	f := make(client.Filters).Add("label", LabelApp)
	if app != "" {
		f = make(client.Filters).Add("label", LabelApp+"="+app)
	}
	if r.Owner != "" {
		f.Add("label", LabelOwner+"="+r.Owner)
	}
	res, err := r.Docker.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	return res.Items, nil
}

// containerStep is what the plan does with one desired container.
type containerStep struct {
	spec    ContainerSpec
	hash    string
	oldID   string // the container of that name, if any: kept or replaced
	create  bool
	invalid bool   // the spec cannot be run: reason says why
	reason  string // created, spec changed, not running, or what is invalid
}

// runtimePlan is what Apply does, computed before it does anything.
type runtimePlan struct {
	slugs      []SlugRef // distinct, in the order the specs name them
	containers []containerStep
	remove     []container.Summary
}

// planRuntime compares the desired containers with the existing ones.
func planRuntime(desired []ContainerSpec, existing []container.Summary) runtimePlan {
	byName := make(map[string]container.Summary, len(existing))
	for _, c := range existing {
		byName[summaryName(c)] = c
	}
	var p runtimePlan
	seenSlug := make(map[string]bool)
	wanted := make(map[string]bool)
	for _, spec := range desired {
		s := containerStep{spec: spec, hash: spec.Hash()}
		name := spec.Name()
		old, exists := byName[name]
		switch err := validateSpec(spec); {
		case err != nil:
			s.invalid, s.reason = true, err.Error()
		case wanted[name]:
			s.invalid, s.reason = true, "duplicate container "+name+" in the databag"
		case !exists:
			s.create, s.reason = true, "created"
		case old.Labels[LabelSpec] != s.hash:
			s.create, s.reason, s.oldID = true, "replaced: spec changed", old.ID
		case old.State != container.StateRunning:
			s.create, s.reason, s.oldID = true, "replaced: was "+string(old.State), old.ID
		default:
			s.oldID = old.ID
		}
		if exists {
			wanted[name] = true // an invalid spec still keeps its container
		}
		if !s.invalid {
			wanted[name] = true
			if !seenSlug[spec.Slug.SHA256] {
				seenSlug[spec.Slug.SHA256] = true
				p.slugs = append(p.slugs, spec.Slug)
			}
		}
		p.containers = append(p.containers, s)
	}
	for _, c := range existing {
		if !wanted[summaryName(c)] {
			p.remove = append(p.remove, c)
		}
	}
	sort.Slice(p.remove, func(i, j int) bool { return summaryName(p.remove[i]) < summaryName(p.remove[j]) })
	return p
}

var ()

// validateSpec says why a spec cannot be run, if it cannot.
func validateSpec(c ContainerSpec) error {
	switch {
	case !deis.ValidID(c.App) || !deis.ValidProcessType(c.Type):
		return fmt.Errorf("invalid app %q or process type %q", c.App, c.Type)
	case c.Release < 0 || c.Num < 0:
		return fmt.Errorf("invalid release %d or number %d", c.Release, c.Num)
	case c.Port < 1 || c.Port > 65535:
		return fmt.Errorf("invalid port %d", c.Port)
	case c.Image == "" || strings.TrimSpace(c.Command) == "":
		return errors.New("no runner image or no command")
	case !deis.ValidSHA256(c.Slug.SHA256):
		return fmt.Errorf("invalid slug sha256 %q", c.Slug.SHA256)
	case strings.ContainsRune(c.Command, 0):
		return errors.New("command holds a NUL byte")
	}
	for k, v := range c.Env {
		if k == "" || strings.ContainsAny(k, "=\x00") || strings.ContainsRune(v, 0) {
			return fmt.Errorf("invalid config variable %q", k)
		}
	}
	return nil
}

// containerConfig is the Docker configuration of spec's container.
func containerConfig(spec ContainerSpec, hash, owner string) (*container.Config, *container.HostConfig) {
	keys := make([]string, 0, len(spec.Env))
	for k := range spec.Env {
		if k != "PORT" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	env := make([]string, 0, len(keys)+1)
	for _, k := range keys {
		env = append(env, k+"="+spec.Env[k])
	}
	port := strconv.Itoa(spec.Port)
	env = append(env, "PORT="+port)
	labels := map[string]string{
		LabelApp: spec.App, LabelRelease: strconv.Itoa(spec.Release),
		LabelType: spec.Type, LabelNum: strconv.Itoa(spec.Num), LabelSpec: hash,
	}
	if owner != "" {
		labels[LabelOwner] = owner
	}
	p := network.MustParsePort(port + "/tcp")
	cfg := &container.Config{
		Image:        spec.Image,
		Cmd:          []string{"/bin/sh", "-c", shellCommand(spec.Command)},
		WorkingDir:   "/app",
		Env:          env,
		Labels:       labels,
		ExposedPorts: network.PortSet{p: {}},
	}
	initProcess := true
	hc := &container.HostConfig{
		// An init (tini) as PID 1 passes SIGTERM on, so a stop drains in
		// the app's time, not the stop timeout's.
		Init:         &initProcess,
		PortBindings: network.PortMap{p: {{HostIP: netip.IPv4Unspecified(), HostPort: port}}},
		// No restarts until it is healthy: a crash while starting shows its
		// real exit code. awaitHealthy then sets unless-stopped.
		RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyDisabled},
		LogConfig: container.LogConfig{Type: "json-file", Config: map[string]string{
			"tag": fmt.Sprintf("%s/%s.%d", spec.App, spec.Type, spec.Num),
		}},
	}
	return cfg, hc
}

// shellCommand runs a Procfile command with /bin/sh -c; a simple command
// is exec'd, so the app itself gets the stop signal rather than the shell.
func shellCommand(cmd string) string {
	if strings.ContainsAny(cmd, ";&|(){}`\n") || strings.HasPrefix(strings.TrimSpace(cmd), "exec ") {
		return cmd
	}
	return "exec " + cmd
}

// summaryName is a listed container's name without Docker's leading slash.
func summaryName(c container.Summary) string {
	if len(c.Names) == 0 {
		return c.ID
	}
	return strings.TrimPrefix(c.Names[0], "/")
}

func shortSHA(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// oneLine folds s onto one line of at most about 400 bytes.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= 400 {
		return s
	}
	i := 400
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "..."
}

func (r *Runtime) logger() *slog.Logger {
	if r.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Log
}
