// Package converge computes each node's desired state from the store and
// brings the formation's nodes to it over SSH, in rollout order. It lands with
// the "Converge" issue.
package converge
