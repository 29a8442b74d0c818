// Package slugbuilder compiles a pushed tree into a slug with buildpacks in
// an ephemeral container. It lands with the "git push deploys" issue.
package slugbuilder
