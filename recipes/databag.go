package recipes

import "time"

// Databag is a node's desired state: what the node agent (deis-node) reads
// on stdin and brings the node to. The controller renders one per node per
// converge (package converge); the agent applies it with the runtime and
// proxy recipes. Anything deis runs on the node that the databag does not
// name is removed.
type Databag struct {
	Node string `json:"node"`
	// Generation orders databags: the agent refuses one older than the
	// last it applied (a converge that was overtaken must not undo the
	// newer one).
	Generation int64 `json:"generation,omitempty"`
	// Runtime is set on runtime nodes: the app containers to run.
	Runtime *RuntimeState `json:"runtime,omitempty"`
	// Proxy is set on proxy nodes: the nginx sites to serve.
	Proxy *ProxyState `json:"proxy,omitempty"`
}

// RuntimeState is the app containers a runtime node runs.
type RuntimeState struct {
	Containers []ContainerSpec `json:"containers"`
	// Image is the runner image the node keeps loaded, with or without
	// containers, so that the first container it starts needs no transfer.
	// The controller puts it in place before the agent runs.
	Image string `json:"image,omitempty"`
	// HealthTimeout bounds how long the agent waits for a new container to
	// answer on its port before reporting it unhealthy.
	HealthTimeout time.Duration `json:"health_timeout"`
	// Grace is how long a new container of a type other than web (a
	// worker, a clock: they take no traffic and may listen on nothing)
	// must keep running to be healthy.
	Grace time.Duration `json:"grace,omitempty"`
}

// ContainerSpec is one app container. Its Docker name is Name(); two specs
// with the same name and the same Hash() are the same container.
type ContainerSpec struct {
	App     string `json:"app"`
	Release int    `json:"release"`
	Type    string `json:"type"`
	Num     int    `json:"num"`
	// Command is the Procfile command, run with /bin/sh -c in /app.
	Command string `json:"command"`
	// Env is the release's config plus PORT; values are any bytes but NUL
	// and are passed to Docker as they are, never through a shell.
	Env map[string]string `json:"env"`
	// Port is the host port on the node, equal to the container port (the
	// app listens on $PORT).
	Port int `json:"port"`
	// Image is the runner image the slug runs in.
	Image string `json:"image"`
	// Slug is where to fetch the slug (a tar.gz of /app) and its sha256.
	Slug SlugRef `json:"slug"`
	// HealthPath, when set, is an HTTP path a web container must answer
	// with 2xx or 3xx; otherwise its port accepting connections is healthy.
	// Other types are healthy when they keep running (RuntimeState.Grace).
	HealthPath string `json:"health_path,omitempty"`
}

// SlugRef locates a slug.
type SlugRef struct {
	URL    string `json:"url"`
	SHA256 string `json:"sha256"`
}

// ProxyState is the nginx sites a proxy node serves.
type ProxyState struct {
	Sites []Site `json:"sites"`
}

// Site routes one app's requests to its healthy web containers.
type Site struct {
	App string `json:"app"`
	// ServerNames are the host names (app.domain); empty with Default.
	ServerNames []string `json:"server_names,omitempty"`
	// Default makes the site nginx's default server (a formation without a
	// domain hosts one app).
	Default bool `json:"default,omitempty"`
	// Upstreams are host:port of the web containers.
	Upstreams []string `json:"upstreams"`
}

// AgentReport is what the agent prints: one JSON object with the outcome
// of each resource.
type AgentReport struct {
	Node      string           `json:"node"`
	Resources []ResourceResult `json:"resources"`
	Duration  time.Duration    `json:"duration"`
	Error     string           `json:"error,omitempty"`
	// Containers is the state of the node's app containers once applied;
	// null on nodes without a runtime, or when the engine could not say.
	Containers []ContainerStatus `json:"containers"`
}

// Resource outcomes.
const (
	Unchanged = "unchanged"
	Changed   = "changed"
	Failed    = "failed"
)

// ResourceResult is the outcome of one resource.
type ResourceResult struct {
	Resource string        `json:"resource"` // e.g. container:deis-web-v3-web.1, nginx_site:deis
	Result   string        `json:"result"`   // unchanged, changed, failed
	Message  string        `json:"message,omitempty"`
	Duration time.Duration `json:"duration"`
}
