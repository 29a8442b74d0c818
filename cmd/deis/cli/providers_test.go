package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deis/deis"
	"github.com/google/go-cmp/cmp"
)

// TestMultiValueFlagsOnTheWire checks "--creds K=V K=V" and "--params ...
// --unset K K" send every value, split on the first '='.
func TestMultiValueFlagsOnTheWire(t *testing.T) {
	e := newTestEnv(t)
	e.login()
	if _, errOut, code := e.run("providers:create", "rack", "--type", "static", "--creds", "user=ops", "password=s3cr=t"); code != 0 {
		t.Fatalf("providers:create: exit %d: %s", code, errOut)
	}
	if _, errOut, code := e.run("flavors:update", "small", "--params", "size=large", "img=a=b", "--unset", "zone", "region"); code != 0 {
		t.Fatalf("flavors:update: exit %d: %s", code, errOut)
	}
	want := []string{
		`POST /v1/providers {"id":"rack","type":"static","creds":{"password":"s3cr=t","user":"ops"}}`,
		`PATCH /v1/flavors/small {"params":{"img":"a=b","region":null,"size":"large","zone":null}}`,
	}
	if d := cmp.Diff(want, e.ctl.calls); d != "" {
		t.Errorf("requests (-want +got):\n%s", d)
	}
	if _, errOut, code := e.run("flavors:update", "small", "extra"); code != 2 {
		t.Errorf("stray argument: exit %d, stderr %q", code, errOut)
	}
}

// The fake ~/.aws of the discovery tests.
const (
	awsCredentialsFile = `[default]
aws_access_key_id = AKIADEF
aws_secret_access_key = def/se=cret

[work]
aws_access_key_id = AKIAWORK
aws_secret_access_key = work/se=cret
aws_session_token = work-token

[role]
role_arn = arn:aws:iam::123456789012:role/ops
source_profile = default
`
	awsConfigFile = `[default]
region = us-east-1

[profile work]
region = eu-west-1

[profile sso]
sso_session = corp
sso_account_id = 123456789012
sso_role_name = ops

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = us-east-1
`
)

// TestProvidersDiscover runs providers:discover against a fake HOME and
// environment and checks what it prints and sends. $ELSEWHERE in env,
// files and the expected output is a directory outside HOME.
func TestProvidersDiscover(t *testing.T) {
	const patchMissing = `PATCH /v1/providers/ec2 {"creds":{"access_key_id":"AKIA1","region":null,"secret_access_key":"s/e=cret","session_token":null}}`
	home := map[string]string{".aws/credentials": awsCredentialsFile, ".aws/config": awsConfigFile}
	tests := []struct {
		name   string
		env    map[string]string
		files  map[string]string // path under HOME (or $ELSEWHERE) → content
		out    string
		errOut string
		code   int
		calls  []string
	}{
		{
			name: "nothing found",
			out:  "No provider credentials found in the environment (looked for AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) or in AWS profile default (~/.aws/credentials, ~/.aws/config)\n",
		},
		{
			name:   "half the env creds",
			env:    map[string]string{"AWS_ACCESS_KEY_ID": "AKIA1"},
			files:  home,
			errOut: "error: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not\n",
			code:   1,
		},
		{
			name:   "only the secret",
			env:    map[string]string{"AWS_SECRET_ACCESS_KEY": "s/e=cret"},
			errOut: "error: AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not\n",
			code:   1,
		},
		{
			name:  "env creds",
			env:   map[string]string{"AWS_ACCESS_KEY_ID": "AKIA1", "AWS_SECRET_ACCESS_KEY": "s/e=cret"},
			out:   "Created provider ec2 from the AWS_* environment\n",
			calls: []string{patchMissing, `POST /v1/providers {"id":"ec2","type":"ec2","creds":{"access_key_id":"AKIA1","secret_access_key":"s/e=cret"}}`},
		},
		{
			name:  "old env names",
			env:   map[string]string{"AWS_ACCESS_KEY": "AKIA1", "AWS_SECRET_KEY": "s/e=cret"},
			out:   "Created provider ec2 from the AWS_* environment\n",
			calls: []string{patchMissing, `POST /v1/providers {"id":"ec2","type":"ec2","creds":{"access_key_id":"AKIA1","secret_access_key":"s/e=cret"}}`},
		},
		{
			name: "env creds, token and region",
			env: map[string]string{"AWS_ACCESS_KEY_ID": "AKIA1", "AWS_SECRET_ACCESS_KEY": "s/e=cret",
				"AWS_SESSION_TOKEN": "tok", "AWS_REGION": "ap-south-1", "AWS_DEFAULT_REGION": "us-west-2"},
			files: home,
			out:   "Created provider ec2 from the AWS_* environment\n",
			calls: []string{
				`PATCH /v1/providers/ec2 {"creds":{"access_key_id":"AKIA1","region":"ap-south-1","secret_access_key":"s/e=cret","session_token":"tok"}}`,
				`POST /v1/providers {"id":"ec2","type":"ec2","creds":{"access_key_id":"AKIA1","region":"ap-south-1","secret_access_key":"s/e=cret","session_token":"tok"}}`,
			},
		},
		{
			name:  "env creds win over the profile, which gives the region",
			env:   map[string]string{"AWS_ACCESS_KEY_ID": "AKIA1", "AWS_SECRET_ACCESS_KEY": "s/e=cret"},
			files: home,
			out:   "Created provider ec2 from the AWS_* environment\n",
			calls: []string{
				`PATCH /v1/providers/ec2 {"creds":{"access_key_id":"AKIA1","region":"us-east-1","secret_access_key":"s/e=cret","session_token":null}}`,
				`POST /v1/providers {"id":"ec2","type":"ec2","creds":{"access_key_id":"AKIA1","region":"us-east-1","secret_access_key":"s/e=cret"}}`,
			},
		},
		{
			name:  "default profile",
			files: home,
			out:   "Created provider ec2 from AWS profile default (~/.aws/credentials)\n",
			calls: []string{
				`PATCH /v1/providers/ec2 {"creds":{"access_key_id":"AKIADEF","region":"us-east-1","secret_access_key":"def/se=cret","session_token":null}}`,
				`POST /v1/providers {"id":"ec2","type":"ec2","creds":{"access_key_id":"AKIADEF","region":"us-east-1","secret_access_key":"def/se=cret"}}`,
			},
		},
		{
			name:  "AWS_PROFILE",
			env:   map[string]string{"AWS_PROFILE": "work"},
			files: home,
			out:   "Created provider ec2 from AWS profile work (~/.aws/credentials)\n",
			calls: []string{
				`PATCH /v1/providers/ec2 {"creds":{"access_key_id":"AKIAWORK","region":"eu-west-1","secret_access_key":"work/se=cret","session_token":"work-token"}}`,
				`POST /v1/providers {"id":"ec2","type":"ec2","creds":{"access_key_id":"AKIAWORK","region":"eu-west-1","secret_access_key":"work/se=cret","session_token":"work-token"}}`,
			},
		},
		{
			name:  "AWS_REGION over the profile's region",
			env:   map[string]string{"AWS_PROFILE": "work", "AWS_DEFAULT_REGION": "us-west-2"},
			files: map[string]string{".aws/config": "[profile work]\nregion = eu-west-1\naws_access_key_id = AKIACFG\naws_secret_access_key = cfg-secret\n"},
			out:   "Created provider ec2 from AWS profile work (~/.aws/config)\n",
			calls: []string{
				`PATCH /v1/providers/ec2 {"creds":{"access_key_id":"AKIACFG","region":"us-west-2","secret_access_key":"cfg-secret","session_token":null}}`,
				`POST /v1/providers {"id":"ec2","type":"ec2","creds":{"access_key_id":"AKIACFG","region":"us-west-2","secret_access_key":"cfg-secret"}}`,
			},
		},
		{
			name: "AWS_SHARED_CREDENTIALS_FILE elsewhere",
			env:  map[string]string{"AWS_SHARED_CREDENTIALS_FILE": "$ELSEWHERE/creds"},
			files: map[string]string{".aws/credentials": awsCredentialsFile, ".aws/config": awsConfigFile,
				"$ELSEWHERE/creds": "[default]\naws_access_key_id = AKIAELSE\naws_secret_access_key = else-secret\n"},
			out: "Created provider ec2 from AWS profile default ($ELSEWHERE/creds)\n",
			calls: []string{
				`PATCH /v1/providers/ec2 {"creds":{"access_key_id":"AKIAELSE","region":"us-east-1","secret_access_key":"else-secret","session_token":null}}`,
				`POST /v1/providers {"id":"ec2","type":"ec2","creds":{"access_key_id":"AKIAELSE","region":"us-east-1","secret_access_key":"else-secret"}}`,
			},
		},
		{
			name:  "AWS_CONFIG_FILE elsewhere, nothing there",
			env:   map[string]string{"AWS_SHARED_CREDENTIALS_FILE": "$ELSEWHERE/creds", "AWS_CONFIG_FILE": "$ELSEWHERE/config"},
			files: home,
			out:   "No provider credentials found in the environment (looked for AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) or in AWS profile default ($ELSEWHERE/creds, $ELSEWHERE/config)\n",
		},
		{
			name:   "no such profile",
			env:    map[string]string{"AWS_PROFILE": "nope"},
			files:  home,
			errOut: "error: AWS profile nope (~/.aws/credentials, ~/.aws/config): no such profile\n",
			code:   1,
		},
		{
			name:   "half the profile creds",
			files:  map[string]string{".aws/credentials": "[default]\naws_access_key_id = AKIAHALF\n"},
			errOut: "error: reading AWS profile default: error fetching config from profile, default, Error using profile: 2, partial credentials found for profile default\n",
			code:   1,
		},
		{
			name:   "SSO profile",
			env:    map[string]string{"AWS_PROFILE": "sso"},
			files:  home,
			errOut: "error: AWS profile sso uses SSO: run aws sso login --profile sso and eval \"$(aws configure export-credentials --profile sso --format env)\", then providers:discover again\n",
			code:   1,
		},
		{
			name:   "assumed role",
			env:    map[string]string{"AWS_PROFILE": "role"},
			files:  home,
			errOut: "error: AWS profile role assumes role arn:aws:iam::123456789012:role/ops, which providers:discover does not do: run eval \"$(aws configure export-credentials --profile role --format env)\", then providers:discover again\n",
			code:   1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			e.login()
			elsewhere := t.TempDir()
			expand := func(s string) string { return strings.ReplaceAll(s, "$ELSEWHERE", elsewhere) }
			for k, v := range tt.env {
				e.env[k] = expand(v)
			}
			for name, content := range tt.files {
				path := expand(name)
				if !filepath.IsAbs(path) {
					path = filepath.Join(e.home, name)
				}
				if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			out, errOut, code := e.run("providers:discover")
			if code != tt.code || out != expand(tt.out) || errOut != tt.errOut {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, stdout %q, stderr %q",
					code, out, errOut, tt.code, expand(tt.out), tt.errOut)
			}
			if d := cmp.Diff(tt.calls, e.ctl.calls); d != "" {
				t.Errorf("requests (-want +got):\n%s", d)
			}
			for _, secret := range []string{"se=cret", "-secret", "-token"} {
				if strings.Contains(out+errOut, secret) {
					t.Errorf("output shows a secret: %q %q", out, errOut)
				}
			}
		})
	}
}

// TestProvidersDiscoverUpdates checks a second discovery updates provider
// ec2, removing the stored session token and region it no longer finds,
// and that --json prints the provider.
func TestProvidersDiscoverUpdates(t *testing.T) {
	e := newTestEnv(t)
	e.login()
	e.env["AWS_ACCESS_KEY_ID"], e.env["AWS_SECRET_ACCESS_KEY"] = "AKIA1", "s/e=cret"
	e.env["AWS_SESSION_TOKEN"], e.env["AWS_REGION"] = "tok", "eu-west-1"
	if out, errOut, code := e.run("providers:discover"); code != 0 || out != "Created provider ec2 from the AWS_* environment\n" {
		t.Fatalf("first discovery: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	delete(e.env, "AWS_SESSION_TOKEN")
	delete(e.env, "AWS_REGION")
	e.env["AWS_ACCESS_KEY_ID"] = "AKIA2"
	e.ctl.calls = nil
	out, errOut, code := e.run("providers:discover")
	if code != 0 || out != "Updated provider ec2 from the AWS_* environment\n" || errOut != "" {
		t.Errorf("second discovery: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	want := []string{`PATCH /v1/providers/ec2 {"creds":{"access_key_id":"AKIA2","region":null,"secret_access_key":"s/e=cret","session_token":null}}`}
	if d := cmp.Diff(want, e.ctl.calls); d != "" {
		t.Errorf("requests (-want +got):\n%s", d)
	}

	out, errOut, code = e.run("--json", "providers:discover")
	var p deis.Provider
	if err := json.Unmarshal([]byte(out), &p); code != 0 || err != nil {
		t.Fatalf("--json: exit %d, stdout %q, stderr %q: %v", code, out, errOut, err)
	}
	if d := cmp.Diff([]string{"access_key_id", "secret_access_key"}, p.CredKeys); d != "" || p.ID != "ec2" || p.Type != "ec2" {
		t.Errorf("--json provider %+v, cred keys (-want +got):\n%s", p, d)
	}
}
