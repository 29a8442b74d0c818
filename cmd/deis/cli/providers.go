package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/deis/deis/client"
	"github.com/spf13/cobra"
)

func (c *cli) providersCommands() []*cobra.Command {
	return []*cobra.Command{
		c.providersListCmd(), c.providersInfoCmd(), c.providersCreateCmd(),
		c.providersDiscoverCmd(), c.providersDeleteCmd(),
	}
}

func (c *cli) providersListCmd() *cobra.Command {
	cmd := command("providers:list", "list your providers", exactArgs(0),
		func(ctx context.Context, args []string) error {
			api, err := c.client()
			if err != nil {
				return err
			}
			ps, err := api.ListProviders(ctx)
			if err != nil {
				return err
			}
			return c.show(ps, func(io.Writer) {
				var rows [][]string
				for _, p := range ps {
					rows = append(rows, []string{p.ID, p.Type, orDash(strings.Join(p.CredKeys, ","))})
				}
				c.table("no providers", []string{"ID", "TYPE", "CREDENTIALS"}, rows)
			})
		})
	cmd.Aliases = []string{"providers"}
	return cmd
}

func (c *cli) providersInfoCmd() *cobra.Command {
	return command("providers:info ID", "show a provider (credential names only)", exactArgs(1),
		func(ctx context.Context, args []string) error {
			api, err := c.client()
			if err != nil {
				return err
			}
			p, err := api.GetProvider(ctx, args[0])
			if err != nil {
				return err
			}
			return c.show(p, func(w io.Writer) { printProvider(w, p) })
		})
}

func printProvider(w io.Writer, p client.Provider) {
	fields(w, "id", p.ID, "type", p.Type, "owner", p.Owner,
		"credentials", orDash(strings.Join(p.CredKeys, ", ")),
		"created", fmtTime(p.Created), "updated", fmtTime(p.Updated))
}

func (c *cli) providersCreateCmd() *cobra.Command {
	var typ string
	var creds []string
	var cmd *cobra.Command
	cmd = command("providers:create ID --type T [--creds K=V ...]", "create a provider (static, docker or ec2)", minArgs(1),
		func(ctx context.Context, args []string) error {
			args, all, err := multiFlag(cmd, "creds", creds, args)
			if err != nil {
				return err
			}
			if len(args) != 1 {
				return usageError{"wrong number of arguments: usage: " + cmd.UseLine()}
			}
			if typ == "" {
				return usageError{"missing --type (static, docker or ec2)"}
			}
			cm, err := parseKVFlags("creds", all)
			if err != nil {
				return err
			}
			api, err := c.client()
			if err != nil {
				return err
			}
			p, err := api.CreateProvider(ctx, client.ProviderCreateRequest{ID: args[0], Type: typ, Creds: cm})
			if err != nil {
				return err
			}
			return c.show(p, func(w io.Writer) { fmt.Fprintf(w, "Created provider %s (%s)\n", p.ID, p.Type) })
		})
	cmd.Flags().StringVar(&typ, "type", "", "provider type: static, docker or ec2")
	cmd.Flags().StringArrayVar(&creds, "creds", nil, "a credential K=V (repeatable)")
	return cmd
}

// awsCreds reads EC2 credentials from the environment (the standard
// names, then the old AWS_ACCESS_KEY/AWS_SECRET_KEY) as the credentials of
// provider ec2, named like the standard variables. Without a session token
// a stored one is removed.
func (c *cli) awsCreds() (map[string]*string, error) {
	id, secret := c.getenv("AWS_ACCESS_KEY_ID"), c.getenv("AWS_SECRET_ACCESS_KEY")
	if id == "" && secret == "" {
		id, secret = c.getenv("AWS_ACCESS_KEY"), c.getenv("AWS_SECRET_KEY")
	}
	switch {
	case id == "" && secret == "":
		return nil, nil
	case id == "":
		return nil, fmt.Errorf("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not")
	case secret == "":
		return nil, fmt.Errorf("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not")
	}
	creds := map[string]*string{"AWS_ACCESS_KEY_ID": &id, "AWS_SECRET_ACCESS_KEY": &secret, "AWS_SESSION_TOKEN": nil}
	if tok := c.getenv("AWS_SESSION_TOKEN"); tok != "" {
		creds["AWS_SESSION_TOKEN"] = &tok
	}
	return creds, nil
}

func (c *cli) providersDiscoverCmd() *cobra.Command {
	return command("providers:discover", "create or update the ec2 provider from AWS_* environment variables", exactArgs(0),
		func(ctx context.Context, args []string) error {
			creds, err := c.awsCreds()
			if err != nil {
				return err
			}
			if creds == nil {
				fmt.Fprintln(c.stdout, "No provider credentials found in the environment (looked for AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
				return nil
			}
			api, err := c.client()
			if err != nil {
				return err
			}
			p, verb, err := upsertEC2(ctx, api, creds)
			if err != nil {
				return fmt.Errorf("saving provider ec2: %w", err)
			}
			return c.show(p, func(w io.Writer) { fmt.Fprintf(w, "%s provider ec2 from the AWS_* environment\n", verb) })
		})
}

// upsertEC2 updates provider ec2 with creds, creating it if absent.
func upsertEC2(ctx context.Context, api *client.Client, creds map[string]*string) (client.Provider, string, error) {
	p, err := api.UpdateProvider(ctx, client.ProviderEC2, client.ProviderUpdateRequest{Creds: creds})
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
	p, err = api.CreateProvider(ctx, client.ProviderCreateRequest{ID: client.ProviderEC2, Type: client.ProviderEC2, Creds: set})
	return p, "Created", err
}

func (c *cli) providersDeleteCmd() *cobra.Command {
	return command("providers:delete ID", "delete a provider", exactArgs(1),
		func(ctx context.Context, args []string) error {
			api, err := c.client()
			if err != nil {
				return err
			}
			if err := api.DeleteProvider(ctx, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "Deleted provider %s\n", args[0])
			return nil
		})
}
