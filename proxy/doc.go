// Package proxy renders the nginx configuration of proxy nodes from the
// healthy web containers of each app. It lands with the "Converge" issue.
package proxy
