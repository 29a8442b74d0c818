package api

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/deis/deis"
	"github.com/deis/deis/nodes"
	"github.com/deis/deis/store"
	"github.com/gin-gonic/gin"
)

// NodeManager is what the API needs of the node manager.
type NodeManager interface {
	Scale(ctx context.Context, f deis.Formation, want map[string]int, p nodes.Progress) error
	Adopt(ctx context.Context, f deis.Formation, layer, host string, p nodes.Progress) (deis.Node, error)
	Destroy(ctx context.Context, f deis.Formation, n deis.Node, p nodes.Progress) error
	DestroyAll(ctx context.Context, f deis.Formation, p nodes.Progress) error
	Check(ctx context.Context, f deis.Formation, n deis.Node) (deis.Node, error)
	SSH(ctx context.Context, f deis.Formation, n deis.Node) (deis.NodeSSHInfo, error)
	Trust(ctx context.Context, n deis.Node) (deis.Node, error)
	VerifyProvider(ctx context.Context, typ string, creds map[string]string) ([]nodes.FlavorSeed, error)
	BuildLayer(ctx context.Context, f deis.Formation, layer string) error
	TeardownLayer(ctx context.Context, f deis.Formation, layer string) error
	TeardownFormation(ctx context.Context, f deis.Formation) error
	Drain(ctx context.Context, f deis.Formation, want map[string]int) ([]string, error)
	Undrain(ctx context.Context, ids []string) error
	ReconcileCloud(ctx context.Context, only *deis.Formation, policy nodes.CloudPolicy, p nodes.Progress) ([]string, error)
}

// maxNodesPerLayer bounds one layer's node count.
const maxNodesPerLayer = 50

func (s *Server) scaleNodes(c *gin.Context) {
	var req deis.NodeScaleRequest
	if err := decode(c, &req); err != nil {
		fail(c, err)
		return
	}
	f := formationOf(c)
	ctx := c.Request.Context()
	if len(req) == 0 {
		fail(c, invalid("name at least one layer to scale, like runtime=2"))
		return
	}
	layers := make([]string, 0, len(req))
	for l := range req {
		layers = append(layers, l)
	}
	sort.Strings(layers)
	for _, l := range layers {
		if n := req[l]; n < 0 || n > maxNodesPerLayer {
			fail(c, invalid("%s=%d: a node count must be from 0 to %d", l, n, maxNodesPerLayer))
			return
		}
		layer, err := s.store.GetLayer(ctx, f.ID, l)
		if errors.Is(err, store.ErrNotFound) {
			fail(c, invalid("formation %s has no layer %q: see deis layers:list %s", f.ID, l, f.ID))
			return
		} else if err != nil {
			fail(c, err)
			return
		}
		typ, err := s.flavorType(ctx, f.Owner, layer.Flavor)
		if err != nil {
			fail(c, err)
			return
		}
		if typ == deis.ProviderStatic && req[l] > f.Nodes[l] {
			fail(c, invalid("layer %s is on the static provider, which cannot make machines: adopt hosts with deis nodes:create %s HOST --layer %s", l, f.ID, l))
			return
		}
	}
	s.startJob(c, "nodes.scale", f.ID, func(ctx context.Context, p *progress) error {
		// Nodes that go are drained first: their containers move to the
		// nodes that stay, then they are destroyed.
		drained, err := s.nodes.Drain(ctx, f, req)
		if err != nil {
			return err
		}
		// A drained node still here at the end (the move failed, or Scale
		// removed another first) serves again.
		defer func() {
			if err := s.nodes.Undrain(context.WithoutCancel(ctx), drained); err != nil {
				s.log.Error("undraining nodes", "formation", f.ID, "err", err)
			}
		}()
		if len(drained) > 0 {
			p.Printf("moving containers off %s", strings.Join(drained, ", "))
			if err := s.deploy.Reschedule(ctx, f.ID, drained, p); err != nil {
				return fmt.Errorf("moving containers off the nodes to remove (nothing was destroyed): %w", err)
			}
		}
		if err := s.nodes.Scale(ctx, f, req, p); err != nil {
			return err
		}
		// New proxies get the formation's sites; new runtime nodes the agent.
		return s.convergeNodes(ctx, f, nil, p)
	})
}

// startJob starts fn as a job of the current user and answers 202.
func (s *Server) startJob(c *gin.Context, kind, target string, fn func(context.Context, *progress) error) {
	j, err := s.jobs.start(c.Request.Context(), deis.Job{Kind: kind, Target: target, Owner: currentUser(c).Username}, fn)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, j)
}

func (s *Server) adoptNode(c *gin.Context) {
	var req deis.NodeCreateRequest
	if err := decode(c, &req); err != nil {
		fail(c, err)
		return
	}
	f := formationOf(c)
	if req.Address == "" {
		fail(c, invalid("address must name the host to adopt, as HOST or HOST:PORT"))
		return
	}
	if _, err := s.store.GetLayer(c.Request.Context(), f.ID, req.Layer); errors.Is(err, store.ErrNotFound) {
		fail(c, invalid("formation %s has no layer %q", f.ID, req.Layer))
		return
	} else if err != nil {
		fail(c, err)
		return
	}
	admin := currentUser(c).Admin
	if !admin {
		if err := adoptable(c.Request.Context(), req.Address); err != nil {
			fail(c, err)
			return
		}
	}
	s.startJob(c, "nodes.create", f.ID, func(ctx context.Context, p *progress) error {
		n, err := s.nodes.Adopt(ctx, f, req.Layer, req.Address, p)
		var unreachable *nodes.ReachError
		if errors.As(err, &unreachable) && !admin {
			// One answer whatever the port said: adoption is no port scanner.
			s.log.Info("adoption could not reach its host", "formation", f.ID, "err", err)
			return fmt.Errorf("could not reach %s over SSH with the layer's key (is its public key in the user's authorized_keys?)", unreachable.Addr)
		}
		if err != nil {
			return err
		}
		// Converged now, the node has the agent and the runner image before
		// its first container: a deploy onto it transfers no image.
		return s.convergeNodes(ctx, f, []string{n.ID}, p)
	})
}

// listNodes lists a formation's nodes; with ?refresh=true it first checks
// every node (reachable, Docker engine, nginx) in parallel.
func (s *Server) listNodes(c *gin.Context) {
	f := formationOf(c)
	if c.Query("refresh") == "true" {
		ns, _, err := s.store.ListNodes(c.Request.Context(), f.ID, store.PageReq{})
		if err != nil {
			fail(c, err)
			return
		}
		var wg sync.WaitGroup
		for _, n := range ns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.nodes.Check(c.Request.Context(), f, n); err != nil {
					logger(c).Warn("checking node", "node", n.ID, "err", err)
				}
			}()
		}
		wg.Wait()
	}
	list(c, func(p store.PageReq) ([]deis.Node, int, error) {
		return s.store.ListNodes(c.Request.Context(), f.ID, p)
	})
}

// loadNode puts the node named in the path and its formation in the
// context, if the user can see the formation.
func (s *Server) loadNode(c *gin.Context) {
	ctx := c.Request.Context()
	n, err := s.store.GetNode(ctx, c.Param("id"))
	var f deis.Formation
	if err == nil {
		f, err = s.store.GetFormation(ctx, viewer(c), n.Formation)
	}
	if errors.Is(err, store.ErrNotFound) {
		fail(c, notFound("node %q not found", c.Param("id")))
		return
	} else if err != nil {
		fail(c, err)
		return
	}
	c.Set("node", n)
	c.Set("formation", f)
	c.Next()
}

func nodeOf(c *gin.Context) deis.Node { return c.MustGet("node").(deis.Node) }

func (s *Server) getNode(c *gin.Context) {
	n := nodeOf(c)
	if c.Query("refresh") == "true" {
		var err error
		if n, err = s.nodes.Check(c.Request.Context(), formationOf(c), n); err != nil {
			fail(c, err)
			return
		}
	}
	c.JSON(http.StatusOK, n)
}

func (s *Server) destroyNode(c *gin.Context) {
	n, f := nodeOf(c), formationOf(c)
	s.startJob(c, "node.destroy", n.ID, func(ctx context.Context, p *progress) error {
		return s.nodes.Destroy(ctx, f, n, p)
	})
}

// nodeSSH gives the formation's owner what a shell on the node needs,
// private key included.
func (s *Server) nodeSSH(c *gin.Context) {
	f, u := formationOf(c), currentUser(c)
	if f.Owner != u.Username && !u.Admin {
		fail(c, forbidden("only %s, the owner of formation %s, can ssh to its nodes", f.Owner, f.ID))
		return
	}
	info, err := s.nodes.SSH(c.Request.Context(), f, nodeOf(c))
	if err != nil {
		fail(c, invalid("%s", err))
		return
	}
	c.JSON(http.StatusOK, info)
}

// trustNode forgets the node's pinned host key, after the operator checked
// that the machine was rebuilt; the next contact pins the new key.
func (s *Server) trustNode(c *gin.Context) {
	n, err := s.nodes.Trust(c.Request.Context(), nodeOf(c))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, n)
}

// destroyFormation destroys the formation's nodes, then its apps and
// layers, in a job.
func (s *Server) destroyFormation(c *gin.Context) {
	f := formationOf(c)
	s.startJob(c, "formation.destroy", f.ID, func(ctx context.Context, p *progress) error {
		apps, err := s.store.ListFormationApps(ctx, f.ID)
		if err != nil {
			return fmt.Errorf("listing apps of formation %q: %w", f.ID, err)
		}
		p.Printf("destroying formation %s: %d apps, %d nodes", f.ID, len(apps), total(f.Nodes))
		if err := s.nodes.DestroyAll(ctx, f, p); err != nil {
			return err
		}
		if err := s.nodes.TeardownFormation(ctx, f); err != nil {
			return err
		}
		if err := s.store.DeleteFormation(ctx, f.ID); err != nil {
			return fmt.Errorf("deleting formation %q: %w", f.ID, err)
		}
		p.Printf("formation %s destroyed", f.ID)
		return nil
	})
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// reconcileNodes compares what the formation's cloud providers run with
// the store, in a job: untracked machines are reported, or adopted or
// terminated as asked; nodes whose machine is gone are marked lost and
// their containers move.
func (s *Server) reconcileNodes(c *gin.Context) {
	var req deis.NodeReconcileRequest
	if err := decode(c, &req); err != nil {
		fail(c, err)
		return
	}
	f := formationOf(c)
	policy := nodes.Report
	switch {
	case req.Adopt && req.Terminate:
		fail(c, invalid("adopt or terminate untracked machines, not both"))
		return
	case req.Adopt:
		policy = nodes.AdoptThem
	case req.Terminate:
		policy = nodes.Terminate
	}
	if policy != nodes.Report && f.Owner != currentUser(c).Username && !currentUser(c).Admin {
		fail(c, forbidden("only %s, the owner of formation %s, can adopt or terminate its machines", f.Owner, f.ID))
		return
	}
	s.startJob(c, "nodes.reconcile", f.ID, func(ctx context.Context, p *progress) error {
		lost, err := s.nodes.ReconcileCloud(ctx, &f, policy, p)
		if err != nil {
			return err
		}
		if len(lost) > 0 {
			return s.deploy.Reschedule(ctx, f.ID, nil, p)
		}
		return nil
	})
}

// adoptable refuses addresses users who are not admins may not adopt:
// the controller's own host (loopback, its interfaces' addresses) and
// link-local neighbours (a cloud's metadata service), and names that do not
// resolve. One answer for all, so that it tells nothing more.
func adoptable(ctx context.Context, address string) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		host = address
	}
	refuse := invalid("%s is not an address you may adopt: ask an admin", address)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil || len(addrs) == 0 {
		return refuse
	}
	own := map[string]bool{}
	if ifs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range ifs {
			if ipn, ok := a.(*net.IPNet); ok {
				own[ipn.IP.String()] = true
			}
		}
	}
	for _, a := range addrs {
		ip := a.IP
		if ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsUnspecified() || ip.IsMulticast() || own[ip.String()] {
			return refuse
		}
	}
	return nil
}
