package store

import (
	"context"
	"fmt"

	"github.com/deis/deis"
)

const releaseCols = "app, version, build, config, status, owner, summary, error, created"

func scanRelease(sc scanner) (deis.Release, error) {
	var r deis.Release
	var created int64
	if err := sc.Scan(&r.App, &r.Version, &r.Build, &r.Config, &r.Status, &r.Owner, &r.Summary, &r.Error, &created); err != nil {
		return deis.Release{}, err
	}
	r.Created = fromMicros(created)
	return r, nil
}

func lastRelease(ctx context.Context, h handle, app string) (deis.Release, error) {
	r, err := scanRelease(h.row(ctx, "SELECT "+releaseCols+" FROM releases WHERE app = ? ORDER BY version DESC LIMIT 1", app))
	if err != nil {
		return deis.Release{}, fmt.Errorf("last release of app %q: %w", app, dbErr(err))
	}
	return r, nil
}

// noProcesses reports whether a structure runs nothing.
func noProcesses(structure map[string]int) bool {
	for _, n := range structure {
		if n > 0 {
			return false
		}
	}
	return true
}

// addRelease numbers r last+1 and inserts it. The caller holds the app
// lock (lockApp). With no processes to roll out the release is deployed at
// once, superseding the deployed one; otherwise it is pending.
func (s *Store) addRelease(ctx context.Context, h handle, a deis.App, r deis.Release) (deis.Release, error) {
	r.App, r.Created, r.Status, r.Error = a.ID, now(), deis.ReleasePending, ""
	r.Summary = displayText(r.Summary)
	err := h.row(ctx, "SELECT COALESCE(MAX(version), 0) + 1 FROM releases WHERE app = ?", a.ID).Scan(&r.Version)
	if err != nil {
		return deis.Release{}, fmt.Errorf("numbering release: %w", err)
	}
	if noProcesses(a.Structure) {
		r.Status = deis.ReleaseDeployed
		if err := supersede(ctx, h, a.ID, r.Version); err != nil {
			return deis.Release{}, err
		}
	}
	_, err = h.exec(ctx, "INSERT INTO releases ("+releaseCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		r.App, r.Version, r.Build, r.Config, r.Status, r.Owner, r.Summary, r.Error, micros(r.Created))
	if err != nil {
		return deis.Release{}, fmt.Errorf("storing release v%d: %w", r.Version, err)
	}
	return r, nil
}

// supersede marks the app's deployed releases other than version superseded.
func supersede(ctx context.Context, h handle, app string, version int) error {
	_, err := h.exec(ctx, "UPDATE releases SET status = ? WHERE app = ? AND status = ? AND version <> ?",
		deis.ReleaseSuperseded, app, deis.ReleaseDeployed, version)
	if err != nil {
		return fmt.Errorf("superseding releases: %w", err)
	}
	return nil
}

// ListReleases lists an app's releases, newest first.
func (s *Store) ListReleases(ctx context.Context, app string, p PageReq) ([]deis.Release, int, error) {
	rs, total, err := list(ctx, s.h(), p, listQuery{cols: releaseCols, from: "releases WHERE app = ?", order: "version DESC", args: []any{app}}, scanRelease)
	if err != nil {
		return nil, 0, fmt.Errorf("listing releases of app %q: %w", app, err)
	}
	return rs, total, nil
}

// GetRelease returns exactly release version of an app.
func (s *Store) GetRelease(ctx context.Context, app string, version int) (deis.Release, error) {
	r, err := scanRelease(s.h().row(ctx, "SELECT "+releaseCols+" FROM releases WHERE app = ? AND version = ?", app, version))
	if err != nil {
		return deis.Release{}, fmt.Errorf("getting release v%d of app %q: %w", version, app, dbErr(err))
	}
	return r, nil
}

// Rollback makes a new release with the build and a copy of the config of
// release version, which must be older than the latest. Version 0 means
// the release before the latest. Rolling back to the latest is ErrInvalid.
func (s *Store) Rollback(ctx context.Context, app string, version int, who string) (deis.Release, error) {
	var r deis.Release
	err := s.inTx(ctx, func(h handle) error {
		a, err := lockApp(ctx, h, app)
		if err != nil {
			return err
		}
		last, err := lastRelease(ctx, h, app)
		if err != nil {
			return err
		}
		target := version
		switch {
		case version == 0 && last.Version == 1:
			return fmt.Errorf("no release before v1: %w", ErrInvalid)
		case version == 0:
			target = last.Version - 1
		case version == last.Version:
			return fmt.Errorf("v%d is the current release: %w", version, ErrInvalid)
		}
		old, err := scanRelease(h.row(ctx, "SELECT "+releaseCols+" FROM releases WHERE app = ? AND version = ? AND version < ?", app, target, last.Version))
		if err != nil {
			return fmt.Errorf("release v%d: %w", target, dbErr(err))
		}
		oldConfig, err := s.config(ctx, h, app, old.Config)
		if err != nil {
			return err
		}
		latest, err := s.config(ctx, h, app, 0)
		if err != nil {
			return err
		}
		c, err := s.insertConfig(ctx, h, app, latest.Version+1, oldConfig.Values)
		if err != nil {
			return err
		}
		r, err = s.addRelease(ctx, h, a, deis.Release{Build: old.Build, Config: c.Version, Owner: who,
			Summary: who + " " + deis.RollbackSummary(target)})
		return err
	})
	if err != nil {
		return deis.Release{}, fmt.Errorf("rolling back app %q: %w", app, dbErr(err))
	}
	return r, nil
}

// SetReleaseStatus records how a rollout went. Deployed supersedes the
// release deployed before, in the same transaction.
func (s *Store) SetReleaseStatus(ctx context.Context, app string, version int, status deis.ReleaseStatus, errMsg string) error {
	switch status {
	case deis.ReleasePending, deis.ReleaseDeployed, deis.ReleaseFailed, deis.ReleaseSuperseded:
	default:
		return fmt.Errorf("setting status of release v%d of app %q: unknown status %q: %w", version, app, status, ErrInvalid)
	}
	err := s.inTx(ctx, func(h handle) error {
		if _, err := lockApp(ctx, h, app); err != nil {
			return err
		}
		err := affected(h.exec(ctx, "UPDATE releases SET status = ?, error = ? WHERE app = ? AND version = ?", status, errMsg, app, version))
		if err != nil {
			return fmt.Errorf("release v%d: %w", version, err)
		}
		if status == deis.ReleaseDeployed {
			return supersede(ctx, h, app, version)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("setting status of release v%d of app %q: %w", version, app, dbErr(err))
	}
	return nil
}
