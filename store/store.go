// Package store owns the controller's persistent state: users and their
// tokens and SSH keys, providers, flavors, formations with their layers and
// nodes, apps with their collaborators, versioned configs, builds and
// releases, containers and jobs. It runs on SQLite (a file in the data
// directory) or on PostgreSQL, with one set of migrations, and keeps every
// secret (provider credentials, config values, layer private keys) encrypted
// at rest. A Store is safe for concurrent use.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Errors returned by the store, wrapped with what was being done. Check them
// with errors.Is.
var (
	// ErrNotFound: the record, or a parent it needs, does not exist (or is
	// not visible to the viewer).
	ErrNotFound = errors.New("not found")
	// ErrConflict: the id (or another unique value) is taken, or the
	// operation was already done.
	ErrConflict = errors.New("already exists")
	// ErrInUse: the record cannot be deleted because another one uses it.
	ErrInUse = errors.New("in use")
	// ErrInvalid: the request is well formed but cannot be carried out, such
	// as rolling back to the current release.
	ErrInvalid = errors.New("invalid")
	// ErrWrongKey: the secret key does not decrypt what is stored.
	ErrWrongKey = errors.New("secret key does not match the stored data")
)

// Options configures Open.
type Options struct {
	// DataDir holds deis.db (SQLite) and secret.key.
	DataDir string
	// DatabaseURL selects PostgreSQL when it is a postgres:// or
	// postgresql:// URL. Empty means SQLite in DataDir.
	DatabaseURL string
	// SecretKey is the 32-byte AES-256 key for secrets at rest. Empty means
	// DataDir/secret.key, created if absent.
	SecretKey []byte
	// Logger defaults to discarding.
	Logger *slog.Logger
}

// Viewer is who is asking, for the methods that scope what they return.
type Viewer struct {
	Username string
	Admin    bool
}

// PageReq selects a page of a list. Limit 0 means no limit.
type PageReq struct {
	Limit, Offset int
}

// Store is the controller's database.
type Store struct {
	db  *sql.DB
	pg  bool
	box *secretBox
	log *slog.Logger
}

// Open opens (creating if needed) the database Options describes, applies
// the migrations and checks the secret key against the stored data.
func Open(ctx context.Context, opts Options) (*Store, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	box, err := loadSecretBox(opts)
	if err != nil {
		return nil, fmt.Errorf("opening store: %w", err)
	}
	db, pg, err := openDB(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("opening store: %w", err)
	}
	s := &Store{db: db, pg: pg, box: box, log: log}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening store: %w", err)
	}
	if err := s.checkKey(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening store: %w", err)
	}
	log.Debug("store opened", "postgres", pg)
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// checkKey stores a sealed marker on first use and, afterwards, makes sure
// the key opens it, so a wrong key fails at Open and not on first read.
func (s *Store) checkKey(ctx context.Context) error {
	const name, plain = "secret_check", "deis"
	h := s.h()
	var sealed string
	err := h.row(ctx, "SELECT value FROM meta WHERE name = ?", name).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		_, err = h.exec(ctx, "INSERT INTO meta (name, value) VALUES (?, ?)", name, s.box.seal(name, []byte(plain)))
		if isUnique(err) { // another process got there first
			return s.checkKey(ctx)
		}
		if err != nil {
			return fmt.Errorf("storing key check: %w", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading key check: %w", err)
	}
	if _, err := s.box.open(name, sealed); err != nil {
		return fmt.Errorf("checking secret key: %w", err)
	}
	return nil
}

// now is the store's clock: UTC, truncated to microseconds so that every
// back end round-trips it exactly.
func now() time.Time { return norm(time.Now()) }

func norm(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// Times are stored as BIGINT microseconds since the epoch: exact, ordered
// and identical on SQLite and PostgreSQL.
func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }
