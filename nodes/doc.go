// Package nodes owns the machines of a formation: the providers that create
// and destroy them (docker, static, and ec2 in nodes/ec2), the images the
// docker provider runs, SSH access through a pool with host keys pinned on
// first use, bootstrapping, status checks, and reconciling what providers
// run with the store.
package nodes
