package converge

import (
	"strconv"
	"testing"
	"time"

	"github.com/deis/deis"
	"github.com/deis/deis/recipes"
	"github.com/google/go-cmp/cmp"
)

func TestRender(t *testing.T) {
	t.Parallel()
	layers := []deis.Layer{{ID: "runtime", Runtime: true}, {ID: "proxy", Proxy: true}}
	nodes := []deis.Node{
		{ID: "f-proxy-1", Layer: "proxy", Address: "10.0.0.9:22"},
		{ID: "f-runtime-1", Layer: "runtime", Address: "10.0.0.2:22"},
		{ID: "f-runtime-2", Layer: "runtime", Address: "10.0.0.3:22"},
	}
	build := deis.Build{UUID: "b1", SlugURL: "http://c/s.tgz", SlugSHA256: "ab", Procfile: map[string]string{"web": "./web", "worker": "./work"}}
	app := AppState{
		App: deis.App{ID: "shop"},
		Containers: []deis.Container{
			{Type: "web", Num: 1, Release: 3, Node: "f-runtime-1", Port: 10001, State: deis.ContainerUp},
			{Type: "web", Num: 1, Release: 4, Node: "f-runtime-2", Port: 10001, State: deis.ContainerStarting},
			{Type: "worker", Num: 1, Release: 3, Node: "f-runtime-2", Port: 10002, State: deis.ContainerUp},
			{Type: "web", Num: 2, Release: 3, Node: "f-runtime-2", Port: 10003, State: deis.ContainerDraining},
		},
		Releases: map[int]Release{
			3: {Version: 3, Build: build, Config: map[string]string{"A": "x=y \"q\""}},
			4: {Version: 4, Build: build, Config: map[string]string{"A": "new"}},
		},
	}
	spec := func(num, rel, port int, typ, cmd, a string) recipes.ContainerSpec {
		return recipes.ContainerSpec{App: "shop", Release: rel, Type: typ, Num: num, Command: cmd, Port: port, Image: "runner:1",
			Env: map[string]string{"A": a, "PORT": strconv.Itoa(port)}, Slug: recipes.SlugRef{URL: "http://c/s.tgz", SHA256: "ab"}}
	}
	tests := []struct {
		name      string
		domain    string
		wantSites []recipes.Site
	}{
		{"with a domain", "example.com", []recipes.Site{{App: "shop", ServerNames: []string{"shop.example.com"}, Upstreams: []string{"10.0.0.2:10001"}}}},
		{"no domain: the default site", "", []recipes.Site{{App: "shop", Default: true, Upstreams: []string{"10.0.0.2:10001"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := World{
				Formation: deis.Formation{ID: "f", Domain: tt.domain}, Layers: layers, Nodes: nodes,
				Apps: []AppState{app}, RunnerImage: "runner:1", HealthTimeout: 5 * time.Second, Grace: 2 * time.Second,
				SlugURL: func(b deis.Build) string { return b.SlugURL },
			}
			got, err := Render(w)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]recipes.Databag{
				"f-proxy-1": {Node: "f-proxy-1", Proxy: &recipes.ProxyState{Sites: tt.wantSites}},
				"f-runtime-1": {Node: "f-runtime-1", Runtime: &recipes.RuntimeState{HealthTimeout: 5 * time.Second, Grace: 2 * time.Second, Image: "runner:1",
					Containers: []recipes.ContainerSpec{spec(1, 3, 10001, "web", "./web", "x=y \"q\"")}}},
				"f-runtime-2": {Node: "f-runtime-2", Runtime: &recipes.RuntimeState{HealthTimeout: 5 * time.Second, Grace: 2 * time.Second, Image: "runner:1",
					Containers: []recipes.ContainerSpec{
						spec(1, 4, 10001, "web", "./web", "new"),
						spec(2, 3, 10003, "web", "./web", "x=y \"q\""),
						spec(1, 3, 10002, "worker", "./work", "x=y \"q\""),
					}}},
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("Render (-want +got):\n%s", d)
			}
		})
	}
}

func TestRenderRefusesStrayContainers(t *testing.T) {
	t.Parallel()
	w := World{
		Layers: []deis.Layer{{ID: "proxy", Proxy: true}},
		Nodes:  []deis.Node{{ID: "f-proxy-1", Layer: "proxy"}},
		Apps:   []AppState{{App: deis.App{ID: "a"}, Containers: []deis.Container{{Type: "web", Num: 1, Node: "f-proxy-1"}}}},
	}
	if _, err := Render(w); err == nil {
		t.Fatal("Render placed a container on a proxy-only node")
	}
}
