package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/deis/deis"
)

// TestJobLinesLeaveNothing: carol long-polls the lines of jobs that do not
// exist and of bob's job (security review #4): each answers 404, and no
// request leaves a watcher behind; neither do polls of a job that ended.
func TestJobLinesLeaveNothing(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	bob, carol := a.user("bob"), a.user("carol")
	a.must(http.StatusCreated, "POST", "/v1/formations", bob, deis.FormationCreateRequest{ID: "bobf", Flavor: "static"}, nil)
	var job deis.Job
	a.must(http.StatusAccepted, "DELETE", "/v1/formations/bobf", bob, nil, &job)
	for i := range 200 {
		id := strings.Repeat("x", 200) + string(rune('a'+i%26))
		a.must(http.StatusNotFound, "GET", "/v1/jobs/"+id+"/lines?wait=1", carol, nil, nil)
	}
	a.must(http.StatusNotFound, "GET", "/v1/jobs/"+job.ID+"/lines?wait=1", carol, nil, nil)
	if ended := a.wait(job, bob); ended.State == deis.JobRunning {
		t.Fatalf("bob's job did not end: %+v", ended)
	}
	if n := a.server.jobs.watched(); n != 0 {
		t.Errorf("%d jobs are still watched after the polls ended", n)
	}
}

// TestAdoptionIsNoPortScanner is security review #8: carol (not an admin)
// cannot adopt the controller's own host or a link-local address, and an
// adoption that cannot reach its host says the same whatever the port
// did; the admin still sees why.
func TestAdoptionIsNoPortScanner(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	admin, carol := a.user("root"), a.user("carol")
	for _, u := range []string{admin, carol} {
		a.must(http.StatusCreated, "POST", "/v1/formations", u, deis.FormationCreateRequest{ID: "f" + u[:6], Flavor: "static"}, nil)
	}
	cf := "/v1/formations/f" + carol[:6] + "/nodes"
	for _, addr := range []string{"127.0.0.1:22", "localhost", "169.254.169.254", "[::1]:2222"} {
		status, out := a.do("POST", cf, carol, deis.NodeCreateRequest{Layer: "runtime", Address: addr})
		if status != http.StatusUnprocessableEntity || !strings.Contains(string(out), "not an address you may adopt") {
			t.Errorf("carol adopting %s: %d %s", addr, status, out)
		}
	}
	j := a.job("POST", cf, carol, deis.NodeCreateRequest{Layer: "runtime", Address: "192.0.2.1:2222"})
	if j.State != deis.JobFailed || !strings.HasPrefix(j.Error, "could not reach 192.0.2.1:2222 over SSH") || strings.Contains(j.Error, "timeout") {
		t.Errorf("carol's adoption of an unreachable host: %s %q, want the one generic error", j.State, j.Error)
	}
	j = a.job("POST", "/v1/formations/f"+admin[:6]+"/nodes", admin, deis.NodeCreateRequest{Layer: "runtime", Address: "127.0.0.1:1"})
	if j.State != deis.JobFailed || !strings.Contains(j.Error, "refused") {
		t.Errorf("the admin's adoption of a closed port: %s %q, want why", j.State, j.Error)
	}
}
