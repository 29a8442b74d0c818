package client

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/deis/deis"
)

// ListProviders returns the caller's providers.
func (c *Client) ListProviders(ctx context.Context) ([]deis.Provider, error) {
	return list[deis.Provider](ctx, c, p("providers"))
}

// CreateProvider creates a provider.
func (c *Client) CreateProvider(ctx context.Context, req deis.ProviderCreateRequest) (deis.Provider, error) {
	var pr deis.Provider
	err := c.post(ctx, p("providers"), req, &pr)
	return pr, err
}

// GetProvider returns one provider (without its credentials).
func (c *Client) GetProvider(ctx context.Context, id string) (deis.Provider, error) {
	var pr deis.Provider
	err := c.get(ctx, p("providers", id), &pr)
	return pr, err
}

// UpdateProvider merges credentials into a provider; a nil value removes
// the key.
func (c *Client) UpdateProvider(ctx context.Context, id string, req deis.ProviderUpdateRequest) (deis.Provider, error) {
	var pr deis.Provider
	err := c.patch(ctx, p("providers", id), req, &pr)
	return pr, err
}

// DeleteProvider removes a provider.
func (c *Client) DeleteProvider(ctx context.Context, id string) error {
	return c.del(ctx, p("providers", id))
}

// ListFlavors returns the caller's flavors.
func (c *Client) ListFlavors(ctx context.Context) ([]deis.Flavor, error) {
	return list[deis.Flavor](ctx, c, p("flavors"))
}

// CreateFlavor creates a flavor.
func (c *Client) CreateFlavor(ctx context.Context, req deis.FlavorCreateRequest) (deis.Flavor, error) {
	var f deis.Flavor
	err := c.post(ctx, p("flavors"), req, &f)
	return f, err
}

// GetFlavor returns one flavor.
func (c *Client) GetFlavor(ctx context.Context, id string) (deis.Flavor, error) {
	var f deis.Flavor
	err := c.get(ctx, p("flavors", id), &f)
	return f, err
}

// UpdateFlavor changes a flavor; params merge and a nil value removes a key.
func (c *Client) UpdateFlavor(ctx context.Context, id string, req deis.FlavorUpdateRequest) (deis.Flavor, error) {
	var f deis.Flavor
	err := c.patch(ctx, p("flavors", id), req, &f)
	return f, err
}

// DeleteFlavor removes a flavor.
func (c *Client) DeleteFlavor(ctx context.Context, id string) error {
	return c.del(ctx, p("flavors", id))
}

// ListFormations returns the caller's formations.
func (c *Client) ListFormations(ctx context.Context) ([]deis.Formation, error) {
	return list[deis.Formation](ctx, c, p("formations"))
}

// CreateFormation creates a formation.
func (c *Client) CreateFormation(ctx context.Context, req deis.FormationCreateRequest) (deis.Formation, error) {
	var f deis.Formation
	err := c.post(ctx, p("formations"), req, &f)
	return f, err
}

// GetFormation returns one formation.
func (c *Client) GetFormation(ctx context.Context, id string) (deis.Formation, error) {
	var f deis.Formation
	err := c.get(ctx, p("formations", id), &f)
	return f, err
}

// UpdateFormation changes a formation.
func (c *Client) UpdateFormation(ctx context.Context, id string, req deis.FormationUpdateRequest) (deis.Formation, error) {
	var f deis.Formation
	err := c.patch(ctx, p("formations", id), req, &f)
	return f, err
}

// DestroyFormation starts the job that destroys a formation's nodes, apps
// and layers, then the formation.
func (c *Client) DestroyFormation(ctx context.Context, id string) (*deis.Job, error) {
	return c.jobCall(ctx, http.MethodDelete, p("formations", id), nil)
}

// CalculateFormation returns the desired state of a formation. Its shape
// is not part of the wire contract yet, so it comes back raw.
func (c *Client) CalculateFormation(ctx context.Context, id string) (json.RawMessage, error) {
	var raw json.RawMessage
	err := c.get(ctx, p("formations", id, "calculate"), &raw)
	return raw, err
}

// ConvergeFormation starts the job that converges every node of a formation.
func (c *Client) ConvergeFormation(ctx context.Context, id string) (*deis.Job, error) {
	return c.jobCall(ctx, http.MethodPost, p("formations", id, "converge"), nil)
}

// ScaleNodes starts the job that provisions or terminates nodes to reach
// the given count per layer.
func (c *Client) ScaleNodes(ctx context.Context, formation string, req deis.NodeScaleRequest) (*deis.Job, error) {
	return c.jobCall(ctx, http.MethodPost, p("formations", formation, "scale"), req)
}

// ListLayers returns the layers of a formation.
func (c *Client) ListLayers(ctx context.Context, formation string) ([]deis.Layer, error) {
	return list[deis.Layer](ctx, c, p("formations", formation, "layers"))
}

// CreateLayer creates a layer in a formation.
func (c *Client) CreateLayer(ctx context.Context, formation string, req deis.LayerCreateRequest) (deis.Layer, error) {
	var l deis.Layer
	err := c.post(ctx, p("formations", formation, "layers"), req, &l)
	return l, err
}

// GetLayer returns one layer.
func (c *Client) GetLayer(ctx context.Context, formation, id string) (deis.Layer, error) {
	var l deis.Layer
	err := c.get(ctx, p("formations", formation, "layers", id), &l)
	return l, err
}

// UpdateLayer changes a layer.
func (c *Client) UpdateLayer(ctx context.Context, formation, id string, req deis.LayerUpdateRequest) (deis.Layer, error) {
	var l deis.Layer
	err := c.patch(ctx, p("formations", formation, "layers", id), req, &l)
	return l, err
}

// DeleteLayer removes a layer.
func (c *Client) DeleteLayer(ctx context.Context, formation, id string) error {
	return c.del(ctx, p("formations", formation, "layers", id))
}

// ListNodes returns the nodes of a formation.
func (c *Client) ListNodes(ctx context.Context, formation string) ([]deis.Node, error) {
	return list[deis.Node](ctx, c, p("formations", formation, "nodes"))
}

// RefreshNodes checks every node of a formation (reachable, Docker engine,
// nginx) and returns them with their new status.
func (c *Client) RefreshNodes(ctx context.Context, formation string) ([]deis.Node, error) {
	return list[deis.Node](ctx, c, p("formations", formation, "nodes")+"?refresh=true")
}

// ReconcileNodes starts a job that compares the formation's cloud machines
// with its nodes (see NodeReconcileRequest).
func (c *Client) ReconcileNodes(ctx context.Context, formation string, req deis.NodeReconcileRequest) (*deis.Job, error) {
	return c.jobCall(ctx, http.MethodPost, p("formations", formation, "nodes", "reconcile"), req)
}

// RefreshNode checks one node and returns it with its new status.
func (c *Client) RefreshNode(ctx context.Context, id string) (deis.Node, error) {
	var n deis.Node
	err := c.get(ctx, p("nodes", id)+"?refresh=true", &n)
	return n, err
}

// TrustNode forgets a node's pinned host key: the next contact pins the
// key the node presents then.
func (c *Client) TrustNode(ctx context.Context, id string) (deis.Node, error) {
	var n deis.Node
	err := c.post(ctx, p("nodes", id, "trust"), nil, &n)
	return n, err
}

// CreateNode starts the job that adopts an existing host into a layer.
func (c *Client) CreateNode(ctx context.Context, formation string, req deis.NodeCreateRequest) (*deis.Job, error) {
	return c.jobCall(ctx, http.MethodPost, p("formations", formation, "nodes"), req)
}

// GetNode returns one node.
func (c *Client) GetNode(ctx context.Context, id string) (deis.Node, error) {
	var n deis.Node
	err := c.get(ctx, p("nodes", id), &n)
	return n, err
}

// DestroyNode starts the job that terminates a node.
func (c *Client) DestroyNode(ctx context.Context, id string) (*deis.Job, error) {
	return c.jobCall(ctx, http.MethodDelete, p("nodes", id), nil)
}

// PlanFormation returns what a converge of every node of a formation would
// change, changing nothing.
func (c *Client) PlanFormation(ctx context.Context, id string) ([]deis.NodePlan, error) {
	var out []deis.NodePlan
	err := c.post(ctx, p("formations", id, "converge")+"?dry_run=true", nil, &out)
	return out, err
}

// PlanNode returns what a converge of one node would change.
func (c *Client) PlanNode(ctx context.Context, id string) ([]deis.NodePlan, error) {
	var out []deis.NodePlan
	err := c.post(ctx, p("nodes", id, "converge")+"?dry_run=true", nil, &out)
	return out, err
}

// ConvergeNode starts the job that converges one node.
func (c *Client) ConvergeNode(ctx context.Context, id string) (*deis.Job, error) {
	return c.jobCall(ctx, http.MethodPost, p("nodes", id, "converge"), nil)
}

// NodeSSH returns what it takes to open an SSH session to a node.
func (c *Client) NodeSSH(ctx context.Context, id string) (deis.NodeSSHInfo, error) {
	var s deis.NodeSSHInfo
	err := c.get(ctx, p("nodes", id, "ssh"), &s)
	return s, err
}
