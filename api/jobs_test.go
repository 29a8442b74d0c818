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
