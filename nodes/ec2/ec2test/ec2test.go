// Package ec2test is an in-process fake of the EC2 Query API: it speaks the
// protocol of the calls the ec2 node provider makes (key pairs, security
// groups, images, instances, tags, regions), keeps their state, and records
// every request. It serves the provider's unit tests (through the real
// aws-sdk-go-v2 client) and end-to-end tests, where a controller is pointed
// at Server.URL with AWS_ENDPOINT_URL_EC2. With a Backend, each instance is
// made real (a node container answering SSH), so bootstrap and converge run.
//
// The fake is safe for concurrent use.
package ec2test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DebianOwner is the owner of the images DescribeImages returns (Debian's,
// as ec2.DebianOwner).
const DebianOwner = "136693071363"

// Fault is an error the fake answers with.
type Fault struct {
	Status    int
	Code, Msg string
}

// Instance is an instance as the fake keeps it.
type Instance struct {
	ID, Image, Type, Zone, State, Key, Region string
	Groups                                    []string
	Tags                                      map[string]string
	UserData                                  string // decoded, not base64
	Private, Public                           string
}

// Group is a security group.
type Group struct {
	ID, Name, Vpc string
	Tags          map[string]string
	Rules         []string // "tcp 22-22 from 10.0.0.1/32" or "... from sg-1"
}

// Image is an AMI that DescribeImages knows.
type Image struct{ ID, Name, Created, Root string }

// Backend makes a fake instance real (answering SSH).
//
// Start is called without the server's lock held, in a goroutine after
// RunInstances; the instance stays "pending" until it returns, and its
// address becomes both Private and Public. An error puts the instance in
// "terminated". Stop is called (in a goroutine) on TerminateInstances; the
// instance goes "shutting-down", then "terminated" once Stop returns.
type Backend interface {
	Start(ctx context.Context, in Instance, authorizedKey string) (addr string, err error)
	Stop(ctx context.Context, in Instance) error
}

// How long a backend may take to start (building node images on a fresh
// machine takes minutes) or stop an instance.
const (
	startTimeout = 20 * time.Minute
	stopTimeout  = 2 * time.Minute
)

// instance is an Instance and the fake's bookkeeping of its backend.
type instance struct {
	Instance
	backend Backend            // moves its state; nil: describes do
	cancel  context.CancelFunc // cancels a Start in flight
	up      bool               // Start succeeded and no Stop has begun
	reason  string             // why a backend failed it
}

type request struct {
	form   url.Values
	region string
}

// Server is a fake EC2 endpoint on 127.0.0.1. Its zero value is not usable:
// make one with New.
type Server struct {
	URL string

	srv       *httptest.Server
	ctx       context.Context // cancelled by Close: aborts Starts in flight
	cancel    context.CancelFunc
	wg        sync.WaitGroup // backend goroutines
	closeOnce sync.Once
	salt      string // keeps ids of two servers apart

	mu        sync.Mutex
	requests  []request
	faults    map[string][]Fault
	instances map[string]*instance
	order     []string // instance ids in creation order
	groups    map[string]*Group
	keys      map[string]string // name -> public key material
	images    []Image
	stuck     bool
	backend   Backend
	seq       int
}

// New starts a fake EC2 endpoint. The caller must Close it.
func New() *Server {
	var salt [5]byte
	rand.Read(salt[:])
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{ctx: ctx, cancel: cancel, salt: hex.EncodeToString(salt[:])[:9],
		faults: map[string][]Fault{}, instances: map[string]*instance{},
		groups: map[string]*Group{}, keys: map[string]string{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// Close stops the server, then Stops every instance a backend runs and
// waits for it. Starts in flight are cancelled.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.srv.Close()
		s.cancel()
		s.wg.Wait() // Starts and Stops in flight
		s.mu.Lock()
		for _, id := range s.order {
			if in := s.instances[id]; in.up {
				s.stopLocked(in)
			}
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
}

// startLocked has the backend start in, which stays pending until then.
// Callers hold s.mu.
func (s *Server) startLocked(in *instance, b Backend) {
	ctx, cancel := context.WithTimeout(s.ctx, startTimeout)
	in.backend, in.cancel = b, cancel
	c := in.copy()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer cancel()
		addr, err := b.Start(ctx, c, AuthorizedKey(c.UserData))
		s.mu.Lock()
		defer s.mu.Unlock()
		in.cancel = nil
		if err != nil {
			in.State, in.reason = "terminated", "starting: "+err.Error()
			return
		}
		in.Private, in.Public, in.up = addr, addr, true
		if in.State == "pending" {
			in.State = "running"
			return
		}
		s.stopLocked(in) // terminated while starting
	}()
}

// stopLocked has the backend stop in, which is shutting down until then.
// Callers hold s.mu.
func (s *Server) stopLocked(in *instance) {
	in.State, in.up = "shutting-down", false
	b, c := in.backend, in.copy()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
		defer cancel()
		err := b.Stop(ctx, c)
		s.mu.Lock()
		defer s.mu.Unlock()
		in.State = "terminated"
		if err != nil {
			in.reason = "stopping: " + err.Error()
		}
	}()
}

// SetBackend makes the instances run from now on real, through b.
func (s *Server) SetBackend(b Backend) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.backend = b
}

// Fail queues faults for action: each answers one request of action, in
// order, before the fake answers normally again.
func (s *Server) Fail(action string, faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[action] = append(s.faults[action], faults...)
}

// AddImage makes im known to DescribeImages.
func (s *Server) AddImage(im Image) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.images = append(s.images, im)
}

// SetStuck makes instances stay pending: none becomes running and no
// backend starts one.
func (s *Server) SetStuck(stuck bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stuck = stuck
}

// Calls returns the form of each request of action, in order.
func (s *Server) Calls(action string) []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []url.Values
	for _, r := range s.requests {
		if r.form.Get("Action") == action {
			out = append(out, cloneForm(r.form))
		}
	}
	return out
}

// Regions returns the region each request of action was signed for, in
// order ("" for an unsigned request).
func (s *Server) Regions(action string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, r := range s.requests {
		if r.form.Get("Action") == action {
			out = append(out, r.region)
		}
	}
	return out
}

// Live returns the ids of the instances neither shutting down nor
// terminated, in creation order.
func (s *Server) Live() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for _, id := range s.order {
		if !gone(s.instances[id].State) {
			ids = append(ids, id)
		}
	}
	return ids
}

// Instances returns copies of every instance, in creation order.
func (s *Server) Instances() []Instance {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Instance, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, s.instances[id].copy())
	}
	return out
}

// Instance returns a copy of instance id.
func (s *Server) Instance(id string) (Instance, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.instances[id]
	if !ok {
		return Instance{}, false
	}
	return in.copy(), true
}

// Groups returns copies of the security groups, sorted by id.
func (s *Server) Groups() []Group {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Group, 0, len(s.groups))
	for _, id := range sortedKeys(s.groups) {
		g := *s.groups[id]
		g.Tags, g.Rules = maps.Clone(g.Tags), slices.Clone(g.Rules)
		out = append(out, g)
	}
	return out
}

// KeyPairs returns the key pairs: name -> public key material.
func (s *Server) KeyPairs() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.keys)
}

// AddInstance plants an instance, e.g. one the controller's store does not
// know. An empty ID or address is made up; State defaults to running. No
// backend runs it.
func (s *Server) AddInstance(in Instance) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if in.ID == "" {
		in.ID = s.id("i")
	}
	if in.State == "" {
		in.State = "running"
	}
	n := len(s.instances) + 10
	if in.Private == "" {
		in.Private = fmt.Sprintf("10.0.0.%d", n)
	}
	if in.Public == "" {
		in.Public = fmt.Sprintf("203.0.113.%d", n)
	}
	in.Tags, in.Groups = maps.Clone(in.Tags), slices.Clone(in.Groups)
	if _, dup := s.instances[in.ID]; !dup {
		s.order = append(s.order, in.ID)
	}
	s.instances[in.ID] = &instance{Instance: in}
}

func (in *instance) copy() Instance {
	c := in.Instance
	c.Tags, c.Groups = maps.Clone(c.Tags), slices.Clone(c.Groups)
	return c
}

// id returns a new resource id, unique across servers like EC2's
// (i-0123456789abcdef0). Callers hold s.mu.
func (s *Server) id(prefix string) string {
	s.seq++
	return fmt.Sprintf("%s-%s%08x", prefix, s.salt, s.seq)
}

func gone(state string) bool { return state == "terminated" || state == "shutting-down" }

// Tags reads the tags of a request's first tag specification
// (TagSpecification.1.Tag.N.Key/Value).
func Tags(form url.Values) map[string]string {
	return pairs(form, "TagSpecification.1.Tag")
}

// pairs reads Prefix.N.Key / Prefix.N.Value.
func pairs(form url.Values, prefix string) map[string]string {
	m := map[string]string{}
	for i := 1; form.Has(fmt.Sprintf("%s.%d.Key", prefix, i)); i++ {
		m[form.Get(fmt.Sprintf("%s.%d.Key", prefix, i))] = form.Get(fmt.Sprintf("%s.%d.Value", prefix, i))
	}
	return m
}

// List reads a flattened list: Prefix.1, Prefix.2, ...
func List(form url.Values, prefix string) []string {
	var out []string
	for i := 1; form.Has(fmt.Sprintf("%s.%d", prefix, i)); i++ {
		out = append(out, form.Get(fmt.Sprintf("%s.%d", prefix, i)))
	}
	return out
}

// AuthorizedKey returns the first key under ssh_authorized_keys of a
// cloud-config document (the provider writes it quoted), or "".
func AuthorizedKey(userData string) string {
	in := false
	for _, line := range strings.Split(userData, "\n") {
		t := strings.TrimSpace(line)
		switch {
		case t == "ssh_authorized_keys:":
			in = true
		case in && strings.HasPrefix(t, "- "):
			k := strings.TrimSpace(strings.TrimPrefix(t, "- "))
			if u, err := strconv.Unquote(k); err == nil {
				k = u
			}
			return k
		case in && t != "":
			return ""
		}
	}
	return ""
}

// region reads the region of a SigV4 Authorization header's credential
// scope: Credential=AKID/DATE/REGION/SERVICE/aws4_request.
func region(auth string) string {
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return ""
	}
	cred, _, _ = strings.Cut(cred, ",")
	parts := strings.Split(strings.TrimSpace(cred), "/")
	if len(parts) != 5 {
		return ""
	}
	return parts[2]
}

func cloneForm(f url.Values) url.Values {
	c := make(url.Values, len(f))
	for k, v := range f {
		c[k] = slices.Clone(v)
	}
	return c
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
