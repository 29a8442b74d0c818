package deis

import (
	"time"
)

// Provider is a source of nodes. Its credentials are never returned: only
// the names of the credentials it holds.
type Provider struct {
	ID       string    `json:"id"`
	Owner    string    `json:"owner"`
	Type     string    `json:"type"`
	CredKeys []string  `json:"cred_keys"`
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
}

// Provider types.
const (
	ProviderStatic = "static"
	ProviderDocker = "docker"
	ProviderEC2    = "ec2"
)

// Credential names of an ec2 provider, as `deis providers:create ID --type
// ec2 --creds access_key_id=... secret_access_key=...` stores them.
const (
	CredAccessKeyID     = "access_key_id"
	CredSecretAccessKey = "secret_access_key"
	CredSessionToken    = "session_token"
	CredRegion          = "region"
)

// ProviderCreateRequest creates a provider.
type ProviderCreateRequest struct {
	ID    string            `json:"id"`
	Type  string            `json:"type"`
	Creds map[string]string `json:"creds,omitempty"`
}

// ProviderUpdateRequest merges credentials: a null value removes the key.
type ProviderUpdateRequest struct {
	Creds map[string]*string `json:"creds"`
}

// Flavor is a provider plus the parameters of the machines it makes.
type Flavor struct {
	ID       string            `json:"id"`
	Owner    string            `json:"owner"`
	Provider string            `json:"provider"`
	Params   map[string]string `json:"params"`
	Created  time.Time         `json:"created"`
	Updated  time.Time         `json:"updated"`
}

// FlavorCreateRequest creates a flavor.
type FlavorCreateRequest struct {
	ID       string            `json:"id"`
	Provider string            `json:"provider"`
	Params   map[string]string `json:"params,omitempty"`
}

// FlavorUpdateRequest changes a flavor; params merge and a null removes a key.
type FlavorUpdateRequest struct {
	Provider *string            `json:"provider,omitempty"`
	Params   map[string]*string `json:"params,omitempty"`
}

// Apply changes f as r says: a new provider, and params merged (a nil
// value removes the param).
func (r FlavorUpdateRequest) Apply(f *Flavor) {
	if r.Provider != nil {
		f.Provider = *r.Provider
	}
	params := make(map[string]string, len(f.Params)+len(r.Params))
	for k, v := range f.Params {
		params[k] = v
	}
	for k, v := range r.Params {
		if v == nil {
			delete(params, k)
		} else {
			params[k] = *v
		}
	}
	f.Params = params
}
