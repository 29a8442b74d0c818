//go:build docker

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/deis/deis/recipes"
	"github.com/deis/deis/recipes/recipestest"
	"github.com/google/go-cmp/cmp"
)

// TestApply is the controller's view: databags piped to deis-node apply,
// reports decoded from its stdout.
func TestApply(t *testing.T) {
	cli := recipestest.Docker(t)
	bin := buildAgent(t)
	app := recipestest.App(t, cli)
	path, sha := recipestest.Slug(t)
	web := recipes.ContainerSpec{App: app, Release: 1, Type: "web", Num: 1, Command: "./server",
		Env: map[string]string{"GREETING": "hello from\n\"deis-node\" $PORT"}, Port: recipestest.FreePort(t),
		Image: recipestest.RunnerImage(t, cli), Slug: recipes.SlugRef{URL: "file://" + path, SHA256: sha}}
	broken := web
	broken.Num, broken.Port, broken.Slug.SHA256 = 2, recipestest.FreePort(t), strings.Repeat("f", 64)
	databag := func(specs ...recipes.ContainerSpec) string {
		b, _ := json.Marshal(recipes.Databag{Node: "node-1", Runtime: &recipes.RuntimeState{
			Containers: append([]recipes.ContainerSpec{}, specs...), HealthTimeout: 20 * time.Second}})
		return string(b)
	}
	args := []string{"apply", "--slug-dir", t.TempDir(), "--state-dir", t.TempDir(), "--owner", app}
	steps := []struct {
		name     string
		databag  string
		wantExit int
		want     map[string]string
	}{
		{"first apply starts the app", databag(web), 0,
			map[string]string{"slug:" + sha[:12]: "changed", "container:" + web.Name(): "changed"}},
		{"second apply changes nothing", databag(web), 0,
			map[string]string{"slug:" + sha[:12]: "unchanged", "container:" + web.Name(): "unchanged"}},
		{"a bad slug fails its container only", databag(web, broken), 1,
			map[string]string{"slug:" + sha[:12]: "unchanged", "slug:ffffffffffff": "failed",
				"container:" + web.Name(): "unchanged", "container:" + broken.Name(): "failed"}},
		{"an empty runtime removes the app", databag(), 0, map[string]string{"container:" + web.Name(): "changed"}},
	}
	for _, st := range steps {
		out, code := agent(t, bin, st.databag, args...)
		rep := decodeReport(t, out)
		got := make(map[string]string)
		for _, r := range rep.Resources {
			got[r.Resource] = r.Result
		}
		if code != st.wantExit || rep.Node != "node-1" || rep.Error != "" {
			t.Errorf("%s: exit %d, node %q, error %q; want exit %d", st.name, code, rep.Node, rep.Error, st.wantExit)
		}
		if diff := cmp.Diff(st.want, got); diff != "" {
			t.Errorf("%s: results (-want +got):\n%s", st.name, diff)
		}
		if st.wantExit == 0 && len(st.want) == 2 {
			if body := getBody(t, web.Port); body != web.Env["GREETING"] {
				t.Errorf("%s: the app answers %q", st.name, body)
			}
		}
	}
	if ids := recipestest.Containers(t, cli, app); len(ids) != 0 {
		t.Errorf("containers left: %v", ids)
	}
}

func getBody(t *testing.T, port int) string {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
