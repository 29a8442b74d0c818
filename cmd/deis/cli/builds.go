package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/deis/deis"
	"github.com/deis/deis/client"
	"github.com/spf13/cobra"
)

func (c *cli) buildsCommands() []*cobra.Command {
	return []*cobra.Command{c.buildsListCmd(), c.buildsCreateCmd(), c.buildsInfoCmd()}
}

func (c *cli) buildsListCmd() *cobra.Command {
	cmd := command("builds:list", "list the app's builds", exactArgs(0),
		func(ctx context.Context, args []string) error {
			name, err := c.appName(ctx)
			if err != nil {
				return err
			}
			ctl, err := c.client()
			if err != nil {
				return err
			}
			bs, err := ctl.ListBuilds(ctx, name)
			if err != nil {
				return err
			}
			return c.show(bs, func(io.Writer) {
				var rows [][]string
				for _, b := range bs {
					rows = append(rows, []string{b.UUID, orDash(short(b.SHA, 12)), fmtTime(b.Created), orDash(b.Buildpack)})
				}
				c.table("no builds: git push deis main", []string{"UUID", "SHA", "CREATED", "BUILDPACK"}, rows)
			})
		})
	cmd.Aliases = []string{"builds"}
	return cmd
}

// short cuts s to n bytes.
func short(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func (c *cli) buildsInfoCmd() *cobra.Command {
	return command("builds:info UUID", "show a build", exactArgs(1),
		func(ctx context.Context, args []string) error {
			name, err := c.appName(ctx)
			if err != nil {
				return err
			}
			ctl, err := c.client()
			if err != nil {
				return err
			}
			b, err := ctl.GetBuild(ctx, name, args[0])
			if err != nil {
				return err
			}
			return c.show(b, func(w io.Writer) {
				fields(w, "app", b.App, "uuid", b.UUID, "owner", b.Owner, "sha", b.SHA,
					"slug", b.SlugURL, "slug size", strconv.FormatInt(b.SlugSize, 10),
					"slug sha256", b.SlugSHA256, "buildpack", b.Buildpack, "created", fmtTime(b.Created))
				for _, t := range sortedKeys(b.Procfile) {
					fmt.Fprintf(w, "process %s: %s\n", t, b.Procfile[t])
				}
			})
		})
}

func (c *cli) buildsCreateCmd() *cobra.Command {
	var slug, sha string
	var f jobFlags
	cmd := command("builds:create [FILE|-]", "register a slug: upload one with --slug, or give a JSON BuildCreateRequest", rangeArgs(0, 1),
		func(ctx context.Context, args []string) error {
			name, err := c.appName(ctx)
			if err != nil {
				return err
			}
			ctl, err := c.client()
			if err != nil {
				return err
			}
			var req deis.BuildCreateRequest
			switch {
			case slug != "" && len(args) == 0:
				if req, err = c.uploadSlug(ctx, ctl, name, slug); err != nil {
					return err
				}
				req.SHA = sha
			case slug == "" && len(args) == 1:
				if req, err = c.readBuild(args[0]); err != nil {
					return err
				}
			default:
				return usageError{"give either --slug PATH or a build JSON FILE (or - for stdin)"}
			}
			job, err := ctl.CreateBuild(ctx, name, req)
			if err != nil {
				return err
			}
			return c.followRelease(ctx, ctl, name, job, f.noWait)
		})
	f.add(cmd, false)
	cmd.Flags().StringVar(&slug, "slug", "", "upload this slug (a tar.gz of /app with a Procfile) to the controller")
	cmd.Flags().StringVar(&sha, "sha", "", "the git commit the slug was built from")
	return cmd
}

// uploadSlug uploads a slug file and returns the build request for it.
func (c *cli) uploadSlug(ctx context.Context, ctl *client.Client, app, path string) (deis.BuildCreateRequest, error) {
	f, err := os.Open(path)
	if err != nil {
		return deis.BuildCreateRequest{}, err
	}
	defer f.Close()
	fmt.Fprintf(c.stderr, "-----> Uploading slug %s\n", path)
	s, err := ctl.UploadSlug(ctx, app, f)
	if err != nil {
		return deis.BuildCreateRequest{}, err
	}
	if len(s.Procfile) == 0 {
		return deis.BuildCreateRequest{}, fmt.Errorf("the slug %s has no Procfile at its root", path)
	}
	return deis.BuildCreateRequest{SlugURL: s.URL, SlugSHA256: s.SHA256, SlugSize: s.Size, Procfile: s.Procfile}, nil
}

// readBuild reads a BuildCreateRequest from a file, or stdin for "-",
// refusing unknown fields.
func (c *cli) readBuild(path string) (deis.BuildCreateRequest, error) {
	var req deis.BuildCreateRequest
	var r io.Reader = c.stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return req, err
		}
		defer f.Close()
		r = f
	}
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, fmt.Errorf("reading the build from %s: %w", path, err)
	}
	return req, nil
}
