package deis

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

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
	App     string        `json:"app"`
	Version int           `json:"version"`
	Build   string        `json:"build,omitempty"` // build uuid; empty for v1
	Config  int           `json:"config"`          // config version
	Status  ReleaseStatus `json:"status"`
	Owner   string        `json:"owner"` // who made it
	Summary string        `json:"summary"`
	Error   string        `json:"error,omitempty"`
	Created time.Time     `json:"created"`
}

// ReleaseStatus is where a release stands: pending while it rolls out,
// then deployed or failed; deployed releases become superseded by the next.
type ReleaseStatus string

// Release statuses.
const (
	ReleasePending    ReleaseStatus = "pending"
	ReleaseDeployed                 = "deployed"
	ReleaseFailed                   = "failed"
	ReleaseSuperseded               = "superseded"
)

// RollbackRequest makes a new release from an earlier one's build and
// config. Version 0 means the release before the current one.
type RollbackRequest struct {
	Version int `json:"version,omitempty"`
}

// ScaleRequest sets process counts: {"web": 2, "worker": 1}.
type ScaleRequest map[string]int

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

// ConfigSummary says what changes (a nil value unsets its key) does to the
// config cur, as release summaries and their dry-run plans word it:
// "set A, B and unset C" (the same words after "alice" or "would"). Keys
// set to the value they hold, and unset keys that are absent, change
// nothing and are left out; when nothing changes it says "set nothing".
func ConfigSummary(cur map[string]string, changes map[string]*string) string {
	var set, unset []string
	for _, k := range slices.Sorted(maps.Keys(changes)) {
		old, had := cur[k]
		switch v := changes[k]; {
		case v == nil && had:
			unset = append(unset, k)
		case v != nil && (!had || *v != old):
			set = append(set, k)
		}
	}
	var parts []string
	if len(set) > 0 {
		parts = append(parts, "set "+strings.Join(set, ", "))
	}
	if len(unset) > 0 {
		parts = append(parts, "unset "+strings.Join(unset, ", "))
	}
	if len(parts) == 0 {
		return "set nothing"
	}
	return strings.Join(parts, " and ")
}

// RollbackSummary says what a rollback to target does.
func RollbackSummary(target int) string { return fmt.Sprintf("rolled back to v%d", target) }

// StructureString is an app's structure as people write it: "web=2
// worker=1", by type, without the types at 0; "nothing runs" when none
// runs.
func StructureString(structure map[string]int) string {
	var parts []string
	for _, t := range slices.Sorted(maps.Keys(structure)) {
		if structure[t] > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", t, structure[t]))
		}
	}
	if len(parts) == 0 {
		return "nothing runs"
	}
	return strings.Join(parts, " ")
}
