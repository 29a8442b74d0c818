package formation

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPlace(t *testing.T) {
	t.Parallel()
	two := []string{"f-runtime-1", "f-runtime-2"}
	tests := []struct {
		name    string
		nodes   []string
		current []Slot
		want    map[string]int
		result  []Slot
	}{
		{"no nodes", nil, nil, map[string]int{"web": 1}, nil},
		{"first web", two, nil, map[string]int{"web": 1},
			[]Slot{{"web", 1, "f-runtime-1"}}},
		{"spread four over two", two, []Slot{{"web", 1, "f-runtime-1"}}, map[string]int{"web": 4},
			[]Slot{{"web", 1, "f-runtime-1"}, {"web", 2, "f-runtime-2"}, {"web", 3, "f-runtime-1"}, {"web", 4, "f-runtime-2"}}},
		{"scale down keeps lowest numbers", two,
			[]Slot{{"web", 1, "f-runtime-1"}, {"web", 2, "f-runtime-2"}, {"web", 3, "f-runtime-1"}, {"web", 4, "f-runtime-2"}},
			map[string]int{"web": 1},
			[]Slot{{"web", 1, "f-runtime-1"}}},
		{"types are numbered and spread apart", two, nil, map[string]int{"web": 2, "worker": 1},
			[]Slot{{"web", 1, "f-runtime-1"}, {"web", 2, "f-runtime-2"}, {"worker", 1, "f-runtime-1"}}},
		{"zero removes the type", two, []Slot{{"worker", 1, "f-runtime-1"}}, map[string]int{"worker": 0}, nil},
		{"lost node: containers move, keep names", []string{"f-runtime-2"},
			[]Slot{{"web", 1, "f-runtime-1"}, {"web", 2, "f-runtime-2"}}, map[string]int{"web": 2},
			[]Slot{{"web", 1, "f-runtime-2"}, {"web", 2, "f-runtime-2"}}},
		{"new node: rebalance", []string{"a", "b", "c"},
			[]Slot{{"web", 1, "a"}, {"web", 2, "b"}, {"web", 3, "a"}, {"web", 4, "b"}, {"web", 5, "a"}, {"web", 6, "b"}},
			map[string]int{"web": 6},
			[]Slot{{"web", 1, "a"}, {"web", 2, "b"}, {"web", 3, "a"}, {"web", 4, "b"}, {"web", 5, "c"}, {"web", 6, "c"}}},
		{"fills a gap in numbers", two, []Slot{{"web", 2, "f-runtime-2"}}, map[string]int{"web": 2},
			[]Slot{{"web", 1, "f-runtime-1"}, {"web", 2, "f-runtime-2"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Place(tt.nodes, tt.current, tt.want)
			if d := cmp.Diff(tt.result, got); d != "" {
				t.Errorf("Place() mismatch (-want +got):\n%s", d)
			}
		})
	}
}

// TestPlaceBalanced checks the invariant over many shapes: the right count
// per type, unique names, and max-min <= 1 per type across nodes.
func TestPlaceBalanced(t *testing.T) {
	t.Parallel()
	nodes := []string{"n1", "n2", "n3"}
	var cur []Slot
	for _, want := range []map[string]int{{"web": 5}, {"web": 7, "worker": 2}, {"web": 2}, {"web": 9, "worker": 4}} {
		for _, ns := range [][]string{nodes, nodes[:2], nodes} {
			cur = Place(ns, cur, want)
			for typ, n := range want {
				slots := ofType(cur, typ)
				if len(slots) != n {
					t.Fatalf("%s: %d containers, want %d", typ, len(slots), n)
				}
				counts := map[string]int{}
				seen := map[int]bool{}
				for _, s := range slots {
					counts[s.Node]++
					if seen[s.Num] {
						t.Fatalf("%s.%d placed twice", typ, s.Num)
					}
					seen[s.Num] = true
				}
				lo, hi := n, 0
				for _, node := range ns {
					lo, hi = min(lo, counts[node]), max(hi, counts[node])
				}
				if hi-lo > 1 {
					t.Fatalf("%s on %v: counts %v are not balanced", typ, ns, counts)
				}
			}
		}
	}
}
