package store

import (
	"context"
	"fmt"

	"github.com/deis/deis/client"
)

const containerCols = "app, proc_type, num, release, node, port, state, health, created"

func scanContainer(sc scanner) (client.Container, error) {
	var c client.Container
	var created int64
	if err := sc.Scan(&c.App, &c.Type, &c.Num, &c.Release, &c.Node, &c.Port, &c.State, &c.Health, &created); err != nil {
		return client.Container{}, err
	}
	c.Name = fmt.Sprintf("%s.%d", c.Type, c.Num)
	c.Created = fromMicros(created)
	return c, nil
}

// ListContainers lists an app's containers by type, then number.
func (s *Store) ListContainers(ctx context.Context, app string, p PageReq) ([]client.Container, int, error) {
	cs, total, err := list(ctx, s.h(), p, listQuery{cols: containerCols, from: "containers WHERE app = ?", order: "proc_type, num, release, node", args: []any{app}}, scanContainer)
	if err != nil {
		return nil, 0, fmt.Errorf("listing containers of app %q: %w", app, err)
	}
	return cs, total, nil
}

// ListFormationContainers lists the containers of every app of a
// formation: the converge renders nodes from them and allocates ports
// against them.
func (s *Store) ListFormationContainers(ctx context.Context, formation string) ([]client.Container, error) {
	cs, _, err := list(ctx, s.h(), PageReq{}, listQuery{
		cols:  "c.app, c.proc_type, c.num, c.release, c.node, c.port, c.state, c.health, c.created",
		from:  "containers c JOIN apps a ON a.id = c.app WHERE a.formation = ?",
		order: "c.app, c.proc_type, c.num, c.release, c.node", args: []any{formation}}, scanContainer)
	if err != nil {
		return nil, fmt.Errorf("listing containers of formation %q: %w", formation, err)
	}
	return cs, nil
}

// ReplaceContainers makes cs the app's container set, in one transaction.
// A container keeps its Created time if it has one. A container is its
// type, number, release and node; two the same are ErrConflict.
func (s *Store) ReplaceContainers(ctx context.Context, app string, cs []client.Container) error {
	err := s.inTx(ctx, func(h handle) error {
		if _, err := lockApp(ctx, h, app); err != nil {
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
			_, err := h.exec(ctx, "INSERT INTO containers ("+containerCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
				app, c.Type, c.Num, c.Release, c.Node, c.Port, c.State, c.Health, micros(created))
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
