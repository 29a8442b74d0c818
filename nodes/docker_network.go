package nodes

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

// legacyNetworkName is the one bridge every node container shared before
// each formation got its own. Docker does not keep network names unique,
// so concurrent creations left duplicates of it; Reconcile removes them
// once nothing uses them.
const legacyNetworkName = "deis-nodes"

// networkName is the name of formation's bridge network. It is only a
// name for people: deis finds the network by its labels and uses it by ID,
// since Docker lets two networks share a name.
func (d *Docker) networkName(formation string) string {
	return d.containerName(formation)
}

func (d *Docker) networkFilters(formation string) client.Filters {
	f := client.Filters{}.Add("label", LabelManaged+"=1", LabelController+"="+d.Controller)
	if formation != "" {
		f.Add("label", LabelFormation+"="+formation)
	}
	return f
}

// formationNetwork returns the ID of the network formation's nodes are on,
// creating it when it does not exist. Nodes of one formation starting at
// once get one network: creation is serialized in this process (Docker
// itself would make two of one name), and when several exist (two
// processes racing, or a crash) the oldest is used, the same one by every
// caller; a network this call made that lost is removed again. A
// formation whose nodes an older version put on the shared network keeps
// that one, so its old and new nodes reach each other.
func (d *Docker) formationNetwork(ctx context.Context, formation string) (string, error) {
	if formation == "" {
		return "", errors.New("a node network needs a formation")
	}
	d.netMu.Lock()
	defer d.netMu.Unlock()
	if id, err := d.nodesNetwork(ctx, formation); err != nil || id != "" {
		return id, err
	}
	if id, err := d.findNetwork(ctx, formation); err != nil || id != "" {
		return id, err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res, err := d.API.NetworkCreate(ctx, d.networkName(formation), client.NetworkCreateOptions{
		Driver: "bridge",
		Labels: map[string]string{LabelManaged: "1", LabelController: d.Controller, LabelFormation: formation},
	})
	if err != nil {
		return "", fmt.Errorf("creating network %s for formation %s: %w", d.networkName(formation), formation, err)
	}
	id, err := d.findNetwork(ctx, formation)
	if err != nil {
		return "", err
	}
	if id != res.ID {
		d.Log.Warn("another process made the formation's network too: using the oldest", "formation", formation, "network", shortID(id))
		d.API.NetworkRemove(ctx, res.ID, client.NetworkRemoveOptions{})
		return id, nil
	}
	d.Log.Info("network created", "formation", formation, "network", shortID(res.ID))
	return res.ID, nil
}

// nodesNetwork returns the network formation's node containers are on,
// "" when it has none.
func (d *Docker) nodesNetwork(ctx context.Context, formation string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res, err := d.API.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: client.Filters{}.Add("label",
		LabelManaged+"=1", LabelController+"="+d.Controller, LabelFormation+"="+formation)})
	if err != nil {
		return "", fmt.Errorf("listing nodes of formation %s: %w", formation, err)
	}
	for _, c := range res.Items {
		if c.NetworkSettings == nil {
			continue
		}
		for _, ep := range c.NetworkSettings.Networks {
			if ep != nil && ep.NetworkID != "" {
				return ep.NetworkID, nil
			}
		}
	}
	return "", nil
}

// findNetwork returns the ID of formation's network, "" when it has none.
func (d *Docker) findNetwork(ctx context.Context, formation string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res, err := d.API.NetworkList(ctx, client.NetworkListOptions{Filters: d.networkFilters(formation)})
	if err != nil {
		return "", fmt.Errorf("listing networks of formation %s: %w", formation, err)
	}
	if len(res.Items) == 0 {
		return "", nil
	}
	return oldestNetwork(res.Items).ID, nil
}

// oldestNetwork is the network created first, by ID when two were created
// at the same instant.
func oldestNetwork(ns []network.Summary) network.Summary {
	return slices.MinFunc(ns, func(a, b network.Summary) int {
		return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.ID, b.ID))
	})
}

// RemoveNetwork removes formation's network(s) (every network of this
// controller when formation is empty), once its node containers are gone.
// A network still in use is an error: its containers would lose their
// addresses.
func (d *Docker) RemoveNetwork(ctx context.Context, formation string) error {
	d.netMu.Lock()
	defer d.netMu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res, err := d.API.NetworkList(ctx, client.NetworkListOptions{Filters: d.networkFilters(formation)})
	if err != nil {
		return fmt.Errorf("listing networks of formation %s: %w", formation, err)
	}
	for _, n := range res.Items {
		if _, err := d.API.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{}); err != nil && !cerrdefs.IsNotFound(err) {
			return fmt.Errorf("removing network %s of formation %s: %w", shortID(n.ID), formation, err)
		}
		d.Log.Info("network removed", "formation", formation, "network", shortID(n.ID))
	}
	return nil
}

// pruneNetworks removes the networks this controller made for formations
// keep does not name, and the legacy shared network, when no container
// uses them; it returns how many it removed. Networks in use stay (Docker
// refuses to remove them).
func (d *Docker) pruneNetworks(ctx context.Context, keep func(formation string) bool) (int, error) {
	d.netMu.Lock()
	defer d.netMu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	res, err := d.API.NetworkList(ctx, client.NetworkListOptions{Filters: client.Filters{}.Add("label", LabelManaged+"=1")})
	if err != nil {
		return 0, fmt.Errorf("listing networks: %w", err)
	}
	removed := 0
	for _, n := range res.Items {
		ours := n.Labels[LabelController] == d.Controller && n.Labels[LabelFormation] != "" && !keep(n.Labels[LabelFormation])
		legacy := n.Name == legacyNetworkName && n.Labels[LabelController] == ""
		if !ours && !legacy {
			continue
		}
		if _, err := d.API.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{}); err != nil {
			if !cerrdefs.IsNotFound(err) && !cerrdefs.IsConflict(err) && !cerrdefs.IsPermissionDenied(err) {
				d.Log.Warn("removing an unused network", "network", n.Name, "id", shortID(n.ID), "err", err)
			}
			continue
		}
		removed++
		d.Log.Info("removed an unused network", "network", n.Name, "id", shortID(n.ID))
	}
	return removed, nil
}
