package ec2test

import (
	"context"
	"errors"
	"fmt"

	"github.com/deis/deis/nodes"
)

// DockerBackend backs each instance with a node container of the docker
// provider (nodes.Docker), so bootstrap and converge over SSH run for real.
// Give its Docker a controller id of its own (say "ec2fake-" and a random
// suffix) so that its containers are told apart from a real controller's.
type DockerBackend struct {
	Docker *nodes.Docker
}

// Start runs a full node container for in, named by the instance id, with
// authorizedKey authorized for root, and returns its address.
func (b DockerBackend) Start(ctx context.Context, in Instance, authorizedKey string) (string, error) {
	if authorizedKey == "" {
		return "", errors.New("the user data authorizes no SSH key")
	}
	m, err := b.Docker.Create(ctx, nodes.Spec{Formation: in.Tags["deis:formation"], Layer: in.Tags["deis:layer"],
		Node: in.ID, PublicKey: authorizedKey, Params: map[string]string{"image": nodes.NodeFull}})
	if err != nil {
		// A create cut short may still have left a container behind.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
		defer cancel()
		b.Stop(sctx, in)
		return "", fmt.Errorf("backing instance %s: %w", in.ID, err)
	}
	return m.Address, nil
}

// Stop removes the node containers of in.
func (b DockerBackend) Stop(ctx context.Context, in Instance) error {
	ms, err := b.Docker.List(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, m := range ms {
		if m.Node == in.ID {
			errs = append(errs, b.Docker.Destroy(ctx, m.ProviderID))
		}
	}
	return errors.Join(errs...)
}

var _ Backend = DockerBackend{}
