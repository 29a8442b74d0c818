package cli

import "strings"

// help is each command's long description and examples, shown by
// `deis help CMD` and `deis CMD --help` (as flynn's and nomad's CLIs show
// usage with examples). A test checks that every command has both.
var help = map[string]struct{ long, example string }{
	"register": {
		"Create an account on the controller at URL and log in. The first account of a controller is its admin. Asks for what --username, --password and --email do not give.",
		"deis register http://127.0.0.1:8000\ndeis register http://10.0.0.5:8000 --username me --password 'a long password' --email me@example.com"},
	"login": {
		"Log in to the controller at URL; the token is kept in ~/.deis/client.json (mode 0600).",
		"deis login http://127.0.0.1:8000 --username me"},
	"logout": {"Forget the token and tell the controller to revoke it.", "deis logout"},
	"whoami": {"Print who you are logged in as, and at which controller.", "deis whoami"},
	"keys:add": {
		"Add an SSH public key to your account: git push deis main authenticates with it. Without PATH, the first of ~/.ssh/id_ed25519.pub, id_ecdsa.pub and id_rsa.pub.",
		"deis keys:add\ndeis keys:add ~/.ssh/work.pub"},
	"keys:list":   {"List your SSH keys with their fingerprints.", "deis keys:list"},
	"keys:remove": {"Remove one of your SSH keys by its id (see keys:list).", "deis keys:remove work"},
	"providers:list": {
		"List your providers: where nodes come from (static hosts you adopt, containers on the controller's Docker engine, EC2).",
		"deis providers:list"},
	"providers:info": {"Show a provider (its credentials are never shown).", "deis providers:info aws"},
	"providers:create": {
		"Add a provider of type static, docker or ec2. EC2 credentials are checked with one call before they are stored (sealed at rest), and the provider seeds flavors, one per region.",
		"deis providers:create aws --type ec2 --creds access_key_id=AKIA... secret_access_key=... region=eu-west-1"},
	"providers:discover": {
		"Create an ec2 provider from the credentials the AWS CLI would use: AWS_* variables, then the shared credentials and config files (AWS_PROFILE). Makes no network call itself.",
		"deis providers:discover\nAWS_PROFILE=work deis providers:discover"},
	"providers:delete": {"Delete a provider no flavor uses.", "deis providers:delete aws"},
	"flavors:list":     {"List your flavors: a provider with parameters (region, instance type, image...).", "deis flavors:list"},
	"flavors:info":     {"Show a flavor and its parameters.", "deis flavors:info aws-eu-west-1"},
	"flavors:create": {
		"Create a flavor of a provider with parameters, for layers to use.",
		"deis flavors:create big --provider aws --params region=eu-west-1 instance_type=t3.large"},
	"flavors:update": {
		"Change a flavor's provider or parameters; a parameter given as NAME= is removed.",
		"deis flavors:update big --params instance_type=t3.xlarge"},
	"flavors:delete": {"Delete a flavor no layer uses.", "deis flavors:delete big"},
	"formations:create": {
		"Create a formation: the layers of nodes your apps run on. With --flavor it gets one layer, runtime, that is both proxy and runtime. Docker formations serve apps at APP.ID.localhost unless --domain says otherwise.",
		"deis formations:create dev --flavor docker\ndeis formations:create prod --domain example.com"},
	"formations:list": {"List the formations you can see.", "deis formations:list"},
	"formations:info": {"Show a formation: its domain, layers and node counts.", "deis formations:info dev"},
	"formations:update": {
		"Change a formation's domain; apps answer at APP.DOMAIN after the next converge.",
		"deis formations:update prod --domain example.org"},
	"formations:calculate": {
		"Print the desired state of every node of the formation (the databags converge applies), as JSON.",
		"deis formations:calculate dev"},
	"formations:converge": {
		"Bring every node of the formation to its desired state, in parallel; --dry-run prints what would change and changes nothing.",
		"deis formations:converge dev\ndeis formations:converge dev --dry-run"},
	"formations:destroy": {
		"Destroy the formation: its nodes (cloud machines terminated), its apps and its layers. --confirm must repeat its id.",
		"deis formations:destroy dev --confirm dev"},
	"layers:create": {
		"Add a layer of nodes of one flavor to a formation: proxy (nginx in front of the apps), runtime (app containers) or both. Each layer gets its own SSH key pair.",
		"deis layers:create prod proxy aws-eu-west-1 --runtime n\ndeis layers:create prod runtime aws-eu-west-1 --proxy n"},
	"layers:list":    {"List a formation's layers.", "deis layers:list prod"},
	"layers:info":    {"Show a layer, with its public SSH key.", "deis layers:info prod runtime"},
	"layers:update":  {"Change a layer's flavor, roles or SSH user and port.", "deis layers:update prod runtime --ssh-user admin"},
	"layers:destroy": {"Destroy a layer and its nodes.", "deis layers:destroy prod proxy"},
	"nodes:scale": {
		"Make or remove nodes so that each named layer has N. New nodes are reached over SSH, their host keys pinned, bootstrapped and converged (runtime nodes get the runner image). Nodes that go are drained first: their containers move with zero downtime.",
		"deis nodes:scale dev runtime=2\ndeis nodes:scale prod proxy=1 runtime=3"},
	"nodes:create": {
		"Adopt a host you already have into a layer: it is reached over SSH with the layer's key, bootstrapped (Docker, nginx) and converged.",
		"deis nodes:create prod 203.0.113.7 --layer runtime\ndeis nodes:create prod 203.0.113.8:2222 --layer runtime"},
	"nodes:list": {
		"List a formation's nodes and what was last seen of them; --refresh checks them now (and reconciles cloud machines: --adopt or --terminate the untracked).",
		"deis nodes:list dev\ndeis nodes:list prod --refresh --adopt"},
	"nodes:info": {"Show a node and its last status check.", "deis nodes:info dev-runtime-1"},
	"nodes:converge": {
		"Bring one node to its desired state; --dry-run prints what would change.",
		"deis nodes:converge dev-runtime-1 --dry-run"},
	"nodes:ssh": {
		"Open a shell on a node with its layer's key and pinned host key, or run CMD there.",
		"deis nodes:ssh dev-runtime-1\ndeis nodes:ssh dev-runtime-1 docker ps"},
	"nodes:trust": {
		"Forget a node's pinned host key after you checked that the machine was rebuilt; the next contact pins the new one.",
		"deis nodes:trust dev-runtime-1"},
	"nodes:destroy": {"Destroy one node (its cloud machine is terminated).", "deis nodes:destroy dev-runtime-2"},
	"apps:create": {
		"Create an app on a formation and add the git remote deis in the current repository. Without ID a name is made up.",
		"deis apps:create --formation dev\ndeis apps:create shop --formation prod"},
	"apps:list": {"List the apps you own or collaborate on.", "deis apps:list"},
	"apps:info": {
		"Show an app, its URL and git remote, and its containers as their nodes say now.",
		"deis apps:info\ndeis apps:info shop"},
	"apps:open": {"Print the app's URL; --browser opens it.", "deis open\ndeis open --browser"},
	"apps:destroy": {
		"Destroy the app: its containers go (the proxies drop it first), then the app and its releases; the deis git remote is removed. --confirm must repeat its id.",
		"deis apps:destroy --confirm shop"},
	"apps:logs": {"Print the app's logs (-n lines, -f to follow).", "deis logs -n 100\ndeis logs -f"},
	"apps:run":  {"Run a one-off command in a new container of the app's current release.", "deis run rake db:migrate"},
	"config:list": {
		"Print the app's config as KEY=VALUE lines, values exactly as stored (--json for the config).",
		"deis config"},
	"config:set": {
		"Set config values: a new release of the current build, rolled out with zero downtime (new containers beside the old, the proxies switch, the old drain). The CLI follows the rollout and prints the release; --no-wait returns at once; --dry-run prints the plan.",
		"deis config:set DATABASE_URL='postgres://u:p@db/x?sslmode=require'\ndeis config:set GREETING=hi --dry-run"},
	"config:unset": {
		"Remove config values: a new release, rolled out like config:set.",
		"deis config:unset GREETING"},
	"containers:list": {
		"List the app's containers as their nodes say now: up, or down with the exit code, restarts and when it died.",
		"deis ps"},
	"containers:scale": {
		"Set how many containers of each Procfile process type run, rolled out with zero downtime. Only web takes traffic; other types (worker, clock) must keep running. --dry-run prints the plan.",
		"deis scale web=2 worker=1\ndeis scale web=4 --dry-run"},
	"builds:list": {"List the app's builds, newest first.", "deis builds:list"},
	"builds:info": {"Show a build: its slug, Procfile and buildpack.", "deis builds:info 3f2c..."},
	"builds:create": {
		"Register a slug built elsewhere as a new release and roll it out: upload a tar.gz of /app with a Procfile (--slug), or give a BuildCreateRequest as JSON. git push deis main does this for you.",
		"deis builds:create --slug app.tgz --sha 1a2b3c4\ndeis builds:create build.json"},
	"releases:list": {"List the app's releases, newest first, with their status.", "deis releases"},
	"releases:info": {"Show a release.", "deis releases:info v7"},
	"releases:rollback": {
		"Make a new release of an earlier one's build and config (the one before the current without vN), rolled out like any release; --dry-run prints the plan.",
		"deis rollback\ndeis rollback v3 --dry-run"},
	"perms:list":   {"List the app's collaborators.", "deis perms:list"},
	"perms:create": {"Let a user push to and change the app.", "deis perms:create bob"},
	"perms:delete": {"Stop a user collaborating on the app.", "deis perms:delete bob"},
}

// withHelp sets cmd's long description and examples from help.
func withHelp(use string, long, example *string) {
	name, _, _ := strings.Cut(use, " ")
	if h, ok := help[name]; ok {
		*long = h.long
		lines := strings.Split(h.example, "\n")
		for i, l := range lines {
			lines[i] = "  " + l
		}
		*example = strings.Join(lines, "\n")
	}
}
