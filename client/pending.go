package client

// This file holds the bodies of routes that answer 501 today, whose wire
// types are not in types.go yet. They are the client's proposal; when the
// server implements a route, its types move to types.go.

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
