package ec2

import (
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
)

const ns = "http://ec2.amazonaws.com/doc/2016-11-15/"

// fault is an error the fake returns once for an action.
type fault struct {
	Status    int
	Code, Msg string
}

type fakeInstance struct {
	ID, Image, Type, Zone, State, Key string
	Groups                            []string
	Tags                              map[string]string
	UserData                          string
	Private, Public                   string
}

type fakeGroup struct {
	ID, Name, Vpc string
	Tags          map[string]string
	Rules         []string // "tcp 22-22 from 10.0.0.1/32" or "... from sg-1"
}

// fakeEC2 speaks the EC2 Query protocol for the calls the provider makes,
// keeps state, and records every request.
type fakeEC2 struct {
	*httptest.Server
	mu        sync.Mutex
	Requests  []url.Values
	Faults    map[string][]fault
	Instances map[string]*fakeInstance
	Order     []string
	Groups    map[string]*fakeGroup
	Keys      map[string]string // name -> public key
	Images    []fakeImage
	Stuck     bool // instances stay pending
	NoAuth    bool // every request lacking SigV4 is refused
	seq       int
}

type fakeImage struct{ ID, Name, Created, Root string }

func newFake(t *testing.T) *fakeEC2 {
	f := &fakeEC2{Faults: map[string][]fault{}, Instances: map[string]*fakeInstance{},
		Groups: map[string]*fakeGroup{}, Keys: map[string]string{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeEC2) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	form := r.PostForm
	f.Requests = append(f.Requests, form)
	act := form.Get("Action")
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256") {
		f.fail(w, fault{401, "AuthFailure", "no signature"})
		return
	}
	if q := f.Faults[act]; len(q) > 0 {
		f.Faults[act] = q[1:]
		f.fail(w, q[0])
		return
	}
	h, ok := handlers[act]
	if !ok {
		f.fail(w, fault{400, "InvalidAction", "the fake does not speak " + act})
		return
	}
	body, flt := h(f, form)
	if flt != nil {
		f.fail(w, *flt)
		return
	}
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><%sResponse xmlns="%s"><requestId>req-%d</requestId>%s</%sResponse>`,
		act, ns, len(f.Requests), body, act)
}

func (f *fakeEC2) fail(w http.ResponseWriter, e fault) {
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(e.Status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>req-%d</RequestID></Response>`,
		e.Code, esc(e.Msg), len(f.Requests))
}

func (f *fakeEC2) id(prefix string) string { f.seq++; return fmt.Sprintf("%s-%08x", prefix, f.seq) }

// calls returns the recorded requests of action.
func (f *fakeEC2) calls(action string) []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []url.Values
	for _, r := range f.Requests {
		if r.Get("Action") == action {
			out = append(out, r)
		}
	}
	return out
}

// live returns the ids of instances not terminated.
func (f *fakeEC2) live() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for _, id := range f.Order {
		if s := f.Instances[id].State; s != "terminated" && s != "shutting-down" {
			ids = append(ids, id)
		}
	}
	return ids
}

func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// list reads a flattened list "Prefix.1", "Prefix.2", ...
func list(form url.Values, prefix string) []string {
	var out []string
	for i := 1; form.Has(fmt.Sprintf("%s.%d", prefix, i)); i++ {
		out = append(out, form.Get(fmt.Sprintf("%s.%d", prefix, i)))
	}
	return out
}

// filters reads Filter.N.Name / Filter.N.Value.M.
func filters(form url.Values) map[string][]string {
	m := map[string][]string{}
	for i := 1; form.Has(fmt.Sprintf("Filter.%d.Name", i)); i++ {
		m[form.Get(fmt.Sprintf("Filter.%d.Name", i))] = list(form, fmt.Sprintf("Filter.%d.Value", i))
	}
	return m
}

// tags reads TagSpecification.1.Tag.N.
func tags(form url.Values) map[string]string {
	m := map[string]string{}
	for i := 1; form.Has(fmt.Sprintf("TagSpecification.1.Tag.%d.Key", i)); i++ {
		m[form.Get(fmt.Sprintf("TagSpecification.1.Tag.%d.Key", i))] = form.Get(fmt.Sprintf("TagSpecification.1.Tag.%d.Value", i))
	}
	return m
}

// match reports whether a resource with name, state and tags passes fs.
func match(fs map[string][]string, fields map[string]string, tg map[string]string) bool {
	for k, vs := range fs {
		v, ok := fields[k]
		if t, isTag := strings.CutPrefix(k, "tag:"); isTag {
			v, ok = tg[t]
		}
		if !ok || !slices.ContainsFunc(vs, func(p string) bool {
			return p == v || strings.HasSuffix(p, "*") && strings.HasPrefix(v, strings.TrimSuffix(p, "*"))
		}) {
			return false
		}
	}
	return true
}

func tagSet(tg map[string]string) string {
	keys := make([]string, 0, len(tg))
	for k := range tg {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString("<tagSet>")
	for _, k := range keys {
		fmt.Fprintf(&b, "<item><key>%s</key><value>%s</value></item>", esc(k), esc(tg[k]))
	}
	b.WriteString("</tagSet>")
	return b.String()
}

func decodeUserData(t *testing.T, form url.Values) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(form.Get("UserData"))
	if err != nil {
		t.Fatalf("user data is not base64: %v", err)
	}
	return string(b)
}
