package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/deis/deis"
	"github.com/deis/deis/converge"
	"github.com/deis/deis/deploy"
	"github.com/deis/deis/recipes"
	"github.com/gin-gonic/gin"
)

// Converger is what the API needs of the converger: the release
// service's needs, and converges, plans and refreshes of nodes.
type Converger interface {
	deploy.Converger
	World(ctx context.Context, f deis.Formation) (converge.World, error)
	Plan(ctx context.Context, w converge.World, ids []string) ([]converge.NodeResult, error)
	Refresh(ctx context.Context, app string) error
}

// calculate answers the desired state of every node of the formation.
func (s *Server) calculate(c *gin.Context) {
	w, err := s.conv.World(c.Request.Context(), formationOf(c))
	if err != nil {
		fail(c, err)
		return
	}
	dbs, err := converge.Render(w)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, dbs)
}

func (s *Server) convergeFormation(c *gin.Context) {
	f := formationOf(c)
	if c.Query("dry_run") == "true" {
		s.planNodes(c, f, nil)
		return
	}
	s.startJob(c, "formation.converge", f.ID, func(ctx context.Context, p *progress) error {
		return s.convergeNodes(ctx, f, nil, p)
	})
}

func (s *Server) convergeNode(c *gin.Context) {
	n, f := nodeOf(c), formationOf(c)
	if c.Query("dry_run") == "true" {
		s.planNodes(c, f, []string{n.ID})
		return
	}
	s.startJob(c, "node.converge", n.ID, func(ctx context.Context, p *progress) error {
		return s.convergeNodes(ctx, f, []string{n.ID}, p)
	})
}

// planNodes answers what a converge of nodes ids (every node when nil)
// would change, changing nothing.
func (s *Server) planNodes(c *gin.Context, f deis.Formation, ids []string) {
	w, err := s.conv.World(c.Request.Context(), f)
	if err != nil {
		fail(c, err)
		return
	}
	results, err := s.conv.Plan(c.Request.Context(), w, ids)
	if err != nil {
		fail(c, err)
		return
	}
	out := []deis.NodePlan{}
	for _, r := range results {
		np := deis.NodePlan{Node: r.Node, Changes: []deis.PlanChange{}, Error: r.Report.Error}
		if r.Err != nil {
			np.Error = r.Err.Error()
		}
		for _, res := range r.Report.Resources {
			if res.Result == recipes.Unchanged {
				np.Unchanged++
				continue
			}
			np.Changes = append(np.Changes, deis.PlanChange{Resource: res.Resource, Result: res.Result, Message: res.Message})
		}
		out = append(out, np)
	}
	c.JSON(http.StatusOK, out)
}

// convergeNodes converges nodes and records each node's report in the job.
func (s *Server) convergeNodes(ctx context.Context, f deis.Formation, ids []string, p converge.Progress) error {
	results, err := s.conv.Converge(ctx, f, ids, p)
	if err != nil {
		return err
	}
	failed := 0
	for _, r := range results {
		b, _ := json.Marshal(r.Report)
		p.Printf("report %s: %s", r.Node, b)
		if bad, _ := r.Failed(); bad {
			failed++
		}
	}
	if failed > 0 {
		return errors.New(plural(failed, "node") + " failed to converge")
	}
	return nil
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}
