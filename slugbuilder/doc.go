// Package slugbuilder compiles a pushed tree into a slug, a tar.gz of /app,
// with buildpacks (the Heroku buildpack API: bin/detect, bin/compile,
// bin/release) in an ephemeral container on the controller's Docker
// engine, never on the host.
//
// The builder image, deis/builder:<content hash>, is built FROM the base
// image with the Debian packages buildpacks need and the embedded
// buildpacks in /buildpacks: go, nodejs, python, static and procfile,
// detected in that order unless the app's BUILDPACK_URL names one (a git
// URL or a buildpack under /buildpacks). Each build gets a container with
// limits and no privileges, the app's cache at /cache, the app's config in
// ENV_DIR and the host's CA bundle (plus extra CAs), so HTTPS to module
// proxies works behind TLS-inspecting proxies. Its output streams back
// live, Heroku-style; the slug is copied out, hashed, and the container
// removed.
package slugbuilder
