package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/deis/deis"
	"github.com/deis/deis/client"
	"github.com/spf13/cobra"
)

// The credentials of provider ec2, as the controller names them.
const (
	credAccessKeyID     = deis.CredAccessKeyID
	credSecretAccessKey = deis.CredSecretAccessKey
	credSessionToken    = deis.CredSessionToken
	credRegion          = deis.CredRegion
)

// awsKeys are the EC2 credentials providers:discover found and where it
// found them.
type awsKeys struct {
	accessKeyID, secretAccessKey, sessionToken, region string
	source                                             string // for people: "the AWS_* environment"
}

// creds returns the keys as a provider update: an empty session token or
// region removes a stored one.
func (k awsKeys) creds() map[string]*string {
	opt := func(v string) *string {
		if v == "" {
			return nil
		}
		return &v
	}
	return map[string]*string{
		credAccessKeyID:     &k.accessKeyID,
		credSecretAccessKey: &k.secretAccessKey,
		credSessionToken:    opt(k.sessionToken),
		credRegion:          opt(k.region),
	}
}

// awsFiles says where the AWS CLI would look: the profile from AWS_PROFILE
// (or AWS_DEFAULT_PROFILE, or "default") in AWS_SHARED_CREDENTIALS_FILE and
// AWS_CONFIG_FILE, else in ~/.aws under the cli's HOME. The file lists are
// never nil, so the SDK never falls back to the real user's home.
type awsFiles struct {
	profile     string
	explicit    bool // the profile was named in the environment
	credentials []string
	config      []string
}

func (c *cli) awsFiles() awsFiles {
	f := awsFiles{profile: c.getenv("AWS_PROFILE")}
	if f.profile == "" {
		f.profile = c.getenv("AWS_DEFAULT_PROFILE")
	}
	f.explicit = f.profile != ""
	if !f.explicit {
		f.profile = "default"
	}
	home := c.getenv("HOME")
	pick := func(env, name string) []string {
		switch {
		case c.getenv(env) != "":
			return []string{c.getenv(env)}
		case home != "":
			return []string{filepath.Join(home, ".aws", name)}
		}
		return []string{}
	}
	f.credentials = pick("AWS_SHARED_CREDENTIALS_FILE", "credentials")
	f.config = pick("AWS_CONFIG_FILE", "config")
	return f
}

// describe names the profile and its files for people, e.g. "AWS profile
// default (~/.aws/credentials, ~/.aws/config)".
func (c *cli) describe(f awsFiles) string {
	var paths []string
	for _, p := range append(append([]string{}, f.credentials...), f.config...) {
		paths = append(paths, c.tilde(p))
	}
	if len(paths) == 0 {
		return "AWS profile " + f.profile
	}
	return fmt.Sprintf("AWS profile %s (%s)", f.profile, strings.Join(paths, ", "))
}

// tilde shortens a path under HOME to ~/...
func (c *cli) tilde(path string) string {
	home := c.getenv("HOME")
	if rel, err := filepath.Rel(home, path); home != "" && err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return filepath.Join("~", rel)
	}
	return path
}

// loadProfile reads the shared config profile with the SDK's own parser.
// It reads only the files named in f and makes no network call; found is
// false when the profile is in neither file.
func loadProfile(ctx context.Context, f awsFiles) (sc config.SharedConfig, found bool, err error) {
	sc, err = config.LoadSharedConfigProfile(ctx, f.profile, func(o *config.LoadSharedConfigOptions) {
		o.CredentialsFiles, o.ConfigFiles = f.credentials, f.config
	})
	var missing config.SharedConfigProfileNotExistError
	switch {
	case errors.As(err, &missing):
		return sc, false, nil
	case err != nil:
		// The SDK's messages can span lines; errors here are one line.
		return sc, false, fmt.Errorf("reading AWS profile %s: %s", f.profile, strings.Join(strings.Fields(err.Error()), " "))
	}
	return sc, true, nil
}

// envKeys reads the access key pair from the environment: the standard
// names, then the old AWS_ACCESS_KEY/AWS_SECRET_KEY.
func (c *cli) envKeys() (id, secret string, err error) {
	id, secret = c.getenv("AWS_ACCESS_KEY_ID"), c.getenv("AWS_SECRET_ACCESS_KEY")
	if id == "" && secret == "" {
		id, secret = c.getenv("AWS_ACCESS_KEY"), c.getenv("AWS_SECRET_KEY")
	}
	switch {
	case id == "" && secret != "":
		return "", "", errors.New("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not")
	case id != "" && secret == "":
		return "", "", errors.New("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not")
	}
	return id, secret, nil
}

// discoverAWS finds EC2 credentials where the AWS CLI would: the AWS_*
// environment, then the shared credentials and config files. The region
// comes from AWS_REGION or AWS_DEFAULT_REGION, else from the profile. It
// returns found false when there are none. Profiles whose keys AWS has to
// issue (SSO, assumed roles, credential_process) are an error: discovery
// makes no network call and runs nothing.
func (c *cli) discoverAWS(ctx context.Context) (k awsKeys, found bool, err error) {
	id, secret, err := c.envKeys()
	if err != nil {
		return k, false, err
	}
	f := c.awsFiles()
	k.region = cmp.Or(c.getenv("AWS_REGION"), c.getenv("AWS_DEFAULT_REGION"))
	if id != "" {
		k.accessKeyID, k.secretAccessKey, k.sessionToken = id, secret, c.getenv("AWS_SESSION_TOKEN")
		k.source = "the AWS_* environment"
		if k.region == "" {
			sc, _, err := loadProfile(ctx, f)
			if err != nil {
				return k, false, err
			}
			k.region = sc.Region
		}
		return k, true, nil
	}
	return c.profileKeys(ctx, f, k.region)
}

// profileKeys reads the key pair and region of profile f.profile; region,
// when set, wins over the profile's.
func (c *cli) profileKeys(ctx context.Context, f awsFiles, region string) (k awsKeys, found bool, err error) {
	sc, ok, err := loadProfile(ctx, f)
	switch {
	case err != nil:
		return k, false, err
	case !ok && f.explicit:
		return k, false, fmt.Errorf("%s: no such profile", c.describe(f))
	case !ok:
		return k, false, nil
	}
	if err := issuedKeys(f.profile, sc); err != nil {
		return k, false, err
	}
	if !sc.Credentials.HasKeys() {
		return k, false, nil
	}
	k = awsKeys{accessKeyID: sc.Credentials.AccessKeyID, secretAccessKey: sc.Credentials.SecretAccessKey,
		sessionToken: sc.Credentials.SessionToken, region: cmp.Or(region, sc.Region), source: c.describe(f)}
	// The SDK names the file the key came from.
	if file, ok := strings.CutPrefix(sc.Credentials.Source, "SharedConfigCredentials: "); ok {
		k.source = fmt.Sprintf("AWS profile %s (%s)", f.profile, c.tilde(file))
	}
	return k, true, nil
}

// issuedKeys returns an error when the profile's keys come from a call to
// AWS or from a program rather than from the files, in the order the SDK
// tries them.
func issuedKeys(profile string, sc config.SharedConfig) error {
	var how string
	switch {
	case sc.RoleARN != "":
		how = "assumes role " + sc.RoleARN
	case sc.Credentials.HasKeys():
		return nil
	case sc.CredentialSource != "":
		how = "uses credential_source " + sc.CredentialSource
	case sc.WebIdentityTokenFile != "":
		how = "uses a web identity token"
	case sc.SSOSessionName != "" || sc.SSOStartURL != "" || sc.SSOAccountID != "" || sc.SSORoleName != "":
		return fmt.Errorf("AWS profile %[1]s uses SSO: run aws sso login --profile %[1]s and eval \"$(aws configure export-credentials --profile %[1]s --format env)\", then providers:discover again", profile)
	case sc.LoginSession != "":
		how = "uses aws login"
	case sc.CredentialProcess != "":
		how = "uses credential_process"
	default:
		return nil
	}
	return fmt.Errorf("AWS profile %[1]s %[2]s, which providers:discover does not do: run eval \"$(aws configure export-credentials --profile %[1]s --format env)\", then providers:discover again", profile, how)
}

func (c *cli) providersDiscoverCmd() *cobra.Command {
	return command("providers:discover", "create or update the ec2 provider from the AWS_* environment or AWS profile", exactArgs(0),
		func(ctx context.Context, args []string) error {
			k, found, err := c.discoverAWS(ctx)
			if err != nil {
				return err
			}
			if !found {
				fmt.Fprintf(c.stdout, "No provider credentials found in the environment (looked for AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) or in %s\n", c.describe(c.awsFiles()))
				return nil
			}
			ctl, err := c.client()
			if err != nil {
				return err
			}
			p, verb, err := upsertEC2(ctx, ctl, k.creds())
			if err != nil {
				return fmt.Errorf("saving provider ec2: %w", err)
			}
			return c.show(p, func(w io.Writer) { fmt.Fprintf(w, "%s provider ec2 from %s\n", verb, k.source) })
		})
}

// upsertEC2 updates provider ec2 with creds, creating it if absent.
func upsertEC2(ctx context.Context, ctl *client.Client, creds map[string]*string) (deis.Provider, string, error) {
	p, err := ctl.UpdateProvider(ctx, deis.ProviderEC2, deis.ProviderUpdateRequest{Creds: creds})
	if err == nil {
		return p, "Updated", nil
	}
	if !client.IsStatus(err, http.StatusNotFound) {
		return p, "", err
	}
	set := map[string]string{}
	for k, v := range creds {
		if v != nil {
			set[k] = *v
		}
	}
	p, err = ctl.CreateProvider(ctx, deis.ProviderCreateRequest{ID: deis.ProviderEC2, Type: deis.ProviderEC2, Creds: set})
	return p, "Created", err
}
