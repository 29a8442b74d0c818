package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/deis/deis"
)

// label names what a sealed value is, binding it to its row.
func label(parts ...string) string { return strings.Join(parts, "\x00") }

func providerLabel(owner, id string) string { return label("provider", owner, id) }

const providerCols = "owner, id, type, creds, created, updated"

// scanProvider reads a provider row; CredKeys come from the sealed creds.
func (s *Store) scanProvider(sc scanner) (deis.Provider, map[string]string, error) {
	var p deis.Provider
	var sealed string
	var created, updated int64
	if err := sc.Scan(&p.Owner, &p.ID, &p.Type, &sealed, &created, &updated); err != nil {
		return deis.Provider{}, nil, err
	}
	creds, err := s.box.openMap(providerLabel(p.Owner, p.ID), sealed)
	if err != nil {
		return deis.Provider{}, nil, fmt.Errorf("opening credentials: %w", err)
	}
	p.CredKeys = sortedKeys(creds)
	p.Created, p.Updated = fromMicros(created), fromMicros(updated)
	return p, creds, nil
}

func (s *Store) getProvider(ctx context.Context, h handle, owner, id, lock string) (deis.Provider, map[string]string, error) {
	return s.scanProvider(h.row(ctx, "SELECT "+providerCols+" FROM providers WHERE owner = ? AND id = ?"+lock, owner, id))
}

// CreateProvider adds a provider with its credentials, which are stored
// sealed. The result lists the credential names only.
func (s *Store) CreateProvider(ctx context.Context, p deis.Provider, creds map[string]string) (deis.Provider, error) {
	p.Created = now()
	p.Updated = p.Created
	p.CredKeys = sortedKeys(creds)
	_, err := s.h().exec(ctx, "INSERT INTO providers ("+providerCols+") VALUES (?, ?, ?, ?, ?, ?)",
		p.Owner, p.ID, p.Type, s.box.sealMap(providerLabel(p.Owner, p.ID), creds), micros(p.Created), micros(p.Updated))
	if err != nil {
		return deis.Provider{}, fmt.Errorf("creating provider %q of %q: %w", p.ID, p.Owner, dbErr(err))
	}
	return p, nil
}

// GetProvider returns one of a user's providers, without credential values.
func (s *Store) GetProvider(ctx context.Context, owner, id string) (deis.Provider, error) {
	p, _, err := s.getProvider(ctx, s.h(), owner, id, "")
	if err != nil {
		return deis.Provider{}, fmt.Errorf("getting provider %q of %q: %w", id, owner, dbErr(err))
	}
	return p, nil
}

// ProviderCreds returns a provider's credentials in clear.
func (s *Store) ProviderCreds(ctx context.Context, owner, id string) (map[string]string, error) {
	_, creds, err := s.getProvider(ctx, s.h(), owner, id, "")
	if err != nil {
		return nil, fmt.Errorf("getting credentials of provider %q of %q: %w", id, owner, dbErr(err))
	}
	return creds, nil
}

// ListProviders lists a user's providers by id.
func (s *Store) ListProviders(ctx context.Context, owner string, p PageReq) ([]deis.Provider, int, error) {
	scan := func(sc scanner) (deis.Provider, error) {
		p, _, err := s.scanProvider(sc)
		return p, err
	}
	ps, total, err := list(ctx, s.h(), p, listQuery{cols: providerCols, from: "providers WHERE owner = ?", order: "id", args: []any{owner}}, scan)
	if err != nil {
		return nil, 0, fmt.Errorf("listing providers of %q: %w", owner, err)
	}
	return ps, total, nil
}

// UpdateProviderCreds merges changes into a provider's credentials: a nil
// value removes the credential.
func (s *Store) UpdateProviderCreds(ctx context.Context, owner, id string, changes map[string]*string) (deis.Provider, error) {
	var p deis.Provider
	err := s.inTx(ctx, func(h handle) error {
		var creds map[string]string
		var err error
		if p, creds, err = s.getProvider(ctx, h, owner, id, h.forUpdate()); err != nil {
			return err
		}
		creds = merge(creds, changes)
		p.CredKeys = sortedKeys(creds)
		p.Updated = now()
		_, err = h.exec(ctx, "UPDATE providers SET creds = ?, updated = ? WHERE owner = ? AND id = ?",
			s.box.sealMap(providerLabel(owner, id), creds), micros(p.Updated), owner, id)
		return err
	})
	if err != nil {
		return deis.Provider{}, fmt.Errorf("updating provider %q of %q: %w", id, owner, dbErr(err))
	}
	return p, nil
}

// DeleteProvider removes a provider. It is ErrInUse while one of the
// owner's flavors uses it.
func (s *Store) DeleteProvider(ctx context.Context, owner, id string) error {
	err := s.inTx(ctx, func(h handle) error {
		var one int
		if err := h.row(ctx, "SELECT 1 FROM providers WHERE owner = ? AND id = ?"+h.forUpdate(), owner, id).Scan(&one); err != nil {
			return err
		}
		var flavor string
		inUse, err := found(h.row(ctx, "SELECT id FROM flavors WHERE owner = ? AND provider = ? ORDER BY id LIMIT 1", owner, id).Scan(&flavor))
		if err != nil {
			return err
		}
		if inUse {
			return fmt.Errorf("flavor %q uses it: %w", flavor, ErrInUse)
		}
		_, err = h.exec(ctx, "DELETE FROM providers WHERE owner = ? AND id = ?", owner, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("deleting provider %q of %q: %w", id, owner, dbErr(err))
	}
	return nil
}
