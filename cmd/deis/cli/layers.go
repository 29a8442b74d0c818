package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/deis/deis"
	"github.com/spf13/cobra"
)

func (c *cli) layersCommands() []*cobra.Command {
	return []*cobra.Command{
		c.layersCreateCmd(), c.layersListCmd(), c.layersInfoCmd(),
		c.layersUpdateCmd(), c.layersDestroyCmd(),
	}
}

// layerFlags are the optional flags of layers:create and layers:update.
type layerFlags struct {
	cmd            *cobra.Command
	proxy, runtime string
	sshUser        string
	sshPort        int
	flavor         string
}

func (f *layerFlags) add(cmd *cobra.Command, withFlavor bool) {
	f.cmd = cmd
	cmd.Flags().StringVar(&f.proxy, "proxy", "", "y|n: the layer's nodes run nginx and route to apps (default y)")
	cmd.Flags().StringVar(&f.runtime, "runtime", "", "y|n: the layer's nodes run app containers (default y)")
	cmd.Flags().StringVar(&f.sshUser, "ssh-user", "", "the user to SSH in as (default root)")
	cmd.Flags().IntVar(&f.sshPort, "ssh-port", 0, "the SSH port of the nodes (default 22)")
	if withFlavor {
		cmd.Flags().StringVar(&f.flavor, "flavor", "", "a new flavor for nodes made from now on")
	}
}

// update builds a LayerUpdateRequest from the flags that were given.
func (f *layerFlags) update() (deis.LayerUpdateRequest, int, error) {
	var req deis.LayerUpdateRequest
	n := 0
	for _, yn := range []struct {
		name string
		val  string
		dst  **bool
	}{{"proxy", f.proxy, &req.Proxy}, {"runtime", f.runtime, &req.Runtime}} {
		if !f.cmd.Flags().Changed(yn.name) {
			continue
		}
		b, err := parseYesNo(yn.name, yn.val)
		if err != nil {
			return req, 0, err
		}
		*yn.dst, n = &b, n+1
	}
	if f.cmd.Flags().Changed("ssh-user") {
		req.SSHUser, n = &f.sshUser, n+1
	}
	if f.cmd.Flags().Changed("ssh-port") {
		if f.sshPort < 1 || f.sshPort > 65535 {
			return req, 0, usageError{fmt.Sprintf("--ssh-port %d is not a port", f.sshPort)}
		}
		req.SSHPort, n = &f.sshPort, n+1
	}
	if f.cmd.Flags().Changed("flavor") {
		req.Flavor, n = &f.flavor, n+1
	}
	return req, n, nil
}

func (c *cli) layersCreateCmd() *cobra.Command {
	var f layerFlags
	cmd := command("layers:create FORMATION ID FLAVOR", "create a layer of nodes of one flavor", exactArgs(3),
		func(ctx context.Context, args []string) error {
			u, _, err := f.update()
			if err != nil {
				return err
			}
			req := deis.LayerCreateRequest{ID: args[1], Flavor: args[2], Proxy: u.Proxy, Runtime: u.Runtime, SSHUser: f.sshUser}
			if u.SSHPort != nil {
				req.SSHPort = *u.SSHPort
			}
			ctl, err := c.client()
			if err != nil {
				return err
			}
			l, err := ctl.CreateLayer(ctx, args[0], req)
			if err != nil {
				return err
			}
			return c.show(l, func(w io.Writer) {
				fmt.Fprintf(w, "Created layer %s in formation %s (proxy %s, runtime %s)\n", l.ID, l.Formation, yesNo(l.Proxy), yesNo(l.Runtime))
			})
		})
	f.add(cmd, false)
	return cmd
}

func (c *cli) layersListCmd() *cobra.Command {
	cmd := command("layers:list FORMATION", "list the layers of a formation", exactArgs(1),
		func(ctx context.Context, args []string) error {
			ctl, err := c.client()
			if err != nil {
				return err
			}
			ls, err := ctl.ListLayers(ctx, args[0])
			if err != nil {
				return err
			}
			return c.show(ls, func(io.Writer) { c.layersTable(ls) })
		})
	cmd.Aliases = []string{"layers"}
	return cmd
}

func (c *cli) layersTable(ls []deis.Layer) {
	var rows [][]string
	for _, l := range ls {
		rows = append(rows, []string{l.ID, l.Flavor, yesNo(l.Proxy), yesNo(l.Runtime), l.SSHUser + ":" + strconv.Itoa(l.SSHPort)})
	}
	c.table("no layers", []string{"ID", "FLAVOR", "PROXY", "RUNTIME", "SSH"}, rows)
}

func printLayer(w io.Writer, l deis.Layer) {
	fields(w, "formation", l.Formation, "id", l.ID, "flavor", l.Flavor,
		"proxy", yesNo(l.Proxy), "runtime", yesNo(l.Runtime),
		"ssh user", l.SSHUser, "ssh port", strconv.Itoa(l.SSHPort),
		"created", fmtTime(l.Created), "updated", fmtTime(l.Updated))
	if l.SSHPublicKey != "" {
		fmt.Fprintf(w, "public key:\n%s\n", l.SSHPublicKey)
	}
}

func (c *cli) layersInfoCmd() *cobra.Command {
	return command("layers:info FORMATION ID", "show a layer and its SSH public key", exactArgs(2),
		func(ctx context.Context, args []string) error {
			ctl, err := c.client()
			if err != nil {
				return err
			}
			l, err := ctl.GetLayer(ctx, args[0], args[1])
			if err != nil {
				return err
			}
			return c.show(l, func(w io.Writer) { printLayer(w, l) })
		})
}

func (c *cli) layersUpdateCmd() *cobra.Command {
	var f layerFlags
	cmd := command("layers:update FORMATION ID", "change a layer", exactArgs(2),
		func(ctx context.Context, args []string) error {
			req, n, err := f.update()
			if err != nil {
				return err
			}
			if n == 0 {
				return usageError{"nothing to update: give --flavor, --proxy, --runtime, --ssh-user or --ssh-port"}
			}
			ctl, err := c.client()
			if err != nil {
				return err
			}
			l, err := ctl.UpdateLayer(ctx, args[0], args[1], req)
			if err != nil {
				return err
			}
			return c.show(l, func(w io.Writer) { printLayer(w, l) })
		})
	f.add(cmd, true)
	return cmd
}

func (c *cli) layersDestroyCmd() *cobra.Command {
	return command("layers:destroy FORMATION ID", "destroy an empty layer", exactArgs(2),
		func(ctx context.Context, args []string) error {
			ctl, err := c.client()
			if err != nil {
				return err
			}
			if err := ctl.DeleteLayer(ctx, args[0], args[1]); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "Destroyed layer %s of formation %s\n", args[1], args[0])
			return nil
		})
}
