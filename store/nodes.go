package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/deis/deis"
)

const nodeCols = "id, formation, layer, num, provider_id, address, public, private, host_key, status, created, updated"

func scanNode(sc scanner) (deis.Node, error) {
	var n deis.Node
	var status string
	var created, updated int64
	err := sc.Scan(&n.ID, &n.Formation, &n.Layer, &n.Num, &n.ProviderID, &n.Address, &n.Public, &n.Private, &n.HostKey, &status, &created, &updated)
	if err != nil {
		return deis.Node{}, err
	}
	if err := json.Unmarshal([]byte(status), &n.Status); err != nil {
		return deis.Node{}, fmt.Errorf("decoding status: %w", err)
	}
	n.Status.Checked = norm(n.Status.Checked)
	n.Created, n.Updated = fromMicros(created), fromMicros(updated)
	return n, nil
}

// encodeStatus stores the status as JSON, its time normalized like the
// store's others.
func encodeStatus(st deis.NodeStatus) string {
	st.Checked = norm(st.Checked)
	b, err := json.Marshal(st)
	if err != nil { // plain fields always encode
		panic(err)
	}
	return string(b)
}

// CreateNode adds a node to a layer. It ignores n.ID and n.Num and assigns
// them: Num is one more than the layer's highest, ID is
// <formation>-<layer>-<num>.
func (s *Store) CreateNode(ctx context.Context, n deis.Node) (deis.Node, error) {
	n.Created = now()
	n.Updated = n.Created
	n.Status.Checked = norm(n.Status.Checked)
	err := s.inTx(ctx, func(h handle) error {
		var one int
		err := h.row(ctx, "SELECT 1 FROM layers WHERE formation = ? AND id = ?"+h.forUpdate(), n.Formation, n.Layer).Scan(&one)
		if err != nil {
			return fmt.Errorf("layer %q: %w", n.Layer, dbErr(err))
		}
		err = h.row(ctx, "SELECT COALESCE(MAX(num), 0) + 1 FROM nodes WHERE formation = ? AND layer = ?", n.Formation, n.Layer).Scan(&n.Num)
		if err != nil {
			return err
		}
		n.ID = fmt.Sprintf("%s-%s-%d", n.Formation, n.Layer, n.Num)
		_, err = h.exec(ctx, "INSERT INTO nodes ("+nodeCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			n.ID, n.Formation, n.Layer, n.Num, n.ProviderID, n.Address, n.Public, n.Private, n.HostKey, encodeStatus(n.Status),
			micros(n.Created), micros(n.Updated))
		return err
	})
	if err != nil {
		return deis.Node{}, fmt.Errorf("creating node in layer %q of formation %q: %w", n.Layer, n.Formation, dbErr(err))
	}
	return n, nil
}

// GetNode returns a node by id.
func (s *Store) GetNode(ctx context.Context, id string) (deis.Node, error) {
	n, err := scanNode(s.h().row(ctx, "SELECT "+nodeCols+" FROM nodes WHERE id = ?", id))
	if err != nil {
		return deis.Node{}, fmt.Errorf("getting node %q: %w", id, dbErr(err))
	}
	return n, nil
}

// ListNodes lists a formation's nodes by layer, then number.
func (s *Store) ListNodes(ctx context.Context, formation string, p PageReq) ([]deis.Node, int, error) {
	ns, total, err := list(ctx, s.h(), p, listQuery{cols: nodeCols, from: "nodes WHERE formation = ?", order: "layer, num", args: []any{formation}}, scanNode)
	if err != nil {
		return nil, 0, fmt.Errorf("listing nodes of formation %q: %w", formation, err)
	}
	return ns, total, nil
}

// ListAllNodes returns every node of every formation, by id: the controller
// reconciles them with what the providers run.
func (s *Store) ListAllNodes(ctx context.Context) ([]deis.Node, error) {
	ns, _, err := list(ctx, s.h(), PageReq{}, listQuery{cols: nodeCols, from: "nodes", order: "id"}, scanNode)
	if err != nil {
		return nil, fmt.Errorf("listing nodes: %w", err)
	}
	return ns, nil
}

// UpdateNode changes node id with mutate, in one transaction: mutate gets
// the node as stored now (not a copy read before, which a concurrent
// drain, trust or lost mark may have made stale) and sets what it
// changes; its error aborts the update. Addresses, provider id, host key
// and status are saved.
func (s *Store) UpdateNode(ctx context.Context, id string, mutate func(*deis.Node) error) (deis.Node, error) {
	var n deis.Node
	err := s.inTx(ctx, func(h handle) error {
		var err error
		if n, err = scanNode(h.row(ctx, "SELECT "+nodeCols+" FROM nodes WHERE id = ?"+h.forUpdate(), id)); err != nil {
			return err
		}
		if err := mutate(&n); err != nil {
			return err
		}
		n.Status.Checked = norm(n.Status.Checked)
		n.Updated = now()
		return affected(h.exec(ctx, "UPDATE nodes SET address = ?, public = ?, private = ?, provider_id = ?, host_key = ?, status = ?, updated = ? WHERE id = ?",
			n.Address, n.Public, n.Private, n.ProviderID, n.HostKey, encodeStatus(n.Status), micros(n.Updated), id))
	})
	if err != nil {
		return deis.Node{}, fmt.Errorf("updating node %q: %w", id, dbErr(err))
	}
	return n, nil
}

// DeleteNode removes a node.
func (s *Store) DeleteNode(ctx context.Context, id string) error {
	if err := affected(s.h().exec(ctx, "DELETE FROM nodes WHERE id = ?", id)); err != nil {
		return fmt.Errorf("deleting node %q: %w", id, err)
	}
	return nil
}
