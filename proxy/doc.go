// Package proxy renders the nginx configuration of proxy nodes: one file,
// included in nginx's http context, with an upstream and a server per app
// routing <app>.<domain> to the app's healthy web containers. Rendering is
// pure and deterministic and validates every name and address it writes, so
// nothing in the desired state can inject nginx syntax. Writing the file,
// testing it with nginx -t and reloading nginx is the proxy recipe's job
// (package recipes).
package proxy
