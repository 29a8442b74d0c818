// Package nodes owns the machines of a formation: the providers that create
// and destroy them (docker, static, ec2), SSH access with pinned host keys, and
// their status. Its back end lands with the "Nodes you can reach" issue; until
// then the API answers node operations with a not-available error.
package nodes
