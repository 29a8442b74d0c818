package nodes

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

// Labels on everything the docker provider makes.
const (
	LabelManaged   = "deis.managed"
	LabelFormation = "deis.formation"
	LabelLayer     = "deis.layer"
	LabelNode      = "deis.node"
	// LabelController names the controller that made a container: a
	// controller reconciles only its own, so several (tests, or one per
	// user) can share an engine.
	LabelController = "deis.controller"
)

// nodeCaps is every capability but SYS_RESOURCE: --privileged fails on
// machines whose bounding set lacks it, and this is what works there.
var nodeCaps = strings.Fields(`CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP
	LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO
	SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE
	AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ`)

// dockerAPI is the part of the Docker engine API the provider uses.
type dockerAPI interface {
	imageAPI
	ContainerCreate(ctx context.Context, opts client.ContainerCreateOptions) (client.ContainerCreateResult, error)
	ContainerStart(ctx context.Context, id string, opts client.ContainerStartOptions) (client.ContainerStartResult, error)
	ContainerRemove(ctx context.Context, id string, opts client.ContainerRemoveOptions) (client.ContainerRemoveResult, error)
	ContainerInspect(ctx context.Context, id string, opts client.ContainerInspectOptions) (client.ContainerInspectResult, error)
	ContainerList(ctx context.Context, opts client.ContainerListOptions) (client.ContainerListResult, error)
	CopyToContainer(ctx context.Context, id string, opts client.CopyToContainerOptions) (client.CopyToContainerResult, error)
	NetworkCreate(ctx context.Context, name string, opts client.NetworkCreateOptions) (client.NetworkCreateResult, error)
	NetworkList(ctx context.Context, opts client.NetworkListOptions) (client.NetworkListResult, error)
	NetworkRemove(ctx context.Context, id string, opts client.NetworkRemoveOptions) (client.NetworkRemoveResult, error)
}

// Docker makes nodes as containers on the local Docker engine that behave
// like small VMs: their own sshd, dockerd and nginx. Each
// formation's nodes share a bridge network of their own: proxies reach the
// formation's runtime nodes there, and other formations' nodes cannot.
type Docker struct {
	API    dockerAPI
	Images *Images
	Log    *slog.Logger
	// Controller is the id of the controller this provider works for; it
	// labels what it makes and lists only that.
	Controller string

	netMu sync.Mutex // one network creation or removal at a time
}

// NewDocker returns the docker provider on engine api for controller. A nil
// log discards.
func NewDocker(api dockerAPI, controller, caBundle string, log *slog.Logger) *Docker {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Docker{API: api, Images: &Images{Docker: api, Log: log, CABundle: caBundle}, Log: log, Controller: controller}
}

// containerName is a node container's name: the controller's id keeps the
// names of two controllers' same-named formations apart on one engine.
func (d *Docker) containerName(node string) string {
	id := d.Controller
	if len(id) > 8 {
		id = id[:8]
	}
	return "deis-" + id + "-" + node
}

// Create starts a node container for s. Params: image=full (default) or
// bare (sshd only, for the bootstrap recipe to fill).
func (d *Docker) Create(ctx context.Context, s Spec) (Machine, error) {
	kind := s.Params["image"]
	if kind == "" {
		kind = NodeFull
	}
	img, err := d.Images.EnsureNode(ctx, kind)
	if err != nil {
		return Machine{}, fmt.Errorf("node image: %w", err)
	}
	netID, err := d.formationNetwork(ctx, s.Formation)
	if err != nil {
		return Machine{}, err
	}
	hc := &container.HostConfig{
		CapAdd:      nodeCaps,
		SecurityOpt: []string{"seccomp=unconfined", "apparmor=unconfined"},
		// systempaths=unconfined, as the docker CLI sends it: no masked or
		// read-only /proc and /sys paths.
		MaskedPaths:   []string{},
		ReadonlyPaths: []string{},
		CgroupnsMode:  container.CgroupnsModeHost,
		Tmpfs:         map[string]string{"/var/lib/docker": "exec"},
		Resources:     container.Resources{DeviceCgroupRules: []string{"a *:* rwm"}},
		NetworkMode:   container.NetworkMode(netID),
	}
	if dir := d.Images.ArchiveDir; dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return Machine{}, fmt.Errorf("image archive dir: %w", err)
		}
		hc.Binds = []string{dir + ":" + NodeArchiveDir + ":ro"}
	}
	cfg := &container.Config{
		Image:    img,
		Hostname: s.Node,
		Labels: map[string]string{
			LabelManaged: "1", LabelFormation: s.Formation, LabelLayer: s.Layer, LabelNode: s.Node,
			LabelController: d.Controller,
		},
	}
	if s.Proxy {
		http := network.MustParsePort("80/tcp")
		cfg.ExposedPorts = network.PortSet{http: {}}
		hc.PortBindings = network.PortMap{http: {{HostIP: netip.MustParseAddr("127.0.0.1")}}}
	}
	cr, err := d.API.ContainerCreate(ctx, client.ContainerCreateOptions{Name: d.containerName(s.Node), Config: cfg, HostConfig: hc})
	if err != nil {
		return Machine{}, fmt.Errorf("creating container for node %s: %w", s.Node, err)
	}
	m, err := d.start(ctx, cr.ID, s)
	if err != nil {
		d.remove(cr.ID)
		return Machine{}, err
	}
	return m, nil
}

func (d *Docker) start(ctx context.Context, id string, s Spec) (Machine, error) {
	keys, err := authorizedKeysTar(s.PublicKey)
	if err != nil {
		return Machine{}, err
	}
	if _, err := d.API.CopyToContainer(ctx, id, client.CopyToContainerOptions{DestinationPath: "/root", Content: keys}); err != nil {
		return Machine{}, fmt.Errorf("authorizing the layer key on node %s: %w", s.Node, err)
	}
	if _, err := d.API.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		return Machine{}, fmt.Errorf("starting node %s: %w", s.Node, err)
	}
	return d.inspect(ctx, id)
}

// remove force-removes a container, on a context of its own so that it
// runs even when the caller's was cancelled.
func (d *Docker) remove(id string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := d.API.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	return err
}

func (d *Docker) inspect(ctx context.Context, id string) (Machine, error) {
	res, err := d.API.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return Machine{}, fmt.Errorf("inspecting node container %s: %w", shortID(id), err)
	}
	c := res.Container
	m := Machine{
		ProviderID: c.ID, SSHPort: 22, SSHUser: "root",
		Node: c.Config.Labels[LabelNode], Formation: c.Config.Labels[LabelFormation], Layer: c.Config.Labels[LabelLayer],
		Running: c.State != nil && c.State.Running,
	}
	if c.NetworkSettings != nil {
		// A node container is on one network: its formation's.
		for _, ep := range c.NetworkSettings.Networks {
			if ep != nil && ep.IPAddress.IsValid() {
				m.Address = ep.IPAddress.String()
			}
		}
		for _, b := range c.NetworkSettings.Ports[network.MustParsePort("80/tcp")] {
			if b.HostPort != "" {
				m.Public = net.JoinHostPort("127.0.0.1", b.HostPort)
			}
		}
	}
	if m.Running && m.Address == "" {
		return m, fmt.Errorf("node container %s has no network address", shortID(id))
	}
	return m, nil
}

// Destroy removes the node container. A container already gone is not an
// error.
func (d *Docker) Destroy(ctx context.Context, providerID string) error {
	err := d.remove(providerID)
	if err != nil && !strings.Contains(strings.ToLower(err.Error()), "no such container") {
		return fmt.Errorf("removing node container %s: %w", shortID(providerID), err)
	}
	return nil
}

// List returns every node container this controller made.
func (d *Docker) List(ctx context.Context) ([]Machine, error) {
	res, err := d.API.ContainerList(ctx, client.ContainerListOptions{All: true,
		Filters: client.Filters{}.Add("label", LabelManaged+"=1", LabelController+"="+d.Controller)})
	if err != nil {
		return nil, fmt.Errorf("listing node containers: %w", err)
	}
	var out []Machine
	for _, c := range res.Items {
		m, err := d.inspect(ctx, c.ID)
		if err != nil {
			m = Machine{ProviderID: c.ID, Node: c.Labels[LabelNode], Formation: c.Labels[LabelFormation], Layer: c.Labels[LabelLayer]}
		}
		out = append(out, m)
	}
	return out, nil
}

// authorizedKeysTar is a tar of .ssh/authorized_keys (0600 in a 0700 dir),
// to copy into /root.
func authorizedKeysTar(pub string) (io.Reader, error) {
	if strings.TrimSpace(pub) == "" {
		return nil, errors.New("the layer has no public key")
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: ".ssh/", Typeflag: tar.TypeDir, Mode: 0o700})
	body := []byte(strings.TrimSpace(pub) + "\n")
	tw.WriteHeader(&tar.Header{Name: ".ssh/authorized_keys", Mode: 0o600, Size: int64(len(body))})
	tw.Write(body)
	return &buf, tw.Close()
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

var _ Provider = (*Docker)(nil)
