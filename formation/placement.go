// Package formation owns the scheduling rules of a formation: where an app's
// containers go on the runtime nodes when an app scales or the node set
// changes. Everything here is a pure function of its inputs.
package formation

import (
	"cmp"
	"slices"
)

// Slot is one container's identity and the node it is placed on.
type Slot struct {
	Type string
	Num  int
	Node string
}

// Place returns the container set that runs want (process type -> count)
// on nodes, starting from current:
//   - containers on nodes that are gone are placed again first;
//   - a new container goes on the node with the fewest containers of its
//     type (ties: the node that sorts first), numbered with its type's
//     lowest free number, so web.1 stays web.1;
//   - scaling down removes from the node with the most containers of that
//     type, the highest number first;
//   - then each type is balanced so max-min <= 1 across nodes.
//
// With no nodes, Place returns nil: nothing can run.
func Place(nodes []string, current []Slot, want map[string]int) []Slot {
	if len(nodes) == 0 {
		return nil
	}
	nodes = slices.Sorted(slices.Values(nodes))
	var out []Slot
	for _, typ := range sortedKeys(want) {
		out = append(out, placeType(nodes, ofType(current, typ), typ, want[typ])...)
	}
	slices.SortFunc(out, compareSlots)
	return out
}

func placeType(nodes []string, cur []Slot, typ string, n int) []Slot {
	live := map[string]bool{}
	for _, node := range nodes {
		live[node] = true
	}
	var kept, orphans []Slot
	for _, s := range cur {
		if live[s.Node] {
			kept = append(kept, s)
		} else {
			orphans = append(orphans, s)
		}
	}
	slices.SortFunc(orphans, compareSlots)
	for _, o := range orphans {
		if len(kept) >= n {
			break
		}
		o.Node = fewest(nodes, kept)
		kept = append(kept, o)
	}
	for len(kept) > n {
		kept = removeFrom(kept, most(nodes, kept))
	}
	for len(kept) < n {
		kept = append(kept, Slot{Type: typ, Num: freeNum(kept), Node: fewest(nodes, kept)})
	}
	return balance(nodes, kept)
}

// balance moves the highest-numbered container of the fullest node to the
// emptiest until the counts differ by at most one.
func balance(nodes []string, slots []Slot) []Slot {
	for {
		hi, lo := most(nodes, slots), fewest(nodes, slots)
		counts := countByNode(slots)
		if counts[hi]-counts[lo] <= 1 {
			return slots
		}
		i := highestOn(slots, hi)
		slots[i].Node = lo
	}
}

func countByNode(slots []Slot) map[string]int {
	m := map[string]int{}
	for _, s := range slots {
		m[s.Node]++
	}
	return m
}

// fewest is the node with the fewest slots; ties go to the first node.
func fewest(nodes []string, slots []Slot) string {
	counts := countByNode(slots)
	best := nodes[0]
	for _, n := range nodes[1:] {
		if counts[n] < counts[best] {
			best = n
		}
	}
	return best
}

// most is the node with the most slots; ties go to the last node, so that
// scaling down undoes scaling up.
func most(nodes []string, slots []Slot) string {
	counts := countByNode(slots)
	best := nodes[0]
	for _, n := range nodes[1:] {
		if counts[n] >= counts[best] {
			best = n
		}
	}
	return best
}

func highestOn(slots []Slot, node string) int {
	idx := -1
	for i, s := range slots {
		if s.Node == node && (idx < 0 || s.Num > slots[idx].Num) {
			idx = i
		}
	}
	return idx
}

func removeFrom(slots []Slot, node string) []Slot {
	return slices.Delete(slots, highestOn(slots, node), highestOn(slots, node)+1)
}

func freeNum(slots []Slot) int {
	used := map[int]bool{}
	for _, s := range slots {
		used[s.Num] = true
	}
	n := 1
	for used[n] {
		n++
	}
	return n
}

func ofType(slots []Slot, typ string) []Slot {
	var out []Slot
	for _, s := range slots {
		if s.Type == typ {
			out = append(out, s)
		}
	}
	return out
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k, v := range m {
		if v > 0 {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

func compareSlots(a, b Slot) int {
	return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.Num, b.Num))
}
