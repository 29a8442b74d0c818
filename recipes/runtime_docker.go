package recipes

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// create removes the step's old container, if any, then creates the new
// one, copies the slug into /app and starts it. It returns the new ID.
func (r *Runtime) create(ctx context.Context, s containerStep, images map[string]error) (string, error) {
	if err := r.checkImage(ctx, s.spec.Image, images); err != nil {
		return "", err
	}
	if s.oldID != "" {
		if err := r.removeContainer(ctx, s.oldID); err != nil {
			return "", fmt.Errorf("removing the old container: %w", err)
		}
	}
	cfg, hc := containerConfig(s.spec, s.hash, r.Owner)
	cctx, cancel := context.WithTimeout(ctx, dockerTimeout)
	defer cancel()
	cr, err := r.Docker.ContainerCreate(cctx, client.ContainerCreateOptions{Name: s.spec.Name(), Config: cfg, HostConfig: hc})
	if err != nil {
		return "", fmt.Errorf("creating container: %w", err)
	}
	if err := r.copySlug(ctx, cr.ID, s.spec.Slug.SHA256); err != nil {
		_ = r.removeContainer(ctx, cr.ID)
		return "", fmt.Errorf("copying the slug into the container: %w", err)
	}
	sctx, cancel := context.WithTimeout(ctx, dockerTimeout)
	defer cancel()
	if _, err := r.Docker.ContainerStart(sctx, cr.ID, client.ContainerStartOptions{}); err != nil {
		return "", fmt.Errorf("starting container: %w", err)
	}
	r.logger().Info("container started", "container", s.spec.Name(), "id", shortSHA(cr.ID))
	return cr.ID, nil
}

// checkImage fails when the runner image is not on the node; results are
// remembered in seen for the rest of the run.
func (r *Runtime) checkImage(ctx context.Context, image string, seen map[string]error) error {
	if err, ok := seen[image]; ok {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, dockerTimeout)
	defer cancel()
	_, err := r.Docker.ImageInspect(ctx, image)
	if isNotFound(err) {
		err = fmt.Errorf("runner image %s is not on the node", image)
	} else if err != nil {
		err = fmt.Errorf("inspecting runner image %s: %w", image, err)
	}
	seen[image] = err
	return err
}

// copySlug extracts the slug, a gzipped tar the engine unpacks, into /app.
func (r *Runtime) copySlug(ctx context.Context, id, sha string) error {
	f, err := os.Open(SlugPath(r.SlugDir, sha))
	if err != nil {
		return err
	}
	defer f.Close()
	ctx, cancel := context.WithTimeout(ctx, copyTimeout)
	defer cancel()
	_, err = r.Docker.CopyToContainer(ctx, id, client.CopyToContainerOptions{DestinationPath: "/app", Content: f})
	return err
}

// removeResource drains and removes a container the databag does not name.
func (r *Runtime) removeResource(ctx context.Context, c container.Summary) ResourceResult {
	start := time.Now()
	res := ResourceResult{Resource: "container:" + summaryName(c), Result: Changed, Message: "removed"}
	if err := r.removeContainer(ctx, c.ID); err != nil {
		res.Result, res.Message = Failed, oneLine("removing: "+err.Error())
	} else {
		r.logger().Info("container removed", "container", summaryName(c))
	}
	res.Duration = time.Since(start)
	return res
}

// removeContainer stops a container (SIGTERM, then SIGKILL after
// StopTimeout) and removes it. A container already gone is no error.
func (r *Runtime) removeContainer(ctx context.Context, id string) error {
	stop := r.StopTimeout
	if stop <= 0 {
		stop = 5 * time.Second
	}
	secs := int((stop + time.Second - 1) / time.Second)
	ctx, cancel := context.WithTimeout(ctx, dockerTimeout+stop)
	defer cancel()
	_, err := r.Docker.ContainerStop(ctx, id, client.ContainerStopOptions{Timeout: &secs})
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("stopping %s: %w", shortSHA(id), err)
	}
	_, err = r.Docker.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true})
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("removing %s: %w", shortSHA(id), err)
	}
	return nil
}

// awaitHealthy polls until spec's port answers, the container exits, or
// timeout passes.
func (r *Runtime) awaitHealthy(ctx context.Context, id string, spec ContainerSpec, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	addr := r.containerAddr(ctx, id, spec.Port)
	for {
		last := probe(ctx, addr, spec.HealthPath)
		if last == nil {
			return r.keepRunning(ctx, id)
		}
		if err := r.running(ctx, id); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not answering on port %d after %s: %v", spec.Port, timeout, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pollInterval):
		}
	}
}

// awaitRunning is the health check of a process that takes no traffic: it
// must still be running, never restarted, after grace.
func (r *Runtime) awaitRunning(ctx context.Context, id string, grace time.Duration) error {
	deadline := time.Now().Add(grace)
	for {
		if err := r.running(ctx, id); err != nil {
			return fmt.Errorf("%w within %s of starting", err, grace)
		}
		if !time.Now().Before(deadline) {
			return r.keepRunning(ctx, id)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(min(pollInterval*2, time.Until(deadline))):
		}
	}
}

// keepRunning gives a healthy container its restart policy: from now on
// the engine restarts it when it exits.
func (r *Runtime) keepRunning(ctx context.Context, id string) error {
	ctx, cancel := context.WithTimeout(ctx, dockerTimeout)
	defer cancel()
	policy := container.RestartPolicy{Name: container.RestartPolicyUnlessStopped}
	if _, err := r.Docker.ContainerUpdate(ctx, id, client.ContainerUpdateOptions{RestartPolicy: &policy}); err != nil {
		return fmt.Errorf("setting its restart policy: %w", err)
	}
	return nil
}

// running fails when the container is not running or has restarted.
func (r *Runtime) running(ctx context.Context, id string) error {
	ctx, cancel := context.WithTimeout(ctx, dockerTimeout)
	defer cancel()
	res, err := r.Docker.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return fmt.Errorf("inspecting container: %w", err)
	}
	st := res.Container.State
	switch {
	case st == nil:
		return errors.New("container has no state")
	case !st.Running || st.Restarting || res.Container.RestartCount > 0:
		return fmt.Errorf("exited with code %d", st.ExitCode)
	}
	return nil
}

// containerAddr is the container's own address on its network with port:
// probing it bypasses Docker's userland proxy, which accepts on the host
// port even when nothing listens in the container. Without an address it
// falls back to the host port on loopback.
func (r *Runtime) containerAddr(ctx context.Context, id string, port int) string {
	ctx, cancel := context.WithTimeout(ctx, dockerTimeout)
	defer cancel()
	res, err := r.Docker.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err == nil && res.Container.NetworkSettings != nil {
		for _, ep := range res.Container.NetworkSettings.Networks {
			if ep != nil && ep.IPAddress.IsValid() {
				return net.JoinHostPort(ep.IPAddress.String(), strconv.Itoa(port))
			}
		}
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

// probe checks addr once: an HTTP GET of path answering 2xx or 3xx, or
// with no path, the app accepting a TCP connection.
func probe(ctx context.Context, addr, path string) error {
	if path != "" {
		return probeHTTP(ctx, "http://"+addr+path)
	}
	d := net.Dialer{Timeout: time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return conn.Close()
}

var probeClient = &http.Client{
	Timeout:       2 * time.Second,
	Transport:     &http.Transport{DisableKeepAlives: true, Proxy: nil},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func probeHTTP(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := probeClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 399 {
		return fmt.Errorf("GET %s answered %s", req.URL.Path, resp.Status)
	}
	return nil
}

// lastLog is the container's last few distinct log lines, on one line.
func (r *Runtime) lastLog(ctx context.Context, id string) string {
	ctx, cancel := context.WithTimeout(ctx, dockerTimeout)
	defer cancel()
	rc, err := r.Docker.ContainerLogs(ctx, id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Tail: "10"})
	if err != nil {
		return "(logs unavailable: " + err.Error() + ")"
	}
	defer rc.Close()
	var buf bytes.Buffer
	if _, err := stdcopy.StdCopy(&buf, &buf, rc); err != nil {
		return "(logs unavailable: " + err.Error() + ")"
	}
	var lines []string
	for _, l := range strings.Split(buf.String(), "\n") {
		if l = strings.TrimSpace(l); l != "" && (len(lines) == 0 || lines[len(lines)-1] != l) {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return "(none)"
	}
	return strings.Join(lines[max(0, len(lines)-3):], " | ")
}

// isNotFound is an engine's "no such container/image" answer.
func isNotFound(err error) bool { return cerrdefs.IsNotFound(err) }
