package store

import (
	"context"
	"fmt"

	"github.com/deis/deis"
)

// LayerSpec is a layer to create with its SSH private key, which is stored
// sealed.
type LayerSpec struct {
	Layer      deis.Layer
	PrivateKey string
}

const formationCols = "id, owner, domain, created, updated"

func scanFormation(sc scanner) (deis.Formation, error) {
	var f deis.Formation
	var created, updated int64
	if err := sc.Scan(&f.ID, &f.Owner, &f.Domain, &created, &updated); err != nil {
		return deis.Formation{}, err
	}
	f.Created, f.Updated = fromMicros(created), fromMicros(updated)
	f.Nodes = map[string]int{}
	return f, nil
}

// CreateFormation adds a formation and the given layers in one transaction.
func (s *Store) CreateFormation(ctx context.Context, f deis.Formation, layers ...LayerSpec) (deis.Formation, error) {
	f.Created = now()
	f.Updated = f.Created
	f.Nodes = map[string]int{}
	err := s.inTx(ctx, func(h handle) error {
		_, err := h.exec(ctx, "INSERT INTO formations ("+formationCols+") VALUES (?, ?, ?, ?, ?)",
			f.ID, f.Owner, f.Domain, micros(f.Created), micros(f.Updated))
		if err != nil {
			return err
		}
		for _, spec := range layers {
			spec.Layer.Formation = f.ID
			if _, err := s.createLayer(ctx, h, spec.Layer, spec.PrivateKey); err != nil {
				return fmt.Errorf("creating layer %q: %w", spec.Layer.ID, err)
			}
			f.Nodes[spec.Layer.ID] = 0
		}
		return nil
	})
	if err != nil {
		return deis.Formation{}, fmt.Errorf("creating formation %q: %w", f.ID, dbErr(err))
	}
	return f, nil
}

// GetFormation returns a formation its owner or an admin can see; others
// get ErrNotFound.
func (s *Store) GetFormation(ctx context.Context, v Viewer, id string) (deis.Formation, error) {
	f, err := s.getFormation(ctx, s.h(), v, id)
	if err != nil {
		return deis.Formation{}, fmt.Errorf("getting formation %q: %w", id, dbErr(err))
	}
	return f, nil
}

func (s *Store) getFormation(ctx context.Context, h handle, v Viewer, id string) (deis.Formation, error) {
	q, args := "SELECT "+formationCols+" FROM formations WHERE id = ?", []any{id}
	if !v.Admin {
		q, args = q+" AND owner = ?", append(args, v.Username)
	}
	f, err := scanFormation(h.row(ctx, q, args...))
	if err != nil {
		return deis.Formation{}, err
	}
	if err := s.countNodes(ctx, h, []*deis.Formation{&f}); err != nil {
		return deis.Formation{}, err
	}
	return f, nil
}

// ListFormations lists, by id, the viewer's formations, or all for an admin.
func (s *Store) ListFormations(ctx context.Context, v Viewer, p PageReq) ([]deis.Formation, int, error) {
	q := listQuery{cols: formationCols, from: "formations", order: "id"}
	if !v.Admin {
		q.from, q.args = "formations WHERE owner = ?", []any{v.Username}
	}
	fs, total, err := list(ctx, s.h(), p, q, scanFormation)
	if err == nil {
		ptrs := make([]*deis.Formation, len(fs))
		for i := range fs {
			ptrs[i] = &fs[i]
		}
		err = s.countNodes(ctx, s.h(), ptrs)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("listing formations: %w", err)
	}
	return fs, total, nil
}

// countNodes fills in Nodes (layer id -> node count, every layer) for fs.
func (s *Store) countNodes(ctx context.Context, h handle, fs []*deis.Formation) error {
	if len(fs) == 0 {
		return nil
	}
	byID := make(map[string]*deis.Formation, len(fs))
	args := make([]any, len(fs))
	for i, f := range fs {
		byID[f.ID], args[i] = f, f.ID
	}
	rows, err := h.query(ctx, "SELECT l.formation, l.id, COUNT(n.id) FROM layers l"+
		" LEFT JOIN nodes n ON n.formation = l.formation AND n.layer = l.id"+
		" WHERE l.formation IN ("+placeholders(len(args))+") GROUP BY l.formation, l.id", args...)
	if err != nil {
		return fmt.Errorf("counting nodes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var fm, layer string
		var n int
		if err := rows.Scan(&fm, &layer, &n); err != nil {
			return fmt.Errorf("counting nodes: %w", err)
		}
		byID[fm].Nodes[layer] = n
	}
	return rows.Err()
}

// UpdateFormation sets a formation's domain.
func (s *Store) UpdateFormation(ctx context.Context, id, domain string) (deis.Formation, error) {
	var f deis.Formation
	err := s.inTx(ctx, func(h handle) error {
		err := affected(h.exec(ctx, "UPDATE formations SET domain = ?, updated = ? WHERE id = ?", domain, micros(now()), id))
		if err != nil {
			return err
		}
		f, err = s.getFormation(ctx, h, Viewer{Admin: true}, id)
		return err
	})
	if err != nil {
		return deis.Formation{}, fmt.Errorf("updating formation %q: %w", id, dbErr(err))
	}
	return f, nil
}

// DeleteFormation removes a formation with its layers, nodes and apps (and
// everything of those apps).
func (s *Store) DeleteFormation(ctx context.Context, id string) error {
	if err := affected(s.h().exec(ctx, "DELETE FROM formations WHERE id = ?", id)); err != nil {
		return fmt.Errorf("deleting formation %q: %w", id, err)
	}
	return nil
}
