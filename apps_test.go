package deis

import "testing"

func TestStructureString(t *testing.T) {
	tests := []struct {
		structure map[string]int
		want      string
	}{
		{map[string]int{"worker": 1, "web": 2}, "web=2 worker=1"},
		{map[string]int{"web": 3, "clock": 0}, "web=3"},
		{map[string]int{"web": 0}, "nothing runs"},
		{nil, "nothing runs"},
	}
	for _, tt := range tests {
		if got := StructureString(tt.structure); got != tt.want {
			t.Errorf("StructureString(%v) = %q, want %q", tt.structure, got, tt.want)
		}
	}
}

func TestConfigSummary(t *testing.T) {
	one, two := "1", "2"
	cur := map[string]string{"A": "1", "B": "x"}
	tests := []struct {
		changes map[string]*string
		want    string
	}{
		{map[string]*string{"A": &two, "C": &one, "B": nil}, "set A, C and unset B"},
		{map[string]*string{"A": &one, "Z": nil}, "set nothing"},
		{map[string]*string{"B": nil}, "unset B"},
	}
	for _, tt := range tests {
		if got := ConfigSummary(cur, tt.changes); got != tt.want {
			t.Errorf("ConfigSummary(%v) = %q, want %q", tt.changes, got, tt.want)
		}
	}
}
