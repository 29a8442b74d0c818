package ec2

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/deis/deis"
	"github.com/deis/deis/nodes"
)

// Cred names of an ec2 provider (deis.CredAccessKeyID...).
const (
	CredAccessKeyID     = deis.CredAccessKeyID
	CredSecretAccessKey = deis.CredSecretAccessKey
	CredSessionToken    = deis.CredSessionToken
	CredRegion          = deis.CredRegion
)

// DefaultRegion is the region of a provider whose creds name none.
const DefaultRegion = "us-east-1"

// SeedRegions get a flavor <provider>-<region> each when an ec2 provider is
// created.
var SeedRegions = []string{"us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1"}

// SeedInstanceType is the instance type of seeded flavors: 2 vCPUs and 2 GiB,
// enough for a node's Docker engine, nginx and a few small apps.
const SeedInstanceType = "t3.small"

// ParseCreds checks an ec2 provider's creds: only the known names, and the
// key id and secret together. Empty creds mean the controller's own AWS
// credentials (environment, shared files, instance role).
func ParseCreds(creds map[string]string) (Credentials, string, error) {
	known := []string{CredAccessKeyID, CredSecretAccessKey, CredSessionToken, CredRegion}
	for k := range creds {
		if !slices.Contains(known, k) {
			return Credentials{}, "", nodes.Refused(fmt.Errorf("ec2 credential %q is unknown: use %s", k, strings.Join(known, ", ")))
		}
	}
	c := Credentials{AccessKeyID: creds[CredAccessKeyID], SecretAccessKey: creds[CredSecretAccessKey], SessionToken: creds[CredSessionToken]}
	switch {
	case c.AccessKeyID != "" && c.SecretAccessKey == "":
		return c, "", nodes.Refused(fmt.Errorf("ec2 credentials: access_key_id is given but secret_access_key is not"))
	case c.AccessKeyID == "" && c.SecretAccessKey != "":
		return c, "", nodes.Refused(fmt.Errorf("ec2 credentials: secret_access_key is given but access_key_id is not"))
	case c.AccessKeyID == "" && c.SessionToken != "":
		return c, "", nodes.Refused(fmt.Errorf("ec2 credentials: session_token needs access_key_id and secret_access_key"))
	}
	region := creds[CredRegion]
	if region == "" {
		region = DefaultRegion
	}
	return c, region, nil
}

// maxOpen bounds the providers an Opener keeps.
const maxOpen = 64

// Opener opens ec2 providers for the controller, one per set of creds,
// reused: a provider remembers which region each instance is in.
type Opener struct {
	Base Config // Controller, Log, Endpoint, SSHCIDR... ; Creds and Region come from each provider's creds

	mu   sync.Mutex
	open map[string]*Provider
}

// Open returns the provider for creds.
func (o *Opener) Open(creds map[string]string) (nodes.Provider, error) {
	c, region, err := ParseCreds(creds)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	for _, s := range []string{c.AccessKeyID, c.SecretAccessKey, c.SessionToken, region} {
		io.WriteString(h, s)
		h.Write([]byte{0})
	}
	key := hex.EncodeToString(h.Sum(nil))
	o.mu.Lock()
	defer o.mu.Unlock()
	if p := o.open[key]; p != nil {
		return p, nil
	}
	cfg := o.Base
	cfg.Creds, cfg.Region = c, region
	if len(cfg.Regions) == 0 {
		cfg.Regions = SeedRegions
	}
	p, err := New(context.Background(), cfg)
	if err != nil {
		return nil, err
	}
	if o.open == nil || len(o.open) >= maxOpen {
		o.open = map[string]*Provider{} // bounded: providers are cheap to make again
	}
	o.open[key] = p
	return p, nil
}

// UseRegion makes List and Destroy look in region too.
func (p *Provider) UseRegion(region string) { p.region(region) }

var (
	_ nodes.RegionUser   = (*Provider)(nil)
	_ nodes.LayerBuilder = (*Provider)(nil)
	_ nodes.Verifier     = (*Provider)(nil)
	_ nodes.Seeder       = (*Provider)(nil)
)

// BuildLayer imports the layer's key pair and makes its security groups
// (EnsureLayer). SSH is allowed from the flavor's ssh_cidr, else the
// controller's --ec2-ssh-cidr, else the controller's public address.
func (p *Provider) BuildLayer(ctx context.Context, l nodes.Layer) error {
	cidr, err := p.sshCIDR(ctx, l.Params["ssh_cidr"])
	if err != nil {
		return err
	}
	_, err = p.EnsureLayer(ctx, LayerSpec{Formation: l.Formation, Layer: l.Layer, PublicKey: l.PublicKey, Proxy: l.Proxy,
		ControllerCIDR: cidr, Region: l.Params["region"], VpcID: l.Params["vpc"]})
	return err
}

// TeardownLayer terminates the layer's instances, then removes its groups
// and key pair (DestroyLayer).
func (p *Provider) TeardownLayer(ctx context.Context, l nodes.Layer) error {
	return p.DestroyLayer(ctx, LayerSpec{Formation: l.Formation, Layer: l.Layer, Region: l.Params["region"]})
}

// SeedFlavors suggests a flavor per seed region with the region's newest
// Debian 12 image, looked up now. A region that cannot be asked (not
// enabled for the account) is left out.
func (p *Provider) SeedFlavors(ctx context.Context) ([]nodes.FlavorSeed, error) {
	type res struct {
		image string
		err   error
	}
	out := make([]res, len(SeedRegions))
	var wg sync.WaitGroup
	for i, r := range SeedRegions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i].image, out[i].err = p.SeedImage(ctx, r)
		}()
	}
	wg.Wait()
	var seeds []nodes.FlavorSeed
	var errs []error
	for i, r := range SeedRegions {
		if out[i].err != nil {
			p.cfg.Log.Warn("no seeded flavor for region", "region", r, "err", out[i].err)
			errs = append(errs, fmt.Errorf("%s: %w", r, out[i].err))
			continue
		}
		seeds = append(seeds, nodes.FlavorSeed{Suffix: r, Params: map[string]string{
			"region": r, "instance_type": SeedInstanceType, "image": out[i].image}})
	}
	if len(seeds) == 0 && len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return seeds, nil
}

// sshCIDR is where the layer's nodes accept SSH from.
func (p *Provider) sshCIDR(ctx context.Context, flavor string) (string, error) {
	for _, c := range []string{flavor, p.cfg.SSHCIDR} {
		if c == "" {
			continue
		}
		if _, err := netip.ParsePrefix(c); err != nil {
			return "", nodes.Refused(fmt.Errorf("ec2: ssh_cidr %q is not a CIDR like 203.0.113.7/32", c))
		}
		return c, nil
	}
	ip, err := publicIP(ctx, p.cfg.CheckIPURL)
	if err != nil {
		return "", fmt.Errorf("ec2: finding the controller's public address for the layer's SSH rule (set --ec2-ssh-cidr or the flavor's ssh_cidr): %w", err)
	}
	return ip.String() + "/32", nil
}

// publicIP asks url (checkip.amazonaws.com by default) for the address the
// controller's traffic comes from.
func publicIP(ctx context.Context, url string) (netip.Addr, error) {
	if url == "" {
		url = "https://checkip.amazonaws.com/"
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return netip.Addr{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return netip.Addr{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 256))
	if err != nil {
		return netip.Addr{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return netip.Addr{}, fmt.Errorf("%s answered %s", url, resp.Status)
	}
	ip, err := netip.ParseAddr(strings.TrimSpace(string(b)))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%s answered %q, not an address", url, strings.TrimSpace(string(b)))
	}
	return ip, nil
}
