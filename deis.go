// Package deis is the domain model of the PaaS and the wire contract of
// its /v1 API: the entities (users, providers, flavors, formations,
// layers, nodes, apps, configs, builds, releases, containers, jobs), their
// typed states, the request bodies, and the rules every package checks
// names and values against, each defined once. It imports only the
// standard library, so every package can use it, leaf packages such as
// gitreceive, slugbuilder and the node agent's recipes included. The
// controller encodes exactly these structs and the client decodes them,
// so the two cannot drift apart.
package deis

import "regexp"

var (
	idRE          = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	envRE         = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	processTypeRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	sha256RE      = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// ValidID reports whether s can name a formation, layer, app, provider,
// flavor or key: 1 to 63 of [a-z0-9-], not starting or ending with '-'.
func ValidID(s string) bool { return idRE.MatchString(s) }

// ValidEnvName reports whether s can be a config key (an environment
// variable name).
func ValidEnvName(s string) bool { return len(s) <= 256 && envRE.MatchString(s) }

// ValidProcessType reports whether s can name a Procfile process type
// (web, worker, clock...): 1 to 63 of [a-z0-9_-], starting with a letter
// or digit.
func ValidProcessType(s string) bool { return processTypeRE.MatchString(s) }

// ValidSHA256 reports whether s is a hex sha256 (lowercase, 64 digits), as
// slugs are named.
func ValidSHA256(s string) bool { return sha256RE.MatchString(s) }

// WebType is the one process type that takes traffic from the proxies and
// is health-checked on its port, as on Heroku.
const WebType = "web"
