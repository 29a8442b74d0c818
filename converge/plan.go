package converge

import (
	"cmp"
	"slices"

	"github.com/deis/deis"
	"github.com/deis/deis/formation"
)

// FirstPort is the lowest host port app containers get on a node.
const FirstPort = 10001

// Plan is an app's move to a release: which containers stay as they are,
// which start, and which retire once the new ones are healthy.
type Plan struct {
	Keep   []deis.Container
	Start  []deis.Container
	Retire []deis.Container
}

// Next is the app's container set once the plan is done.
func (p Plan) Next() []deis.Container {
	out := append(slices.Clone(p.Keep), p.Start...)
	for i := range out {
		out[i].State = deis.ContainerUp
	}
	sortContainers(out)
	return out
}

// Changes reports whether the plan starts or retires anything.
func (p Plan) Changes() bool { return len(p.Start) > 0 || len(p.Retire) > 0 }

// PlanRollout plans moving an app whose running containers are cur to
// release on the runtime nodes, with structure's process counts. A
// container of the same release, type, number and node stays; everything
// else starts anew on a free port of its node (ports are unique per node
// across the formation's apps: all holds every container of the formation).
func PlanRollout(nodes []string, all, cur []deis.Container, structure map[string]int, release int) Plan {
	var slots []formation.Slot
	for _, c := range cur {
		slots = append(slots, formation.Slot{Type: c.Type, Num: c.Num, Node: c.Node})
	}
	placed := formation.Place(nodes, slots, structure)
	used := map[string]map[int]bool{}
	for _, c := range all {
		use(used, c.Node, c.Port)
	}
	var p Plan
	kept := map[int]bool{}
	for _, s := range placed {
		i := slices.IndexFunc(cur, func(c deis.Container) bool {
			return c.Type == s.Type && c.Num == s.Num && c.Node == s.Node && c.Release == release
		})
		if i >= 0 {
			kept[i] = true
			p.Keep = append(p.Keep, cur[i])
			continue
		}
		port := freePort(used, s.Node)
		use(used, s.Node, port)
		p.Start = append(p.Start, deis.Container{
			Type: s.Type, Num: s.Num, Node: s.Node, Release: release, Port: port, State: deis.ContainerStarting,
		})
	}
	for i, c := range cur {
		if !kept[i] {
			p.Retire = append(p.Retire, c)
		}
	}
	sortContainers(p.Keep)
	sortContainers(p.Start)
	sortContainers(p.Retire)
	return p
}

func use(used map[string]map[int]bool, node string, port int) {
	if used[node] == nil {
		used[node] = map[int]bool{}
	}
	used[node][port] = true
}

func freePort(used map[string]map[int]bool, node string) int {
	p := FirstPort
	for used[node][p] {
		p++
	}
	return p
}

func sortContainers(cs []deis.Container) {
	slices.SortFunc(cs, func(a, b deis.Container) int {
		return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.Num, b.Num), cmp.Compare(a.Release, b.Release), cmp.Compare(a.Node, b.Node))
	})
}

// withState returns cs with every state set to state.
func withState(cs []deis.Container, state deis.ContainerState) []deis.Container {
	out := slices.Clone(cs)
	for i := range out {
		out[i].State = state
	}
	return out
}
