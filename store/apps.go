package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/deis/deis"
)

const appCols = "a.id, a.formation, a.owner, a.structure, a.created, a.updated"

func scanApp(sc scanner) (deis.App, error) {
	var a deis.App
	var structure string
	var created, updated int64
	if err := sc.Scan(&a.ID, &a.Formation, &a.Owner, &structure, &created, &updated); err != nil {
		return deis.App{}, err
	}
	if err := json.Unmarshal([]byte(structure), &a.Structure); err != nil {
		return deis.App{}, fmt.Errorf("decoding structure: %w", err)
	}
	if a.Structure == nil {
		a.Structure = map[string]int{}
	}
	a.Created, a.Updated = fromMicros(created), fromMicros(updated)
	return a, nil
}

// visibleApps is the FROM clause of the apps v can see: its own, those it
// collaborates on, or all for an admin.
func visibleApps(v Viewer) (string, []any) {
	if v.Admin {
		return "apps a", nil
	}
	return "apps a WHERE (a.owner = ? OR EXISTS (SELECT 1 FROM collaborators c WHERE c.app = a.id AND c.username = ?))",
		[]any{v.Username, v.Username}
}

// CreateApp adds an app with its first config (v1, empty) and first
// release (v1, no build), in one transaction. The formation must exist.
func (s *Store) CreateApp(ctx context.Context, a deis.App) (deis.App, error) {
	a.Created = now()
	a.Updated = a.Created
	if a.Structure == nil {
		a.Structure = map[string]int{}
	}
	err := s.inTx(ctx, func(h handle) error {
		var one int
		if err := h.row(ctx, "SELECT 1 FROM formations WHERE id = ?"+h.forShare(), a.Formation).Scan(&one); err != nil {
			return fmt.Errorf("formation %q: %w", a.Formation, dbErr(err))
		}
		_, err := h.exec(ctx, "INSERT INTO apps (id, formation, owner, structure, created, updated) VALUES (?, ?, ?, ?, ?, ?)",
			a.ID, a.Formation, a.Owner, encodeJSON(a.Structure), micros(a.Created), micros(a.Updated))
		if err != nil {
			return err
		}
		if _, err := s.insertConfig(ctx, h, a.ID, 1, nil); err != nil {
			return err
		}
		_, err = s.addRelease(ctx, h, a, deis.Release{Config: 1, Owner: a.Owner, Summary: a.Owner + " created the app"})
		return err
	})
	if err != nil {
		return deis.App{}, fmt.Errorf("creating app %q: %w", a.ID, dbErr(err))
	}
	return a, nil
}

// GetApp returns an app its owner, a collaborator or an admin can see;
// others get ErrNotFound.
func (s *Store) GetApp(ctx context.Context, v Viewer, id string) (deis.App, error) {
	from, args := visibleApps(v)
	if v.Admin {
		from += " WHERE a.id = ?"
	} else {
		from += " AND a.id = ?"
	}
	a, err := scanApp(s.h().row(ctx, "SELECT "+appCols+" FROM "+from, append(args, id)...))
	if err != nil {
		return deis.App{}, fmt.Errorf("getting app %q: %w", id, dbErr(err))
	}
	return a, nil
}

// ListApps lists, by id, the apps v can see.
func (s *Store) ListApps(ctx context.Context, v Viewer, p PageReq) ([]deis.App, int, error) {
	from, args := visibleApps(v)
	as, total, err := list(ctx, s.h(), p, listQuery{cols: appCols, from: from, order: "a.id", args: args}, scanApp)
	if err != nil {
		return nil, 0, fmt.Errorf("listing apps: %w", err)
	}
	return as, total, nil
}

// ListFormationApps returns every app of a formation, by id.
func (s *Store) ListFormationApps(ctx context.Context, formation string) ([]deis.App, error) {
	as, _, err := list(ctx, s.h(), PageReq{}, listQuery{cols: appCols, from: "apps a WHERE a.formation = ?", order: "a.id", args: []any{formation}}, scanApp)
	if err != nil {
		return nil, fmt.Errorf("listing apps of formation %q: %w", formation, err)
	}
	return as, nil
}

// DeleteApp removes an app with its collaborators, configs, builds,
// releases and containers.
func (s *Store) DeleteApp(ctx context.Context, id string) error {
	if err := affected(s.h().exec(ctx, "DELETE FROM apps WHERE id = ?", id)); err != nil {
		return fmt.Errorf("deleting app %q: %w", id, err)
	}
	return nil
}

// SetStructure replaces an app's process counts.
func (s *Store) SetStructure(ctx context.Context, id string, structure map[string]int) (deis.App, error) {
	var a deis.App
	err := s.inTx(ctx, func(h handle) error {
		err := affected(h.exec(ctx, "UPDATE apps SET structure = ?, updated = ? WHERE id = ?", encodeJSON(structure), micros(now()), id))
		if err != nil {
			return err
		}
		a, err = scanApp(h.row(ctx, "SELECT "+appCols+" FROM apps a WHERE a.id = ?", id))
		return err
	})
	if err != nil {
		return deis.App{}, fmt.Errorf("setting structure of app %q: %w", id, dbErr(err))
	}
	return a, nil
}

// lockApp reads an app and, on PostgreSQL, locks its row until the
// transaction ends: every change to an app's versions goes through here,
// so they are serialized per app. (On SQLite the immediate transaction
// already serializes all writers.)
func lockApp(ctx context.Context, h handle, id string) (deis.App, error) {
	a, err := scanApp(h.row(ctx, "SELECT "+appCols+" FROM apps a WHERE a.id = ?"+h.forUpdate(), id))
	if err != nil {
		return deis.App{}, fmt.Errorf("app %q: %w", id, dbErr(err))
	}
	return a, nil
}

// AddCollaborator lets username see and change an app. The user must
// exist (ErrNotFound) and not be one already (ErrConflict).
func (s *Store) AddCollaborator(ctx context.Context, app, username string) error {
	err := s.inTx(ctx, func(h handle) error {
		if _, err := lockApp(ctx, h, app); err != nil {
			return err
		}
		var one int
		if err := h.row(ctx, "SELECT 1 FROM users WHERE username = ?", username).Scan(&one); err != nil {
			return fmt.Errorf("user %q: %w", username, dbErr(err))
		}
		_, err := h.exec(ctx, "INSERT INTO collaborators (app, username, created) VALUES (?, ?, ?)", app, username, micros(now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("adding collaborator %q to app %q: %w", username, app, dbErr(err))
	}
	return nil
}

// RemoveCollaborator removes a collaborator (ErrNotFound if not one).
func (s *Store) RemoveCollaborator(ctx context.Context, app, username string) error {
	err := affected(s.h().exec(ctx, "DELETE FROM collaborators WHERE app = ? AND username = ?", app, username))
	if err != nil {
		return fmt.Errorf("removing collaborator %q from app %q: %w", username, app, err)
	}
	return nil
}

// ListCollaborators returns an app's collaborators, sorted.
func (s *Store) ListCollaborators(ctx context.Context, app string) ([]string, error) {
	scan := func(sc scanner) (string, error) {
		var u string
		return u, sc.Scan(&u)
	}
	us, _, err := list(ctx, s.h(), PageReq{}, listQuery{cols: "username", from: "collaborators WHERE app = ?", order: "username", args: []any{app}}, scan)
	if err != nil {
		return nil, fmt.Errorf("listing collaborators of app %q: %w", app, err)
	}
	return us, nil
}
