package store

import (
	"context"
	"fmt"
	"strconv"

	"github.com/deis/deis"
)

func configLabel(app string, version int) string { return label("config", app, strconv.Itoa(version)) }

// insertConfig stores version of an app's config, its values sealed.
func (s *Store) insertConfig(ctx context.Context, h handle, app string, version int, values map[string]string) (deis.Config, error) {
	if values == nil {
		values = map[string]string{}
	}
	c := deis.Config{App: app, Version: version, Values: values, Created: now()}
	_, err := h.exec(ctx, "INSERT INTO configs (app, version, vals, created) VALUES (?, ?, ?, ?)",
		app, version, s.box.sealMap(configLabel(app, version), values), micros(c.Created))
	if err != nil {
		return deis.Config{}, fmt.Errorf("storing config v%d: %w", version, err)
	}
	return c, nil
}

// config reads one version of an app's config, or the latest if version
// is 0.
func (s *Store) config(ctx context.Context, h handle, app string, version int) (deis.Config, error) {
	q, args := "SELECT version, vals, created FROM configs WHERE app = ? ORDER BY version DESC LIMIT 1", []any{app}
	if version > 0 {
		q, args = "SELECT version, vals, created FROM configs WHERE app = ? AND version = ?", []any{app, version}
	}
	c := deis.Config{App: app}
	var sealed string
	var created int64
	if err := h.row(ctx, q, args...).Scan(&c.Version, &sealed, &created); err != nil {
		return deis.Config{}, fmt.Errorf("config of app %q: %w", app, dbErr(err))
	}
	values, err := s.box.openMap(configLabel(app, c.Version), sealed)
	if err != nil {
		return deis.Config{}, fmt.Errorf("opening config v%d of app %q: %w", c.Version, app, err)
	}
	c.Values, c.Created = values, fromMicros(created)
	return c, nil
}

// GetConfig returns the latest version of an app's config.
func (s *Store) GetConfig(ctx context.Context, app string) (deis.Config, error) {
	c, err := s.config(ctx, s.h(), app, 0)
	if err != nil {
		return deis.Config{}, fmt.Errorf("getting config: %w", err)
	}
	return c, nil
}

// GetConfigVersion returns one version of an app's config.
func (s *Store) GetConfigVersion(ctx context.Context, app string, version int) (deis.Config, error) {
	if version <= 0 {
		return deis.Config{}, fmt.Errorf("config v%d of app %q: %w", version, app, ErrNotFound)
	}
	c, err := s.config(ctx, s.h(), app, version)
	if err != nil {
		return deis.Config{}, fmt.Errorf("getting config: %w", err)
	}
	return c, nil
}

// UpdateConfig makes a new config version from the latest merged with
// changes (a nil value unsets the key) and a new release of it with the
// current build. It makes the release even when nothing changes.
func (s *Store) UpdateConfig(ctx context.Context, app string, changes map[string]*string, who string) (deis.Config, deis.Release, error) {
	var c deis.Config
	var r deis.Release
	err := s.inTx(ctx, func(h handle) error {
		a, err := lockApp(ctx, h, app)
		if err != nil {
			return err
		}
		latest, err := s.config(ctx, h, app, 0)
		if err != nil {
			return err
		}
		if c, err = s.insertConfig(ctx, h, app, latest.Version+1, merge(latest.Values, changes)); err != nil {
			return err
		}
		last, err := lastRelease(ctx, h, app)
		if err != nil {
			return err
		}
		r, err = s.addRelease(ctx, h, a, deis.Release{Build: last.Build, Config: c.Version, Owner: who, Summary: who + " " + deis.ConfigSummary(latest.Values, changes)})
		return err
	})
	if err != nil {
		return deis.Config{}, deis.Release{}, fmt.Errorf("updating config of app %q: %w", app, dbErr(err))
	}
	return c, r, nil
}
