package converge

import (
	"testing"

	"github.com/deis/deis"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func ctr(typ string, num, rel int, node string, port int, state deis.ContainerState) deis.Container {
	return deis.Container{Type: typ, Num: num, Release: rel, Node: node, Port: port, State: state}
}

func TestPlanRollout(t *testing.T) {
	t.Parallel()
	nodes := []string{"f-runtime-1", "f-runtime-2"}
	up3 := []deis.Container{ctr("web", 1, 3, "f-runtime-1", 10001, deis.ContainerUp), ctr("web", 2, 3, "f-runtime-2", 10001, deis.ContainerUp)}
	tests := []struct {
		name      string
		all, cur  []deis.Container
		structure map[string]int
		release   int
		want      Plan
	}{
		{"first deploy", nil, nil, map[string]int{"web": 1}, 2, Plan{
			Start: []deis.Container{ctr("web", 1, 2, "f-runtime-1", 10001, deis.ContainerStarting)}}},
		{"new release starts beside the old on new ports", up3, up3, map[string]int{"web": 2}, 4, Plan{
			Start:  []deis.Container{ctr("web", 1, 4, "f-runtime-1", 10002, deis.ContainerStarting), ctr("web", 2, 4, "f-runtime-2", 10002, deis.ContainerStarting)},
			Retire: up3}},
		{"scale up keeps what runs", up3, up3, map[string]int{"web": 4}, 3, Plan{
			Keep:  up3,
			Start: []deis.Container{ctr("web", 3, 3, "f-runtime-1", 10002, deis.ContainerStarting), ctr("web", 4, 3, "f-runtime-2", 10002, deis.ContainerStarting)}}},
		{"scale down retires the highest", up3, up3, map[string]int{"web": 1}, 3, Plan{
			Keep: up3[:1], Retire: up3[1:]}},
		{"ports are unique per node across apps",
			[]deis.Container{{App: "other", Type: "web", Num: 1, Node: "f-runtime-1", Port: 10001}}, nil, map[string]int{"web": 1}, 2,
			Plan{Start: []deis.Container{ctr("web", 1, 2, "f-runtime-1", 10002, deis.ContainerStarting)}}},
		{"nothing to do", up3, up3, map[string]int{"web": 2}, 3, Plan{Keep: up3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PlanRollout(nodes, tt.all, tt.cur, tt.structure, tt.release)
			if d := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("PlanRollout (-want +got):\n%s", d)
			}
		})
	}
}
