// Package converge computes what every node of a formation should run and
// brings the nodes there over SSH with the node agent, in rollout order:
// new containers start beside the old, proxies switch to them once they are
// healthy, and only then do the old ones drain and go. Rendering and
// planning are pure functions; Converger does the I/O.
package converge

import (
	"cmp"
	"fmt"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/deis/deis"
	"github.com/deis/deis/recipes"
)

// Release is what a release's containers need: its build and its config.
type Release struct {
	Version int
	Build   deis.Build
	Config  map[string]string
}

// AppState is one app with its containers and the releases they run.
type AppState struct {
	App        deis.App
	Containers []deis.Container
	Releases   map[int]Release
}

// World is everything a formation's databags are rendered from.
type World struct {
	Formation     deis.Formation
	Layers        []deis.Layer
	Nodes         []deis.Node
	Apps          []AppState
	RunnerImage   string
	HealthTimeout time.Duration
	Grace         time.Duration
	// SlugURL returns where nodes fetch a build's slug.
	SlugURL func(deis.Build) string
}

// Render returns the databag of every node of the world, by node id.
func Render(w World) (map[string]recipes.Databag, error) {
	layers := map[string]deis.Layer{}
	for _, l := range w.Layers {
		layers[l.ID] = l
	}
	out := map[string]recipes.Databag{}
	var proxies []string
	for _, n := range w.Nodes {
		l := layers[n.Layer]
		db := recipes.Databag{Node: n.ID}
		if l.Runtime {
			db.Runtime = &recipes.RuntimeState{Containers: []recipes.ContainerSpec{}, HealthTimeout: w.HealthTimeout, Grace: w.Grace, Image: w.RunnerImage}
		}
		if l.Proxy {
			proxies = append(proxies, n.ID)
		}
		out[n.ID] = db
	}
	for _, a := range w.Apps {
		for _, c := range a.Containers {
			db, ok := out[c.Node]
			if !ok || db.Runtime == nil {
				return nil, fmt.Errorf("container %s.%d of %s is on %q, not a runtime node", c.Type, c.Num, a.App.ID, c.Node)
			}
			spec, err := containerSpec(w, a, c)
			if err != nil {
				return nil, err
			}
			db.Runtime.Containers = append(db.Runtime.Containers, spec)
		}
	}
	sites, err := Sites(w)
	if err != nil {
		return nil, err
	}
	for _, id := range proxies {
		db := out[id]
		db.Proxy = &recipes.ProxyState{Sites: sites}
		out[id] = db
	}
	for id, db := range out {
		if db.Runtime != nil {
			slices.SortFunc(db.Runtime.Containers, compareSpecs)
		}
		out[id] = db
	}
	return out, nil
}

func compareSpecs(a, b recipes.ContainerSpec) int {
	return cmp.Or(cmp.Compare(a.App, b.App), cmp.Compare(a.Type, b.Type), cmp.Compare(a.Num, b.Num), cmp.Compare(a.Release, b.Release))
}

func containerSpec(w World, a AppState, c deis.Container) (recipes.ContainerSpec, error) {
	r, ok := a.Releases[c.Release]
	if !ok {
		return recipes.ContainerSpec{}, fmt.Errorf("container %s.%d of %s runs v%d, which is not loaded", c.Type, c.Num, a.App.ID, c.Release)
	}
	cmdline, ok := r.Build.Procfile[c.Type]
	if !ok {
		return recipes.ContainerSpec{}, fmt.Errorf("release v%d of %s has no process type %q", c.Release, a.App.ID, c.Type)
	}
	env := make(map[string]string, len(r.Config)+1)
	for k, v := range r.Config {
		env[k] = v
	}
	env["PORT"] = strconv.Itoa(c.Port)
	return recipes.ContainerSpec{
		App: a.App.ID, Release: c.Release, Type: c.Type, Num: c.Num, Command: cmdline, Env: env, Port: c.Port,
		Image: w.RunnerImage, Slug: recipes.SlugRef{URL: w.SlugURL(r.Build), SHA256: r.Build.SlugSHA256},
	}, nil
}

// Sites returns the nginx sites of the world's apps: each app's web
// containers that are up, by the node's private address (else the host of
// the address the controller reaches it at). A formation with a domain
// serves app.domain; without one, its single app is the default site.
func Sites(w World) ([]recipes.Site, error) {
	addr := map[string]string{}
	for _, n := range w.Nodes {
		host, _, err := net.SplitHostPort(n.Address)
		if err != nil {
			host = n.Address
		}
		if n.Private != "" {
			host = n.Private
		}
		addr[n.ID] = host
	}
	sites := []recipes.Site{}
	for _, a := range w.Apps {
		s := recipes.Site{App: a.App.ID, Upstreams: []string{}}
		if w.Formation.Domain != "" {
			s.ServerNames = []string{a.App.ID + "." + w.Formation.Domain}
		} else {
			s.Default = true
		}
		for _, c := range a.Containers {
			if c.Type == deis.WebType && c.State == deis.ContainerUp {
				s.Upstreams = append(s.Upstreams, net.JoinHostPort(addr[c.Node], strconv.Itoa(c.Port)))
			}
		}
		slices.Sort(s.Upstreams)
		sites = append(sites, s)
	}
	slices.SortFunc(sites, func(a, b recipes.Site) int { return cmp.Compare(a.App, b.App) })
	return sites, nil
}
