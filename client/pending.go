package client

// This file holds the bodies of routes that answer 501 today, whose wire
// types are not in types.go yet. They are the client's proposal; when the
// server implements a route, its types move to types.go.

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

// LogsOptions selects the log lines of an app.
type LogsOptions struct {
	Lines  int  // the last N lines; 0 lets the server choose
	Follow bool // keep streaming new lines
}

// RunRequest runs a one-off command in a container of an app's current
// release.
type RunRequest struct {
	Command []string `json:"command"`
}

// RunResult is the outcome of a one-off command.
type RunResult struct {
	Output   string `json:"output"`
	ExitCode int    `json:"exit_code"`
}
