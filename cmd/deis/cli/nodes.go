package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/deis/deis"
	"github.com/deis/deis/client"
	"github.com/spf13/cobra"
)

func (c *cli) nodesCommands() []*cobra.Command {
	return []*cobra.Command{
		c.nodesScaleCmd(), c.nodesCreateCmd(), c.nodesListCmd(), c.nodesInfoCmd(),
		c.nodesConvergeCmd(), c.nodesSSHCmd(), c.nodesDestroyCmd(), c.nodesTrustCmd(),
	}
}

func (c *cli) nodesScaleCmd() *cobra.Command {
	var jf jobFlags
	cmd := command("nodes:scale FORMATION LAYER=N ...", "provision or terminate nodes to reach N per layer", minArgs(2),
		func(ctx context.Context, args []string) error {
			counts, err := parseCounts(args[1:])
			if err != nil {
				return err
			}
			ctl, err := c.client()
			if err != nil {
				return err
			}
			job, err := ctl.ScaleNodes(ctx, args[0], deis.NodeScaleRequest(counts))
			if err != nil {
				return err
			}
			return c.followJob(ctx, ctl, job, jf.noWait)
		})
	jf.add(cmd, false)
	return cmd
}

func (c *cli) nodesCreateCmd() *cobra.Command {
	var jf jobFlags
	var layer string
	cmd := command("nodes:create FORMATION HOST[:PORT] --layer L", "adopt an existing host into a layer", exactArgs(2),
		func(ctx context.Context, args []string) error {
			if layer == "" {
				return usageError{"missing --layer"}
			}
			ctl, err := c.client()
			if err != nil {
				return err
			}
			job, err := ctl.CreateNode(ctx, args[0], deis.NodeCreateRequest{Layer: layer, Address: args[1]})
			if err != nil {
				return err
			}
			return c.followJob(ctx, ctl, job, jf.noWait)
		})
	cmd.Flags().StringVar(&layer, "layer", "", "the layer the node joins")
	jf.add(cmd, false)
	return cmd
}

func (c *cli) nodesListCmd() *cobra.Command {
	var refresh, adopt, terminate bool
	cmd := command("nodes:list FORMATION", "list the nodes of a formation", exactArgs(1),
		func(ctx context.Context, args []string) error {
			if (adopt || terminate) && !refresh {
				return errors.New("--adopt and --terminate need --refresh")
			}
			if adopt && terminate {
				return errors.New("use --adopt or --terminate, not both")
			}
			ctl, err := c.client()
			if err != nil {
				return err
			}
			fetch := ctl.ListNodes
			if refresh {
				if err := c.reconcileNodes(ctx, ctl, args[0], deis.NodeReconcileRequest{Adopt: adopt, Terminate: terminate}); err != nil {
					return err
				}
				fetch = ctl.RefreshNodes
			}
			ns, err := fetch(ctx, args[0])
			if err != nil {
				return err
			}
			return c.show(ns, func(io.Writer) { c.nodesTable(ns) })
		})
	cmd.Aliases = []string{"nodes"}
	cmd.Flags().BoolVar(&refresh, "refresh", false, "compare the formation's cloud machines with its nodes, then check every node (SSH, Docker engine, nginx) before listing")
	cmd.Flags().BoolVar(&adopt, "adopt", false, "with --refresh: make cloud machines that no node names nodes of their layer")
	cmd.Flags().BoolVar(&terminate, "terminate", false, "with --refresh: terminate cloud machines that no node names")
	return cmd
}

// reconcileNodes runs the formation's cloud reconcile job and prints what it
// found on stderr.
func (c *cli) reconcileNodes(ctx context.Context, ctl *client.Client, formation string, req deis.NodeReconcileRequest) error {
	job, err := ctl.ReconcileNodes(ctx, formation, req)
	if err != nil {
		return err
	}
	final, err := ctl.FollowJob(ctx, job.ID, func(l deis.JobLine) { fmt.Fprintln(c.stderr, l.Text) })
	if err != nil {
		return err
	}
	if final.State == deis.JobFailed {
		return fmt.Errorf("reconciling the nodes of %s: %s", formation, final.Error)
	}
	return nil
}

func (c *cli) nodesTrustCmd() *cobra.Command {
	return command("nodes:trust NODE", "forget a node's pinned SSH host key (after rebuilding the machine)", exactArgs(1),
		func(ctx context.Context, args []string) error {
			ctl, err := c.client()
			if err != nil {
				return err
			}
			if _, err := ctl.TrustNode(ctx, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "Forgot the host key of %s: the next contact pins the key it presents\n", args[0])
			return nil
		})
}

func (c *cli) nodesTable(ns []deis.Node) {
	var rows [][]string
	for _, n := range ns {
		s := n.Status
		rows = append(rows, []string{n.ID, n.Layer, orDash(n.Address), orDash(string(s.State)),
			yesNo(s.Reachable), yesNo(s.Docker), yesNo(s.Nginx), orDash(n.Public)})
	}
	c.table("no nodes", []string{"ID", "LAYER", "ADDRESS", "STATE", "REACHABLE", "DOCKER", "NGINX", "HTTP"}, rows)
}

func (c *cli) nodesInfoCmd() *cobra.Command {
	var refresh bool
	cmd := command("nodes:info NODE", "show a node and its status", exactArgs(1),
		func(ctx context.Context, args []string) error {
			ctl, err := c.client()
			if err != nil {
				return err
			}
			get := ctl.GetNode
			if refresh {
				get = ctl.RefreshNode
			}
			n, err := get(ctx, args[0])
			if err != nil {
				return err
			}
			return c.show(n, func(w io.Writer) {
				s := n.Status
				fields(w, "id", n.ID, "formation", n.Formation, "layer", n.Layer, "num", strconv.Itoa(n.Num),
					"provider id", n.ProviderID, "address", n.Address, "host key", n.HostKey,
					"state", string(s.State), "reachable", yesNo(s.Reachable), "docker", yesNo(s.Docker),
					"nginx", yesNo(s.Nginx), "message", s.Message, "checked", fmtTime(s.Checked),
					"created", fmtTime(n.Created), "updated", fmtTime(n.Updated))
			})
		})
	cmd.Flags().BoolVar(&refresh, "refresh", false, "check the node (SSH, Docker engine, nginx) first")
	return cmd
}

func (c *cli) nodesConvergeCmd() *cobra.Command {
	var jf jobFlags
	cmd := command("nodes:converge NODE", "bring one node to its desired state", exactArgs(1),
		func(ctx context.Context, args []string) error {
			ctl, err := c.client()
			if err != nil {
				return err
			}
			if jf.dryRun {
				plans, err := ctl.PlanNode(ctx, args[0])
				if err != nil {
					return err
				}
				return c.showPlans(plans)
			}
			job, err := ctl.ConvergeNode(ctx, args[0])
			if err != nil {
				return err
			}
			return c.followJob(ctx, ctl, job, jf.noWait)
		})
	jf.add(cmd, true)
	return cmd
}

func (c *cli) nodesDestroyCmd() *cobra.Command {
	var jf jobFlags
	cmd := command("nodes:destroy NODE", "terminate a node", exactArgs(1),
		func(ctx context.Context, args []string) error {
			ctl, err := c.client()
			if err != nil {
				return err
			}
			job, err := ctl.DestroyNode(ctx, args[0])
			if err != nil {
				return err
			}
			return c.followJob(ctx, ctl, job, jf.noWait)
		})
	jf.add(cmd, false)
	return cmd
}

func (c *cli) nodesSSHCmd() *cobra.Command {
	cmd := command("nodes:ssh NODE [CMD ...]", "open an SSH session (or run CMD) on a node with its layer's key", minArgs(1),
		func(ctx context.Context, args []string) error {
			ctl, err := c.client()
			if err != nil {
				return err
			}
			info, err := ctl.NodeSSH(ctx, args[0])
			if err != nil {
				return err
			}
			return c.ssh(ctx, info, args[1:])
		})
	cmd.Aliases = []string{"ssh"}
	cmd.Flags().SetInterspersed(false) // flags after NODE belong to CMD
	return cmd
}

// showPlans prints what a converge would change, node by node; a node
// that could not be planned makes the command fail after printing.
func (c *cli) showPlans(plans []deis.NodePlan) error {
	if c.json {
		return c.printJSON(plans)
	}
	failed := 0
	for _, np := range plans {
		switch {
		case np.Error != "":
			failed++
			fmt.Fprintf(c.stdout, "%s: cannot plan: %s\n", np.Node, np.Error)
		case len(np.Changes) == 0:
			fmt.Fprintf(c.stdout, "%s: nothing to change (%d unchanged)\n", np.Node, np.Unchanged)
		default:
			fmt.Fprintf(c.stdout, "%s: %d to change, %d unchanged\n", np.Node, len(np.Changes), np.Unchanged)
		}
		for _, ch := range np.Changes {
			line := "  " + ch.Result + ": " + ch.Resource
			if ch.Message != "" {
				line += " (" + ch.Message + ")"
			}
			fmt.Fprintln(c.stdout, line)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d nodes could not be planned", failed, len(plans))
	}
	return nil
}
