package store

import (
	"context"
	"fmt"

	"github.com/deis/deis"
)

func layerLabel(formation, id string) string { return label("layer", formation, id) }

const layerCols = "formation, id, flavor, proxy, runtime, ssh_user, ssh_port, ssh_public_key, created, updated"

func scanLayer(sc scanner) (deis.Layer, error) {
	var l deis.Layer
	var created, updated int64
	err := sc.Scan(&l.Formation, &l.ID, &l.Flavor, &l.Proxy, &l.Runtime, &l.SSHUser, &l.SSHPort, &l.SSHPublicKey, &created, &updated)
	if err != nil {
		return deis.Layer{}, err
	}
	l.Created, l.Updated = fromMicros(created), fromMicros(updated)
	return l, nil
}

// lockFlavor checks that the formation exists and that flavor is one of
// its owner's flavors, and keeps the flavor from being deleted until the
// transaction ends.
func lockFlavor(ctx context.Context, h handle, formation, flavor string) error {
	var owner string
	if err := h.row(ctx, "SELECT owner FROM formations WHERE id = ?", formation).Scan(&owner); err != nil {
		return fmt.Errorf("formation %q: %w", formation, dbErr(err))
	}
	var one int
	err := h.row(ctx, "SELECT 1 FROM flavors WHERE owner = ? AND id = ?"+h.forShare(), owner, flavor).Scan(&one)
	if err != nil {
		return fmt.Errorf("flavor %q: %w", flavor, dbErr(err))
	}
	return nil
}

func (s *Store) createLayer(ctx context.Context, h handle, l deis.Layer, privateKey string) (deis.Layer, error) {
	l.Created = now()
	l.Updated = l.Created
	if err := lockFlavor(ctx, h, l.Formation, l.Flavor); err != nil {
		return deis.Layer{}, err
	}
	_, err := h.exec(ctx, "INSERT INTO layers ("+layerCols+", ssh_private_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		l.Formation, l.ID, l.Flavor, l.Proxy, l.Runtime, l.SSHUser, l.SSHPort, l.SSHPublicKey,
		micros(l.Created), micros(l.Updated), s.box.seal(layerLabel(l.Formation, l.ID), []byte(privateKey)))
	return l, err
}

// CreateLayer adds a layer to a formation. Its flavor must be one of the
// formation owner's, else ErrNotFound.
func (s *Store) CreateLayer(ctx context.Context, l deis.Layer, privateKey string) (deis.Layer, error) {
	err := s.inTx(ctx, func(h handle) error {
		var err error
		l, err = s.createLayer(ctx, h, l, privateKey)
		return err
	})
	if err != nil {
		return deis.Layer{}, fmt.Errorf("creating layer %q of formation %q: %w", l.ID, l.Formation, dbErr(err))
	}
	return l, nil
}

// GetLayer returns a layer of a formation.
func (s *Store) GetLayer(ctx context.Context, formation, id string) (deis.Layer, error) {
	l, err := scanLayer(s.h().row(ctx, "SELECT "+layerCols+" FROM layers WHERE formation = ? AND id = ?", formation, id))
	if err != nil {
		return deis.Layer{}, fmt.Errorf("getting layer %q of formation %q: %w", id, formation, dbErr(err))
	}
	return l, nil
}

// LayerPrivateKey returns a layer's SSH private key in clear.
func (s *Store) LayerPrivateKey(ctx context.Context, formation, id string) (string, error) {
	var sealed string
	err := s.h().row(ctx, "SELECT ssh_private_key FROM layers WHERE formation = ? AND id = ?", formation, id).Scan(&sealed)
	if err != nil {
		return "", fmt.Errorf("getting key of layer %q of formation %q: %w", id, formation, dbErr(err))
	}
	key, err := s.box.open(layerLabel(formation, id), sealed)
	if err != nil {
		return "", fmt.Errorf("opening key of layer %q of formation %q: %w", id, formation, err)
	}
	return string(key), nil
}

// ListLayers lists a formation's layers by id.
func (s *Store) ListLayers(ctx context.Context, formation string, p PageReq) ([]deis.Layer, int, error) {
	ls, total, err := list(ctx, s.h(), p, listQuery{cols: layerCols, from: "layers WHERE formation = ?", order: "id", args: []any{formation}}, scanLayer)
	if err != nil {
		return nil, 0, fmt.Errorf("listing layers of formation %q: %w", formation, err)
	}
	return ls, total, nil
}

// UpdateLayer changes a layer with mutate, in one transaction: mutate gets
// the layer as stored and its error aborts the update. A changed flavor
// must exist.
func (s *Store) UpdateLayer(ctx context.Context, formation, id string, mutate func(*deis.Layer) error) (deis.Layer, error) {
	var l deis.Layer
	err := s.inTx(ctx, func(h handle) error {
		var err error
		l, err = scanLayer(h.row(ctx, "SELECT "+layerCols+" FROM layers WHERE formation = ? AND id = ?"+h.forUpdate(), formation, id))
		if err != nil {
			return err
		}
		flavor := l.Flavor
		if err := mutate(&l); err != nil {
			return err
		}
		l.Formation, l.ID = formation, id
		if l.Flavor != flavor {
			if err := lockFlavor(ctx, h, formation, l.Flavor); err != nil {
				return err
			}
		}
		l.Updated = now()
		_, err = h.exec(ctx, "UPDATE layers SET flavor = ?, proxy = ?, runtime = ?, ssh_user = ?, ssh_port = ?, updated = ?"+
			" WHERE formation = ? AND id = ?", l.Flavor, l.Proxy, l.Runtime, l.SSHUser, l.SSHPort, micros(l.Updated), formation, id)
		return err
	})
	if err != nil {
		return deis.Layer{}, fmt.Errorf("updating layer %q of formation %q: %w", id, formation, dbErr(err))
	}
	return l, nil
}

// DeleteLayer removes a layer and its nodes.
func (s *Store) DeleteLayer(ctx context.Context, formation, id string) error {
	if err := affected(s.h().exec(ctx, "DELETE FROM layers WHERE formation = ? AND id = ?", formation, id)); err != nil {
		return fmt.Errorf("deleting layer %q of formation %q: %w", id, formation, err)
	}
	return nil
}
