package nodes

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
)

// Spec is what a provider needs to make one node.
type Spec struct {
	Formation string
	Layer     string
	Node      string // node id, <formation>-<layer>-<num>
	Proxy     bool   // publish HTTP for users
	PublicKey string // the layer's key, authorized for SSH
	Params    map[string]string
}

// Machine is a node as its provider sees it.
type Machine struct {
	ProviderID string
	Node       string
	Formation  string
	Layer      string
	Address    string // where the controller reaches it
	SSHPort    int
	SSHUser    string // the user the provider authorized the key for
	// Public is host:port where users reach the node's HTTP (proxy nodes of
	// the docker provider publish port 80 on a loopback port).
	Public string
	// Private is where the formation's other nodes reach it, when that
	// differs from Address (a cloud's private address).
	Private string
	// Running is false when the machine exists but is stopped.
	Running bool
}

// Provider makes and destroys machines. Create returns once the machine is
// running; it need not answer SSH yet.
type Provider interface {
	Create(ctx context.Context, s Spec) (Machine, error)
	Destroy(ctx context.Context, providerID string) error
	// List returns every machine this provider made for deis, in any
	// formation, so the controller can find what the store does not know.
	List(ctx context.Context) ([]Machine, error)
}

// ReachError is an SSH dial of a host that failed: refused, no SSH there,
// or the key refused. Its text says which, which tells open ports from
// closed ones: the API shows it to admins only.
type ReachError struct {
	Addr string
	Err  error
}

func (e *ReachError) Error() string { return "reaching " + e.Addr + ": " + e.Err.Error() }
func (e *ReachError) Unwrap() error { return e.Err }

// ErrUnavailable is returned for provider types whose back end is not built.
type ErrUnavailable struct{ Type string }

func (e ErrUnavailable) Error() string { return "the " + e.Type + " provider is not available yet" }

// Layer is what a provider needs to build a layer's own resources.
type Layer struct {
	Formation, Layer string
	PublicKey        string // the layer's key, authorized for SSH
	Proxy            bool
	Params           map[string]string // the flavor's
}

// LayerBuilder is a provider with resources per layer (a cloud's key pair
// and firewall rules). BuildLayer is idempotent; TeardownLayer removes the
// layer's machines first, then its resources.
type LayerBuilder interface {
	BuildLayer(ctx context.Context, l Layer) error
	TeardownLayer(ctx context.Context, l Layer) error
}

// RegionUser is a provider whose machines live in regions: it lists and
// destroys in every region it was told of, not only its default one.
type RegionUser interface {
	UseRegion(region string)
}

// ErrRefused marks a provider error caused by what the user gave (refused
// credentials, a missing permission, a bad parameter), as opposed to the
// provider failing.
var ErrRefused = errors.New("refused")

// Refused marks err as caused by what the user gave: errors.Is(err,
// ErrRefused) holds, and its text is err's.
func Refused(err error) error { return refusedError{err} }

type refusedError struct{ error }

func (e refusedError) Unwrap() []error { return []error{e.error, ErrRefused} }

// Verifier is a provider that can check its credentials with a cheap call.
type Verifier interface {
	Verify(ctx context.Context) error
}

// FlavorSeed is a flavor a provider suggests when it is created; its id is
// the provider's id, '-', Suffix.
type FlavorSeed struct {
	Suffix string
	Params map[string]string
}

// Seeder is a provider that suggests flavors.
type Seeder interface {
	SeedFlavors(ctx context.Context) ([]FlavorSeed, error)
}

// Providers opens providers by type, sharing what they can (one Docker
// engine client for every docker provider).
type Providers struct {
	Docker *Docker // nil when the controller has no Docker engine
	// EC2 opens an ec2 provider with a provider's credentials; nil when
	// the controller is built without it. The controller binary sets it so
	// that only it compiles the AWS SDK.
	EC2 func(creds map[string]string) (Provider, error)
	Log *slog.Logger
}

// Open returns the provider of type typ with creds.
func (ps *Providers) Open(typ string, creds map[string]string) (Provider, error) {
	switch typ {
	case "docker":
		if ps.Docker == nil {
			return nil, fmt.Errorf("the docker provider needs a Docker engine on the controller, and none answered")
		}
		return ps.Docker, nil
	case "static":
		return static{}, nil
	case "ec2":
		if ps.EC2 != nil {
			return ps.EC2(creds)
		}
	}
	return nil, ErrUnavailable{Type: typ}
}

// static adopts machines that exist: it makes none and destroys none.
type static struct{}

func (static) Create(context.Context, Spec) (Machine, error) {
	return Machine{}, fmt.Errorf("the static provider cannot create machines: adopt one with deis nodes:create FORMATION HOST --layer LAYER")
}
func (static) Destroy(context.Context, string) error   { return nil }
func (static) List(context.Context) ([]Machine, error) { return nil, nil }

var _ Provider = static{}
