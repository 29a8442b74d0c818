// Package ec2 is the EC2 node provider: it runs one instance per node with
// github.com/aws/aws-sdk-go-v2, tags what it makes with the controller's id,
// and builds each layer's key pair and security groups. It is its own
// package so that only the controller binary compiles the (large) SDK.
package ec2

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/deis/deis/nodes"
)

// Tags on everything the provider makes.
const (
	TagFormation  = "deis:formation"
	TagLayer      = "deis:layer"
	TagNode       = "deis:node"
	TagController = "deis:controller"
)

// Credentials are static AWS credentials. When AccessKeyID is empty the
// standard chain is used (environment, shared config and credentials files).
type Credentials struct {
	AccessKeyID, SecretAccessKey, SessionToken string
}

// Config configures a Provider.
type Config struct {
	Region     string // default region; flavors may name another
	Creds      Credentials
	Endpoint   string // overrides the EC2 endpoint (tests)
	Controller string // the controller's id, tagged on every resource
	Log        *slog.Logger
	// MaxAttempts bounds the SDK's retries (throttling, 5xx); 0 means 5.
	MaxAttempts int
	// MaxBackoff caps the delay between retries; 0 means 20s.
	MaxBackoff time.Duration
	// Regions are listed by List in addition to Region and the regions
	// this provider has created in.
	Regions []string
	// PollInterval is the least delay between DescribeInstances while
	// waiting for an instance; 0 means 5s. RunTimeout bounds that wait
	// (0 means 10 minutes).
	PollInterval, RunTimeout time.Duration
	// SSHCIDR is where nodes accept SSH from (the controller's address);
	// empty means ask CheckIPURL (default https://checkip.amazonaws.com/).
	SSHCIDR, CheckIPURL string
}

// Provider is the ec2 provider. It implements nodes.Provider.
type Provider struct {
	cfg    Config
	client *ec2.Client
	creds  aws.CredentialsProvider

	mu      sync.Mutex
	regions map[string]bool   // regions used
	where   map[string]string // instance id -> region
}

var _ nodes.Provider = (*Provider)(nil)

// New returns a provider for cfg. It makes no call; see Verify.
func New(ctx context.Context, cfg Config) (*Provider, error) {
	if cfg.Controller == "" {
		return nil, errors.New("ec2: the controller id is required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 5
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 20 * time.Second
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 5 * time.Second
	}
	if cfg.RunTimeout <= 0 {
		cfg.RunTimeout = 10 * time.Minute
	}
	opts := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer {
			// The standard retryer retries throttling (RequestLimitExceeded,
			// Throttling) and 5xx with exponential backoff and jitter.
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = cfg.MaxAttempts
				o.MaxBackoff = cfg.MaxBackoff
				// Capacity errors come as 500s, which the SDK would retry
				// within seconds; the operator needs another instance type
				// or zone instead, so say so at once.
				o.Retryables = append([]retry.IsErrorRetryable{retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
					if isCapacity(err) {
						return aws.FalseTernary
					}
					return aws.UnknownTernary
				})}, o.Retryables...)
			})
		}),
	}
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if c := cfg.Creds; c.AccessKeyID != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("ec2: loading the AWS configuration: %w", err)
	}
	if awsCfg.Region == "" {
		return nil, errors.New("ec2: no region: give one (region=...) or set AWS_REGION")
	}
	cfg.Region = awsCfg.Region
	client := ec2.NewFromConfig(awsCfg, func(o *ec2.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
	})
	return &Provider{cfg: cfg, client: client, creds: awsCfg.Credentials,
		regions: map[string]bool{cfg.Region: true}, where: map[string]string{}}, nil
}

// Region is the provider's default region.
func (p *Provider) Region() string { return p.cfg.Region }

// Verify makes one cheap call so that bad credentials are reported when the
// provider is created, not at the first scale.
func (p *Provider) Verify(ctx context.Context) error {
	if p.cfg.Creds.AccessKeyID == "" && p.creds != nil {
		// The controller's own credentials: say plainly when there are none.
		if _, err := p.creds.Retrieve(ctx); err != nil {
			return nodes.Refused(fmt.Errorf("the controller has no AWS credentials of its own (environment, shared files or instance role): give --creds access_key_id=... secret_access_key=..."))
		}
	}
	_, err := p.client.DescribeRegions(ctx, &ec2.DescribeRegionsInput{RegionNames: []string{p.cfg.Region}})
	if err != nil {
		return explain("DescribeRegions", err, "")
	}
	return nil
}

// in returns per-call options that send a call to region.
func (p *Provider) in(region string) func(*ec2.Options) {
	return func(o *ec2.Options) {
		if region != "" {
			o.Region = region
		}
	}
}

func (p *Provider) region(r string) string {
	if r == "" {
		r = p.cfg.Region
	}
	p.mu.Lock()
	p.regions[r] = true
	p.mu.Unlock()
	return r
}

// explain turns an SDK error into one line an operator can act on. hint is
// added to capacity errors.
func explain(op string, err error, hint string) error {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return fmt.Errorf("ec2 %s: %s", op, oneLine(err.Error()))
	}
	msg := oneLine(ae.ErrorMessage())
	switch code := ae.ErrorCode(); code {
	case "AuthFailure", "InvalidClientTokenId", "SignatureDoesNotMatch", "UnrecognizedClientException", "ExpiredToken", "RequestExpired":
		return nodes.Refused(fmt.Errorf("the AWS credentials were refused: %s (%s)", msg, code))
	case "UnauthorizedOperation", "AccessDenied", "AccessDeniedException":
		// The message carries a long encoded blob: keep its first sentence.
		if i := strings.Index(msg, ". "); i > 0 {
			msg = msg[:i+1]
		}
		return nodes.Refused(fmt.Errorf("the AWS credentials may not call ec2:%s (%s): %s", op, code, msg))
	case "InsufficientInstanceCapacity", "InsufficientHostCapacity", "InsufficientReservedInstanceCapacity", "InsufficientCapacity", "Unsupported":
		return fmt.Errorf("AWS has no capacity for %s (%s): %s; %s", hint, code, msg, suggest(hint))
	case "RequestLimitExceeded", "Throttling", "ThrottlingException":
		return fmt.Errorf("AWS throttled ec2:%s even after retries (%s): %s", op, code, msg)
	default:
		return fmt.Errorf("ec2 %s: %s: %s", op, code, msg)
	}
}

// capacityCodes are the errors AWS answers when it has no capacity.
var capacityCodes = []string{"InsufficientInstanceCapacity", "InsufficientHostCapacity", "InsufficientReservedInstanceCapacity", "InsufficientCapacity"}

func isCapacity(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && slices.Contains(capacityCodes, ae.ErrorCode())
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// suggest names another instance type of the same size for a capacity error
// on hint ("instance type t3.small in zone eu-west-1a").
func suggest(hint string) string {
	alt := map[string]string{"t3": "t3a", "t3a": "t3", "m5": "m5a", "m5a": "m5", "c5": "c5a", "c5a": "c5",
		"m6i": "m6a", "m6a": "m6i", "c6i": "c6a", "c6a": "c6i", "t2": "t3"}
	for _, f := range strings.Fields(hint) {
		if fam, size, ok := strings.Cut(f, "."); ok {
			if a, ok := alt[fam]; ok {
				return fmt.Sprintf("try instance_type=%s.%s or another zone in the flavor", a, size)
			}
		}
	}
	return "try another instance_type or zone in the flavor"
}

func tag(k, v string) types.Tag { return types.Tag{Key: aws.String(k), Value: aws.String(v)} }

func tagsOf(ts []types.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range ts {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func filter(name string, values ...string) types.Filter {
	return types.Filter{Name: aws.String(name), Values: values}
}
