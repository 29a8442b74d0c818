package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/deis/deis"
)

// randomID returns 32 random hex digits.
func randomID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

const buildCols = "app, uuid, owner, sha, slug_url, slug_size, slug_sha256, procfile, buildpack, created"

func scanBuild(sc scanner) (deis.Build, error) {
	var b deis.Build
	var procfile string
	var created int64
	err := sc.Scan(&b.App, &b.UUID, &b.Owner, &b.SHA, &b.SlugURL, &b.SlugSize, &b.SlugSHA256, &procfile, &b.Buildpack, &created)
	if err != nil {
		return deis.Build{}, err
	}
	if err := json.Unmarshal([]byte(procfile), &b.Procfile); err != nil {
		return deis.Build{}, fmt.Errorf("decoding procfile: %w", err)
	}
	if b.Procfile == nil {
		b.Procfile = map[string]string{}
	}
	b.Created = fromMicros(created)
	return b, nil
}

// CreateBuild stores a build under a new random UUID and makes a release of
// it with the latest config.
func (s *Store) CreateBuild(ctx context.Context, b deis.Build) (deis.Build, deis.Release, error) {
	b.UUID, b.Created = randomID(), now()
	if b.Procfile == nil {
		b.Procfile = map[string]string{}
	}
	var r deis.Release
	err := s.inTx(ctx, func(h handle) error {
		a, err := lockApp(ctx, h, b.App)
		if err != nil {
			return err
		}
		var num int
		if err := h.row(ctx, "SELECT COALESCE(MAX(num), 0) + 1 FROM builds WHERE app = ?", b.App).Scan(&num); err != nil {
			return err
		}
		_, err = h.exec(ctx, "INSERT INTO builds ("+buildCols+", num) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			b.App, b.UUID, b.Owner, b.SHA, b.SlugURL, b.SlugSize, b.SlugSHA256, encodeJSON(b.Procfile), b.Buildpack, micros(b.Created), num)
		if err != nil {
			return err
		}
		c, err := s.config(ctx, h, b.App, 0)
		if err != nil {
			return err
		}
		r, err = s.addRelease(ctx, h, a, deis.Release{Build: b.UUID, Config: c.Version, Owner: b.Owner,
			Summary: b.Owner + " deployed " + shortBuild(b)})
		return err
	})
	if err != nil {
		return deis.Build{}, deis.Release{}, fmt.Errorf("creating build of app %q: %w", b.App, dbErr(err))
	}
	return b, r, nil
}

// shortBuild names a build in summaries: its commit, else its UUID.
func shortBuild(b deis.Build) string {
	if b.SHA != "" {
		return b.SHA[:min(7, len(b.SHA))]
	}
	return b.UUID[:8]
}

// ListBuilds lists an app's builds, newest first.
func (s *Store) ListBuilds(ctx context.Context, app string, p PageReq) ([]deis.Build, int, error) {
	bs, total, err := list(ctx, s.h(), p, listQuery{cols: buildCols, from: "builds WHERE app = ?", order: "num DESC", args: []any{app}}, scanBuild)
	if err != nil {
		return nil, 0, fmt.Errorf("listing builds of app %q: %w", app, err)
	}
	return bs, total, nil
}

// GetBuild returns one build of an app.
func (s *Store) GetBuild(ctx context.Context, app, uuid string) (deis.Build, error) {
	b, err := scanBuild(s.h().row(ctx, "SELECT "+buildCols+" FROM builds WHERE app = ? AND uuid = ?", app, uuid))
	if err != nil {
		return deis.Build{}, fmt.Errorf("getting build %q of app %q: %w", uuid, app, dbErr(err))
	}
	return b, nil
}

// SlugInUse reports whether an app other than except (any app, when
// except is empty) has slug sum: a build of it uses it, or it was given
// to it.
func (s *Store) SlugInUse(ctx context.Context, sum, except string) (bool, error) {
	var one int
	used, err := found(s.h().row(ctx, "SELECT 1 FROM builds WHERE slug_sha256 = ? AND app <> ? UNION ALL SELECT 1 FROM app_slugs WHERE sha256 = ? AND app <> ? LIMIT 1",
		sum, except, sum, except).Scan(&one))
	if err != nil {
		return false, fmt.Errorf("looking up the builds of slug %s: %w", sum, err)
	}
	return used, nil
}

// AddAppSlug records that app was given slug sum (an upload, a push's
// build); giving it again is no error.
func (s *Store) AddAppSlug(ctx context.Context, app, sum string) error {
	_, err := s.h().exec(ctx, "INSERT INTO app_slugs (app, sha256, created) VALUES (?, ?, ?) ON CONFLICT (app, sha256) DO NOTHING", app, sum, micros(now()))
	if err != nil {
		return fmt.Errorf("recording slug %s of app %q: %w", sum, app, dbErr(err))
	}
	return nil
}

// AppUsesSlug reports whether app was given slug sum: uploaded to it, or
// built for it by a push. A build that merely names a sha256 does not
// count: the bytes may be another app's.
func (s *Store) AppUsesSlug(ctx context.Context, app, sum string) (bool, error) {
	var one int
	used, err := found(s.h().row(ctx, "SELECT 1 FROM app_slugs WHERE app = ? AND sha256 = ?", app, sum).Scan(&one))
	if err != nil {
		return false, fmt.Errorf("looking up the builds of slug %s: %w", sum, err)
	}
	return used, nil
}
