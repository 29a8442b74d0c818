package client

import (
	"context"

	"github.com/deis/deis"
)

// Register creates an account. The first account of a controller is an
// admin. It needs no token.
func (c *Client) Register(ctx context.Context, req deis.RegisterRequest) (deis.User, error) {
	var u deis.User
	err := c.post(ctx, p("auth", "register"), req, &u)
	return u, err
}

// Login trades a username and password for a bearer token. It needs no
// token.
func (c *Client) Login(ctx context.Context, req deis.LoginRequest) (deis.Token, error) {
	var t deis.Token
	err := c.post(ctx, p("auth", "login"), req, &t)
	return t, err
}

// Logout revokes the client's token on the controller.
func (c *Client) Logout(ctx context.Context) error {
	return c.post(ctx, p("auth", "logout"), nil, nil)
}

// Whoami returns the user the token belongs to.
func (c *Client) Whoami(ctx context.Context) (deis.User, error) {
	var u deis.User
	err := c.get(ctx, p("auth", "whoami"), &u)
	return u, err
}

// ListKeys returns the caller's SSH keys.
func (c *Client) ListKeys(ctx context.Context) ([]deis.Key, error) {
	return list[deis.Key](ctx, c, p("keys"))
}

// CreateKey adds an SSH public key.
func (c *Client) CreateKey(ctx context.Context, req deis.KeyCreateRequest) (deis.Key, error) {
	var k deis.Key
	err := c.post(ctx, p("keys"), req, &k)
	return k, err
}

// GetKey returns one key.
func (c *Client) GetKey(ctx context.Context, id string) (deis.Key, error) {
	var k deis.Key
	err := c.get(ctx, p("keys", id), &k)
	return k, err
}

// DeleteKey removes a key.
func (c *Client) DeleteKey(ctx context.Context, id string) error {
	return c.del(ctx, p("keys", id))
}

// ListPerms returns the collaborators of an app.
func (c *Client) ListPerms(ctx context.Context, app string) (deis.Perms, error) {
	var ps deis.Perms
	err := c.get(ctx, p("apps", app, "perms"), &ps)
	return ps, err
}

// CreatePerm adds username as a collaborator of app and returns the new
// list.
func (c *Client) CreatePerm(ctx context.Context, app, username string) (deis.Perms, error) {
	var ps deis.Perms
	err := c.post(ctx, p("apps", app, "perms"), deis.PermCreateRequest{Username: username}, &ps)
	return ps, err
}

// DeletePerm removes a collaborator of app.
func (c *Client) DeletePerm(ctx context.Context, app, username string) error {
	return c.del(ctx, p("apps", app, "perms", username))
}
