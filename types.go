package deis

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// This file holds the wire types of the controller's /v1 API. The controller
// encodes exactly these structs and the client decodes them, so the two can
// never drift apart.

// Page is one page of a list endpoint. Next is the path of the following
// page, empty on the last one.
type Page[T any] struct {
	Count   int    `json:"count"`
	Next    string `json:"next,omitempty"`
	Results []T    `json:"results"`
}

// Error is the body of every non-2xx answer.
type Error struct {
	Message string `json:"error"`
	Code    string `json:"code"`
}

// Error codes, one per HTTP status family the API uses.
const (
	CodeBadRequest     = "bad_request"     // 400: malformed JSON, unknown fields, wrong types
	CodeUnauthorized   = "unauthorized"    // 401: missing, unknown or expired token
	CodeForbidden      = "forbidden"       // 403: visible, but not yours to change
	CodeNotFound       = "not_found"       // 404: absent, or not visible to you
	CodeConflict       = "conflict"        // 409: the id is taken
	CodeInvalid        = "invalid"         // 422: well-formed but not acceptable
	CodeTooLarge       = "too_large"       // 413: body over the limit
	CodeNotImplemented = "not_implemented" // 501: the back end lands in a later release
	CodeInternal       = "internal"        // 500
	CodeProvider       = "provider"        // 502: the provider (a cloud API) refused or failed
)

// User is an account on the controller. The first user registered is an admin.
type User struct {
	Username string    `json:"username"`
	Email    string    `json:"email"`
	Admin    bool      `json:"admin"`
	Created  time.Time `json:"created"`
}

// RegisterRequest creates an account.
type RegisterRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Email    string `json:"email"`
}

// LoginRequest trades a username and password for a bearer token.
type LoginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// Token is a bearer token for the API, shown once at login.
type Token struct {
	Token    string    `json:"token"`
	Username string    `json:"username"`
	Expires  time.Time `json:"expires"`
}

// Key is an SSH public key that lets its owner git push.
type Key struct {
	ID          string    `json:"id"`
	Owner       string    `json:"owner"`
	Public      string    `json:"public"`
	Fingerprint string    `json:"fingerprint"`
	Created     time.Time `json:"created"`
}

// KeyCreateRequest adds a key. ID defaults to the key's comment.
type KeyCreateRequest struct {
	ID     string `json:"id,omitempty"`
	Public string `json:"public"`
}

// Provider is a source of nodes. Its credentials are never returned: only
// the names of the credentials it holds.
type Provider struct {
	ID       string    `json:"id"`
	Owner    string    `json:"owner"`
	Type     string    `json:"type"`
	CredKeys []string  `json:"cred_keys"`
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
}

// Provider types.
const (
	ProviderStatic = "static"
	ProviderDocker = "docker"
	ProviderEC2    = "ec2"
)

// ProviderCreateRequest creates a provider.
type ProviderCreateRequest struct {
	ID    string            `json:"id"`
	Type  string            `json:"type"`
	Creds map[string]string `json:"creds,omitempty"`
}

// ProviderUpdateRequest merges credentials: a null value removes the key.
type ProviderUpdateRequest struct {
	Creds map[string]*string `json:"creds"`
}

// Flavor is a provider plus the parameters of the machines it makes.
type Flavor struct {
	ID       string            `json:"id"`
	Owner    string            `json:"owner"`
	Provider string            `json:"provider"`
	Params   map[string]string `json:"params"`
	Created  time.Time         `json:"created"`
	Updated  time.Time         `json:"updated"`
}

// FlavorCreateRequest creates a flavor.
type FlavorCreateRequest struct {
	ID       string            `json:"id"`
	Provider string            `json:"provider"`
	Params   map[string]string `json:"params,omitempty"`
}

// FlavorUpdateRequest changes a flavor; params merge and a null removes a key.
type FlavorUpdateRequest struct {
	Provider *string            `json:"provider,omitempty"`
	Params   map[string]*string `json:"params,omitempty"`
}

// Formation is a set of layers of nodes that apps run on.
type Formation struct {
	ID      string         `json:"id"`
	Owner   string         `json:"owner"`
	Domain  string         `json:"domain"`
	Nodes   map[string]int `json:"nodes"` // layer id -> node count
	Created time.Time      `json:"created"`
	Updated time.Time      `json:"updated"`
}

// FormationCreateRequest creates a formation. With Flavor, a layer named
// "runtime" that is both proxy and runtime is created with it.
type FormationCreateRequest struct {
	ID     string `json:"id"`
	Domain string `json:"domain,omitempty"`
	Flavor string `json:"flavor,omitempty"`
}

// FormationUpdateRequest changes a formation.
type FormationUpdateRequest struct {
	Domain *string `json:"domain,omitempty"`
}

// Layer is a group of nodes of one flavor with one role (proxy, runtime or
// both) and one SSH key pair, generated by the controller.
type Layer struct {
	Formation    string    `json:"formation"`
	ID           string    `json:"id"`
	Flavor       string    `json:"flavor"`
	Proxy        bool      `json:"proxy"`
	Runtime      bool      `json:"runtime"`
	SSHUser      string    `json:"ssh_user"`
	SSHPort      int       `json:"ssh_port"`
	SSHPublicKey string    `json:"ssh_public_key"`
	Created      time.Time `json:"created"`
	Updated      time.Time `json:"updated"`
}

// LayerCreateRequest creates a layer. Proxy and Runtime default to true,
// SSHUser to "root" and SSHPort to 22.
type LayerCreateRequest struct {
	ID      string `json:"id"`
	Flavor  string `json:"flavor"`
	Proxy   *bool  `json:"proxy,omitempty"`
	Runtime *bool  `json:"runtime,omitempty"`
	SSHUser string `json:"ssh_user,omitempty"`
	SSHPort int    `json:"ssh_port,omitempty"`
}

// LayerUpdateRequest changes a layer.
type LayerUpdateRequest struct {
	Flavor  *string `json:"flavor,omitempty"`
	Proxy   *bool   `json:"proxy,omitempty"`
	Runtime *bool   `json:"runtime,omitempty"`
	SSHUser *string `json:"ssh_user,omitempty"`
	SSHPort *int    `json:"ssh_port,omitempty"`
}

// Node is one machine of a layer.
type Node struct {
	ID         string     `json:"id"` // <formation>-<layer>-<num>
	Formation  string     `json:"formation"`
	Layer      string     `json:"layer"`
	Num        int        `json:"num"`
	ProviderID string     `json:"provider_id"`
	Address    string     `json:"address"`           // host:port of its sshd
	Public     string     `json:"public,omitempty"`  // host:port where users reach its HTTP, when it differs from the address
	Private    string     `json:"private,omitempty"` // the address other nodes of the formation reach it at, when it differs from the address's host
	HostKey    string     `json:"host_key,omitempty"`
	Status     NodeStatus `json:"status"`
	Created    time.Time  `json:"created"`
	Updated    time.Time  `json:"updated"`
}

// NodeStatus is what the controller last saw of a node.
type NodeStatus struct {
	State     string    `json:"state"` // creating, ready, unreachable, lost
	Reachable bool      `json:"reachable"`
	Docker    bool      `json:"docker"`
	Nginx     bool      `json:"nginx"`
	Message   string    `json:"message,omitempty"`
	Checked   time.Time `json:"checked,omitempty"`
}

// App is an application deployed on a formation.
type App struct {
	ID        string         `json:"id"`
	Formation string         `json:"formation"`
	Owner     string         `json:"owner"`
	Structure map[string]int `json:"structure"`            // process type -> count
	URL       string         `json:"url,omitempty"`        // where the app answers, once it has a proxy
	GitRemote string         `json:"git_remote,omitempty"` // what `git push` talks to
	Created   time.Time      `json:"created"`
	Updated   time.Time      `json:"updated"`
}

// AppCreateRequest creates an app. ID defaults to a random adjective-noun.
type AppCreateRequest struct {
	ID        string `json:"id,omitempty"`
	Formation string `json:"formation"`
}

// Config is one version of an app's environment.
type Config struct {
	App     string            `json:"app"`
	Version int               `json:"version"`
	Values  map[string]string `json:"values"`
	Created time.Time         `json:"created"`
}

// ConfigUpdateRequest merges values into the config: a null value unsets.
type ConfigUpdateRequest struct {
	Values map[string]*string `json:"values"`
}

// Build is a compiled slug of an app.
type Build struct {
	App        string            `json:"app"`
	UUID       string            `json:"uuid"`
	Owner      string            `json:"owner"`
	SHA        string            `json:"sha"`
	SlugURL    string            `json:"slug_url"`
	SlugSize   int64             `json:"slug_size"`
	SlugSHA256 string            `json:"slug_sha256"`
	Procfile   map[string]string `json:"procfile"`
	Buildpack  string            `json:"buildpack"`
	Created    time.Time         `json:"created"`
}

// BuildCreateRequest registers a slug built elsewhere.
type BuildCreateRequest struct {
	SHA        string            `json:"sha,omitempty"`
	SlugURL    string            `json:"slug_url"`
	SlugSize   int64             `json:"slug_size,omitempty"`
	SlugSHA256 string            `json:"slug_sha256"`
	Procfile   map[string]string `json:"procfile"`
	Buildpack  string            `json:"buildpack,omitempty"`
}

// Slug is a slug stored by the controller: upload one with
// POST /v1/apps/ID/slugs (a tar.gz of /app as the body), then register it
// with builds:create.
type Slug struct {
	URL      string            `json:"url"`
	SHA256   string            `json:"sha256"`
	Size     int64             `json:"size"`
	Procfile map[string]string `json:"procfile"` // from the slug's Procfile
}

// Release is a build plus a config, numbered vN per app.
type Release struct {
	App     string    `json:"app"`
	Version int       `json:"version"`
	Build   string    `json:"build,omitempty"` // build uuid; empty for v1
	Config  int       `json:"config"`          // config version
	Status  string    `json:"status"`
	Owner   string    `json:"owner"` // who made it
	Summary string    `json:"summary"`
	Error   string    `json:"error,omitempty"`
	Created time.Time `json:"created"`
}

// Release statuses.
const (
	ReleasePending    = "pending"
	ReleaseDeployed   = "deployed"
	ReleaseFailed     = "failed"
	ReleaseSuperseded = "superseded"
)

// RollbackRequest makes a new release from an earlier one's build and
// config. Version 0 means the release before the current one.
type RollbackRequest struct {
	Version int `json:"version,omitempty"`
}

// Container is one process of an app, named type.num, on a runtime node.
type Container struct {
	App     string    `json:"app"`
	Release int       `json:"release"`
	Type    string    `json:"type"`
	Num     int       `json:"num"`
	Name    string    `json:"name"` // type.num
	Node    string    `json:"node"`
	Port    int       `json:"port"`
	State   string    `json:"state"`
	Health  string    `json:"health"`
	Created time.Time `json:"created"`
	// What the node's engine last said of it (see ContainerObservation);
	// Checked is zero until the first look.
	Observed string    `json:"observed,omitempty"`
	ExitCode int       `json:"exit_code"`
	Restarts int       `json:"restarts"`
	Died     time.Time `json:"died,omitzero"`
	Checked  time.Time `json:"checked,omitzero"`
}

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
// "down (exited 1, 3 restarts, 2m ago)", "up (exited 137, 1 restart, 5m ago)".
func (c Container) Status(now time.Time) string {
	switch {
	case c.State != "up": // starting, draining: a rollout is on it
		return c.State
	case c.Observed == ObservedMissing:
		return "down (missing on its node)"
	case c.Down():
		return "down (" + c.exitSummary(now) + ")"
	case c.Restarts > 0:
		return "up (" + c.exitSummary(now) + ")"
	}
	return c.State
}

func (c Container) exitSummary(now time.Time) string {
	var parts []string
	if c.Observed == "created" {
		parts = append(parts, "never started")
	} else if !c.Died.IsZero() || c.ExitCode != 0 {
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

// ScaleRequest sets process counts: {"web": 2, "worker": 1}.
type ScaleRequest map[string]int

// NodeScaleRequest sets node counts per layer: {"runtime": 2}.
type NodeScaleRequest map[string]int

// ReleasePlan is what config:set/unset, scale or rollback would do
// (--dry-run): the release it would make (0 when none: scale) and how the
// app's containers would move.
type ReleasePlan struct {
	Release int         `json:"release"`
	Summary string      `json:"summary"`
	Start   []Container `json:"start"`
	Keep    []Container `json:"keep"`
	Retire  []Container `json:"retire"`
}

// NodePlan is what a converge would change on one node (--dry-run).
type NodePlan struct {
	Node      string       `json:"node"`
	Changes   []PlanChange `json:"changes"`   // resources that would change (or cannot be applied)
	Unchanged int          `json:"unchanged"` // resources already as desired
	Error     string       `json:"error,omitempty"`
}

// PlanChange is one resource a converge would change.
type PlanChange struct {
	Resource string `json:"resource"` // e.g. container:deis-web-v3-web.1, nginx_site:deis
	Result   string `json:"result"`   // "would change", or "failed" when it cannot be applied
	Message  string `json:"message,omitempty"`
}

// NodeReconcileRequest compares a formation's cloud machines with its
// nodes: machines no node names are reported, or adopted as nodes of their
// layer, or terminated.
type NodeReconcileRequest struct {
	Adopt     bool `json:"adopt,omitempty"`
	Terminate bool `json:"terminate,omitempty"`
}

// NodeCreateRequest adopts an existing host (a static node) into a layer.
// Address is "host" or "host:port"; the port defaults to the layer's SSH
// port.
type NodeCreateRequest struct {
	Layer   string `json:"layer"`
	Address string `json:"address"`
}

// NodeSSHInfo is what GET /v1/nodes/:id/ssh answers: where and how to SSH
// into a node with its layer's key.
type NodeSSHInfo struct {
	Address    string `json:"address"` // host or host:port
	User       string `json:"user"`
	Port       int    `json:"port,omitempty"`
	PrivateKey string `json:"private_key"` // PEM or OpenSSH format
	HostKey    string `json:"host_key,omitempty"`
}

// Perms lists the collaborators of an app.
type Perms struct {
	Users []string `json:"users"`
}

// PermCreateRequest adds a collaborator.
type PermCreateRequest struct {
	Username string `json:"username"`
}

// Job is a long operation run by the controller. The API answers 202 with
// the job; clients follow its lines until it ends.
type Job struct {
	ID       string     `json:"id"`
	Kind     string     `json:"kind"`   // e.g. formation.destroy, nodes.scale
	Target   string     `json:"target"` // what it acts on
	Owner    string     `json:"owner"`
	State    string     `json:"state"`
	Error    string     `json:"error,omitempty"`
	Created  time.Time  `json:"created"`
	Finished *time.Time `json:"finished,omitempty"`
}

// Job states.
const (
	JobRunning   = "running"
	JobSucceeded = "succeeded"
	JobFailed    = "failed"
)

// JobLine is one progress line of a job.
type JobLine struct {
	Seq  int       `json:"seq"`
	Time time.Time `json:"time"`
	Text string    `json:"text"`
}

// JobLines is the answer of the job lines endpoint: lines after a sequence
// number, and the job as it stands.
type JobLines struct {
	Job   Job       `json:"job"`
	Lines []JobLine `json:"lines"`
}

var idRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// ValidID reports whether s can name a formation, layer, app, provider,
// flavor or key: 1 to 63 of [a-z0-9-], not starting or ending with '-'.
func ValidID(s string) bool { return idRE.MatchString(s) }

var envRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ValidEnvName reports whether s can be a config key (an environment
// variable name).
func ValidEnvName(s string) bool { return len(s) <= 256 && envRE.MatchString(s) }
