package store

import (
	"context"
	"fmt"
	"time"

	"github.com/deis/deis"
)

const userCols = "u.username, u.email, u.admin, u.created"

func scanUser(sc scanner, extra ...any) (deis.User, error) {
	var u deis.User
	var created int64
	if err := sc.Scan(append([]any{&u.Username, &u.Email, &u.Admin, &created}, extra...)...); err != nil {
		return deis.User{}, err
	}
	u.Created = fromMicros(created)
	return u, nil
}

// CreateUser adds an account with its password hash. The first user ever
// becomes an admin; later ones are admins only if u.Admin says so.
func (s *Store) CreateUser(ctx context.Context, u deis.User, passwordHash string) (deis.User, error) {
	u.Created = now()
	err := s.inTx(ctx, func(h handle) error {
		if h.pg { // two first registrations must not both become admin
			if _, err := h.exec(ctx, "LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE"); err != nil {
				return err
			}
		}
		var n int
		if err := h.row(ctx, "SELECT COUNT(*) FROM users").Scan(&n); err != nil {
			return err
		}
		u.Admin = u.Admin || n == 0
		_, err := h.exec(ctx, "INSERT INTO users (username, email, password, admin, created) VALUES (?, ?, ?, ?, ?)",
			u.Username, u.Email, passwordHash, u.Admin, micros(u.Created))
		return err
	})
	if err != nil {
		return deis.User{}, fmt.Errorf("creating user %q: %w", u.Username, dbErr(err))
	}
	return u, nil
}

// GetUser returns a user and its password hash.
func (s *Store) GetUser(ctx context.Context, username string) (deis.User, string, error) {
	var hash string
	u, err := scanUser(s.h().row(ctx, "SELECT "+userCols+", u.password FROM users u WHERE u.username = ?", username), &hash)
	if err != nil {
		return deis.User{}, "", fmt.Errorf("getting user %q: %w", username, dbErr(err))
	}
	return u, hash, nil
}

// CreateToken records an API token by its hash.
func (s *Store) CreateToken(ctx context.Context, username, tokenHash string, expires time.Time) error {
	_, err := s.h().exec(ctx, "INSERT INTO tokens (hash, username, expires, created) VALUES (?, ?, ?, ?)",
		tokenHash, username, micros(norm(expires)), micros(now()))
	if err != nil {
		return fmt.Errorf("creating token for %q: %w", username, dbErr(err))
	}
	return nil
}

// UserForToken returns the owner of an unexpired token and when the token
// expires, in one indexed query. It returns ErrNotFound for unknown and
// expired tokens alike.
func (s *Store) UserForToken(ctx context.Context, tokenHash string, now time.Time) (deis.User, time.Time, error) {
	var expires int64
	u, err := scanUser(s.h().row(ctx, "SELECT "+userCols+", t.expires FROM tokens t JOIN users u ON u.username = t.username"+
		" WHERE t.hash = ? AND t.expires > ?", tokenHash, micros(now)), &expires)
	if err != nil {
		return deis.User{}, time.Time{}, fmt.Errorf("looking up token: %w", dbErr(err))
	}
	return u, fromMicros(expires), nil
}

// DeleteToken removes a token (logout).
func (s *Store) DeleteToken(ctx context.Context, tokenHash string) error {
	if err := affected(s.h().exec(ctx, "DELETE FROM tokens WHERE hash = ?", tokenHash)); err != nil {
		return fmt.Errorf("deleting token: %w", err)
	}
	return nil
}

const keyCols = "owner, id, public_key, fingerprint, created"

func scanKey(sc scanner) (deis.Key, error) {
	var k deis.Key
	var created int64
	if err := sc.Scan(&k.Owner, &k.ID, &k.Public, &k.Fingerprint, &created); err != nil {
		return deis.Key{}, err
	}
	k.Created = fromMicros(created)
	return k, nil
}

// CreateKey adds an SSH key. Its id is unique per owner and its
// fingerprint across all users; either clash is ErrConflict.
func (s *Store) CreateKey(ctx context.Context, k deis.Key) (deis.Key, error) {
	k.Created = now()
	_, err := s.h().exec(ctx, "INSERT INTO ssh_keys ("+keyCols+") VALUES (?, ?, ?, ?, ?)",
		k.Owner, k.ID, k.Public, k.Fingerprint, micros(k.Created))
	if err != nil {
		return deis.Key{}, fmt.Errorf("creating key %q of %q: %w", k.ID, k.Owner, dbErr(err))
	}
	return k, nil
}

// ListKeys lists a user's keys by id.
func (s *Store) ListKeys(ctx context.Context, owner string, p PageReq) ([]deis.Key, int, error) {
	keys, total, err := list(ctx, s.h(), p, listQuery{cols: keyCols, from: "ssh_keys WHERE owner = ?", order: "id", args: []any{owner}}, scanKey)
	if err != nil {
		return nil, 0, fmt.Errorf("listing keys of %q: %w", owner, err)
	}
	return keys, total, nil
}

// GetKey returns one of a user's keys.
func (s *Store) GetKey(ctx context.Context, owner, id string) (deis.Key, error) {
	k, err := scanKey(s.h().row(ctx, "SELECT "+keyCols+" FROM ssh_keys WHERE owner = ? AND id = ?", owner, id))
	if err != nil {
		return deis.Key{}, fmt.Errorf("getting key %q of %q: %w", id, owner, dbErr(err))
	}
	return k, nil
}

// DeleteKey removes one of a user's keys.
func (s *Store) DeleteKey(ctx context.Context, owner, id string) error {
	if err := affected(s.h().exec(ctx, "DELETE FROM ssh_keys WHERE owner = ? AND id = ?", owner, id)); err != nil {
		return fmt.Errorf("deleting key %q of %q: %w", id, owner, err)
	}
	return nil
}

// UserForFingerprint returns the username owning the key with fingerprint fp.
func (s *Store) UserForFingerprint(ctx context.Context, fp string) (string, error) {
	var owner string
	if err := s.h().row(ctx, "SELECT owner FROM ssh_keys WHERE fingerprint = ?", fp).Scan(&owner); err != nil {
		return "", fmt.Errorf("looking up key %q: %w", fp, dbErr(err))
	}
	return owner, nil
}
