package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/deis/deis"
)

const containerCols = "app, proc_type, num, release, node, port, state, health, created, observed, exit_code, restarts, died, checked"

func scanContainer(sc scanner) (deis.Container, error) {
	var c deis.Container
	var created, died, checked int64
	if err := sc.Scan(&c.App, &c.Type, &c.Num, &c.Release, &c.Node, &c.Port, &c.State, &c.Health, &created,
		&c.Observed, &c.ExitCode, &c.Restarts, &died, &checked); err != nil {
		return deis.Container{}, err
	}
	c.Name = fmt.Sprintf("%s.%d", c.Type, c.Num)
	c.Created = fromMicros(created)
	c.Died, c.Checked = optMicros(died), optMicros(checked)
	return c, nil
}

// optMicros is fromMicros with 0 as the zero time.
func optMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return fromMicros(us)
}

// optToMicros is micros with the zero time as 0.
func optToMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return micros(t)
}

// ListContainers lists an app's containers by type, then number.
func (s *Store) ListContainers(ctx context.Context, app string, p PageReq) ([]deis.Container, int, error) {
	cs, total, err := list(ctx, s.h(), p, listQuery{cols: containerCols, from: "containers WHERE app = ?", order: "proc_type, num, release, node", args: []any{app}}, scanContainer)
	if err != nil {
		return nil, 0, fmt.Errorf("listing containers of app %q: %w", app, err)
	}
	return cs, total, nil
}

// ListFormationContainers lists the containers of every app of a
// formation: the converge renders nodes from them and allocates ports
// against them.
func (s *Store) ListFormationContainers(ctx context.Context, formation string) ([]deis.Container, error) {
	cs, _, err := list(ctx, s.h(), PageReq{}, listQuery{
		cols:  "c.app, c.proc_type, c.num, c.release, c.node, c.port, c.state, c.health, c.created, c.observed, c.exit_code, c.restarts, c.died, c.checked",
		from:  "containers c JOIN apps a ON a.id = c.app WHERE a.formation = ?",
		order: "c.app, c.proc_type, c.num, c.release, c.node", args: []any{formation}}, scanContainer)
	if err != nil {
		return nil, fmt.Errorf("listing containers of formation %q: %w", formation, err)
	}
	return cs, nil
}

// ReplaceContainers makes cs the app's container set, in one transaction.
// A container keeps its Created time if it has one. A container is its
// type, number, release and node; two the same are ErrConflict. What its
// node said of a container that stays is kept as the store has it, not as
// cs has it (a copy read before a converge recorded something newer).
func (s *Store) ReplaceContainers(ctx context.Context, app string, cs []deis.Container) error {
	err := s.inTx(ctx, func(h handle) error {
		if _, err := lockApp(ctx, h, app); err != nil {
			return err
		}
		seen, err := appContainers(ctx, h, app, "")
		if err != nil {
			return err
		}
		if _, err := h.exec(ctx, "DELETE FROM containers WHERE app = ?", app); err != nil {
			return err
		}
		t := now()
		for _, c := range cs {
			created := t
			if !c.Created.IsZero() {
				created = norm(c.Created)
			}
			c.Observed, c.ExitCode, c.Restarts, c.Died, c.Checked = "", 0, 0, time.Time{}, time.Time{}
			if old, ok := findContainer(seen, c); ok {
				c.Observed, c.ExitCode, c.Restarts, c.Died, c.Checked = old.Observed, old.ExitCode, old.Restarts, old.Died, old.Checked
			}
			_, err := h.exec(ctx, "INSERT INTO containers ("+containerCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
				app, c.Type, c.Num, c.Release, c.Node, c.Port, c.State, c.Health, micros(created),
				c.Observed, c.ExitCode, c.Restarts, optToMicros(c.Died), optToMicros(c.Checked))
			if err != nil {
				return fmt.Errorf("container %s.%d: %w", c.Type, c.Num, dbErr(err))
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("replacing containers of app %q: %w", app, dbErr(err))
	}
	return nil
}

// ObserveContainers records what node's engine said at time at of the
// containers on it (of app, or of every app when app is empty). A
// container the store places on the node that obs does not name is
// recorded missing, unless it was created after at (a rollout added it
// since). Each app is updated under its lock, as ReplaceContainers
// changes it.
func (s *Store) ObserveContainers(ctx context.Context, node, app string, obs []deis.ContainerObservation, at time.Time) error {
	apps := []string{app}
	if app == "" {
		var err error
		if apps, err = s.nodeApps(ctx, node); err != nil {
			return err
		}
	}
	for _, a := range apps {
		if err := s.inTx(ctx, func(h handle) error { return observeApp(ctx, h, node, a, obs, norm(at)) }); err != nil {
			return fmt.Errorf("recording the containers of %q on node %q: %w", a, node, dbErr(err))
		}
	}
	return nil
}

// nodeApps lists the apps with containers on node.
func (s *Store) nodeApps(ctx context.Context, node string) ([]string, error) {
	rows, err := s.h().query(ctx, "SELECT DISTINCT app FROM containers WHERE node = ? ORDER BY app", node)
	if err != nil {
		return nil, fmt.Errorf("listing the apps on node %q: %w", node, err)
	}
	defer rows.Close()
	var apps []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, err
		}
		apps = append(apps, a)
	}
	return apps, rows.Err()
}

func observeApp(ctx context.Context, h handle, node, app string, obs []deis.ContainerObservation, at time.Time) error {
	if _, err := lockApp(ctx, h, app); errors.Is(err, ErrNotFound) {
		return nil // destroyed since
	} else if err != nil {
		return err
	}
	cs, err := appContainers(ctx, h, app, node)
	if err != nil {
		return err
	}
	for _, c := range cs {
		o, seen := findObservation(obs, c)
		if !seen {
			// A container created after the look, or one a rollout is
			// still starting, may not be on the node yet.
			if c.Created.After(at) || c.State == deis.ContainerStarting {
				continue
			}
			o = deis.ContainerObservation{State: deis.ObservedMissing}
		}
		// A look older than the one recorded changes nothing.
		_, err := h.exec(ctx, "UPDATE containers SET observed = ?, exit_code = ?, restarts = ?, died = ?, checked = ? "+
			"WHERE app = ? AND proc_type = ? AND num = ? AND release = ? AND node = ? AND checked <= ?",
			o.State, o.ExitCode, o.Restarts, optToMicros(norm(o.Died)), micros(at), app, c.Type, c.Num, c.Release, node, micros(at))
		if err != nil {
			return err
		}
	}
	return nil
}

// appContainers reads the app's containers (on node, unless empty).
func appContainers(ctx context.Context, h handle, app, node string) ([]deis.Container, error) {
	q, args := "SELECT "+containerCols+" FROM containers WHERE app = ?", []any{app}
	if node != "" {
		q, args = q+" AND node = ?", append(args, node)
	}
	rows, err := h.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cs []deis.Container
	for rows.Next() {
		c, err := scanContainer(rows)
		if err != nil {
			return nil, err
		}
		cs = append(cs, c)
	}
	return cs, rows.Err()
}

// findContainer finds c (by type, number, release and node) in cs.
func findContainer(cs []deis.Container, c deis.Container) (deis.Container, bool) {
	for _, x := range cs {
		if x.Type == c.Type && x.Num == c.Num && x.Release == c.Release && x.Node == c.Node {
			return x, true
		}
	}
	return deis.Container{}, false
}

func findObservation(obs []deis.ContainerObservation, c deis.Container) (deis.ContainerObservation, bool) {
	for _, o := range obs {
		if o.App == c.App && o.Type == c.Type && o.Num == c.Num && o.Release == c.Release {
			return o, true
		}
	}
	return deis.ContainerObservation{}, false
}
