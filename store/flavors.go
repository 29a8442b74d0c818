package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/deis/deis"
)

const flavorCols = "owner, id, provider, params, created, updated"

func scanFlavor(sc scanner) (deis.Flavor, error) {
	var f deis.Flavor
	var params string
	var created, updated int64
	if err := sc.Scan(&f.Owner, &f.ID, &f.Provider, &params, &created, &updated); err != nil {
		return deis.Flavor{}, err
	}
	if err := json.Unmarshal([]byte(params), &f.Params); err != nil {
		return deis.Flavor{}, fmt.Errorf("decoding params: %w", err)
	}
	if f.Params == nil {
		f.Params = map[string]string{}
	}
	f.Created, f.Updated = fromMicros(created), fromMicros(updated)
	return f, nil
}

// encodeJSON encodes a map column; nil becomes {}.
func encodeJSON[V any](m map[string]V) string {
	if m == nil {
		return "{}"
	}
	b, err := json.Marshal(m)
	if err != nil { // maps of strings and ints always encode
		panic(err)
	}
	return string(b)
}

// lockProvider checks a provider exists and keeps it from being deleted
// until the transaction ends.
func lockProvider(ctx context.Context, h handle, owner, id string) error {
	var one int
	err := h.row(ctx, "SELECT 1 FROM providers WHERE owner = ? AND id = ?"+h.forShare(), owner, id).Scan(&one)
	if err != nil {
		return fmt.Errorf("provider %q: %w", id, dbErr(err))
	}
	return nil
}

// CreateFlavor adds a flavor. Its provider must be one of the owner's,
// else ErrNotFound.
func (s *Store) CreateFlavor(ctx context.Context, f deis.Flavor) (deis.Flavor, error) {
	f.Created = now()
	f.Updated = f.Created
	if f.Params == nil {
		f.Params = map[string]string{}
	}
	err := s.inTx(ctx, func(h handle) error {
		if err := lockProvider(ctx, h, f.Owner, f.Provider); err != nil {
			return err
		}
		_, err := h.exec(ctx, "INSERT INTO flavors ("+flavorCols+") VALUES (?, ?, ?, ?, ?, ?)",
			f.Owner, f.ID, f.Provider, encodeJSON(f.Params), micros(f.Created), micros(f.Updated))
		return err
	})
	if err != nil {
		return deis.Flavor{}, fmt.Errorf("creating flavor %q of %q: %w", f.ID, f.Owner, dbErr(err))
	}
	return f, nil
}

// GetFlavor returns one of a user's flavors.
func (s *Store) GetFlavor(ctx context.Context, owner, id string) (deis.Flavor, error) {
	f, err := scanFlavor(s.h().row(ctx, "SELECT "+flavorCols+" FROM flavors WHERE owner = ? AND id = ?", owner, id))
	if err != nil {
		return deis.Flavor{}, fmt.Errorf("getting flavor %q of %q: %w", id, owner, dbErr(err))
	}
	return f, nil
}

// ListFlavors lists a user's flavors by id.
func (s *Store) ListFlavors(ctx context.Context, owner string, p PageReq) ([]deis.Flavor, int, error) {
	fs, total, err := list(ctx, s.h(), p, listQuery{cols: flavorCols, from: "flavors WHERE owner = ?", order: "id", args: []any{owner}}, scanFlavor)
	if err != nil {
		return nil, 0, fmt.Errorf("listing flavors of %q: %w", owner, err)
	}
	return fs, total, nil
}

// UpdateFlavor changes a flavor with mutate, in one transaction: mutate
// gets the flavor as stored and its error aborts the update. A changed
// provider must exist.
func (s *Store) UpdateFlavor(ctx context.Context, owner, id string, mutate func(*deis.Flavor) error) (deis.Flavor, error) {
	var f deis.Flavor
	err := s.inTx(ctx, func(h handle) error {
		var err error
		f, err = scanFlavor(h.row(ctx, "SELECT "+flavorCols+" FROM flavors WHERE owner = ? AND id = ?"+h.forUpdate(), owner, id))
		if err != nil {
			return err
		}
		provider := f.Provider
		if err := mutate(&f); err != nil {
			return err
		}
		f.Owner, f.ID = owner, id
		if f.Provider != provider {
			if err := lockProvider(ctx, h, owner, f.Provider); err != nil {
				return err
			}
		}
		f.Updated = now()
		_, err = h.exec(ctx, "UPDATE flavors SET provider = ?, params = ?, updated = ? WHERE owner = ? AND id = ?",
			f.Provider, encodeJSON(f.Params), micros(f.Updated), owner, id)
		return err
	})
	if err != nil {
		return deis.Flavor{}, fmt.Errorf("updating flavor %q of %q: %w", id, owner, dbErr(err))
	}
	return f, nil
}

// DeleteFlavor removes a flavor. It is ErrInUse while a layer of one of the
// owner's formations uses it.
func (s *Store) DeleteFlavor(ctx context.Context, owner, id string) error {
	err := s.inTx(ctx, func(h handle) error {
		var one int
		if err := h.row(ctx, "SELECT 1 FROM flavors WHERE owner = ? AND id = ?"+h.forUpdate(), owner, id).Scan(&one); err != nil {
			return err
		}
		var fm, layer string
		inUse, err := found(h.row(ctx, "SELECT l.formation, l.id FROM layers l JOIN formations f ON f.id = l.formation"+
			" WHERE f.owner = ? AND l.flavor = ? ORDER BY l.formation, l.id LIMIT 1", owner, id).Scan(&fm, &layer))
		if err != nil {
			return err
		}
		if inUse {
			return fmt.Errorf("layer %q of formation %q uses it: %w", layer, fm, ErrInUse)
		}
		_, err = h.exec(ctx, "DELETE FROM flavors WHERE owner = ? AND id = ?", owner, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("deleting flavor %q of %q: %w", id, owner, dbErr(err))
	}
	return nil
}
