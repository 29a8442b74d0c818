package cli

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"
)

func ptr(s string) *string { return &s }

func TestParseConfigArgs(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    map[string]*string
		wantErr string
	}{
		{"simple", []string{"A=b"}, map[string]*string{"A": ptr("b")}, ""},
		{"first equals only", []string{"URL=postgres://u:p@h/db?sslmode=require&x=y"},
			map[string]*string{"URL": ptr("postgres://u:p@h/db?sslmode=require&x=y")}, ""},
		{"value is equals", []string{"EQ=="}, map[string]*string{"EQ": ptr("=")}, ""},
		{"base64 padding", []string{"KEY=YWJj=="}, map[string]*string{"KEY": ptr("YWJj==")}, ""},
		{"empty value", []string{"EMPTY="}, map[string]*string{"EMPTY": ptr("")}, ""},
		{"spaces and quotes", []string{`MSG=hello "big" 'world'  `}, map[string]*string{"MSG": ptr(`hello "big" 'world'  `)}, ""},
		{"newlines", []string{"PEM=-----BEGIN-----\nabc\n-----END-----\n"}, map[string]*string{"PEM": ptr("-----BEGIN-----\nabc\n-----END-----\n")}, ""},
		{"unicode", []string{"GREETING=héllo wörld ✓ 日本"}, map[string]*string{"GREETING": ptr("héllo wörld ✓ 日本")}, ""},
		{"integer stays a string", []string{"N=007"}, map[string]*string{"N": ptr("007")}, ""},
		{"several", []string{"A=1", "_B=2", "c_3=x=y"}, map[string]*string{"A": ptr("1"), "_B": ptr("2"), "c_3": ptr("x=y")}, ""},
		{"later wins", []string{"A=1", "A=2"}, map[string]*string{"A": ptr("2")}, ""},
		{"no equals", []string{"A"}, nil, `"A" is not KEY=VALUE`},
		{"empty key", []string{"=v"}, nil, `"=v" is not KEY=VALUE`},
		{"digit first", []string{"1A=v"}, nil, `"1A" is not a valid config key: use letters, digits and '_', not starting with a digit`},
		{"dash", []string{"MY-KEY=v"}, nil, `"MY-KEY" is not a valid config key: use letters, digits and '_', not starting with a digit`},
		{"space in key", []string{"A B=v"}, nil, `"A B" is not a valid config key: use letters, digits and '_', not starting with a digit`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseConfigArgs(tt.args)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("values (-want +got):\n%s", d)
			}
		})
	}
}

func TestParseUnsetArgs(t *testing.T) {
	got, err := parseUnsetArgs([]string{"A", "B_2"})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]*string{"A": nil, "B_2": nil}, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if _, err := parseUnsetArgs([]string{"A=b"}); err == nil {
		t.Error("unset A=b: no error")
	}
}

func TestParseKVFlags(t *testing.T) {
	got, err := parseKVFlags("params", []string{"image=ami-1=x", "region=us-east-1", "tags=a,b"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"image": "ami-1=x", "region": "us-east-1", "tags": "a,b"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if _, err := parseKVFlags("creds", []string{"novalue"}); err == nil || err.Error() != `--creds "novalue" is not KEY=VALUE` {
		t.Errorf("err = %v", err)
	}
}

func TestParseCounts(t *testing.T) {
	tests := []struct {
		args    []string
		want    map[string]int
		wantErr bool
	}{
		{[]string{"web=2"}, map[string]int{"web": 2}, false},
		{[]string{"web=0", "worker=10"}, map[string]int{"web": 0, "worker": 10}, false},
		{[]string{"web=-1"}, nil, true},
		{[]string{"web=+1"}, nil, true},
		{[]string{"web=1.5"}, nil, true},
		{[]string{"web="}, nil, true},
		{[]string{"=2"}, nil, true},
		{[]string{"web"}, nil, true},
		{[]string{"web=1", "web=2"}, nil, true},
		{[]string{"web=two"}, nil, true},
	}
	for _, tt := range tests {
		got, err := parseCounts(tt.args)
		if (err != nil) != tt.wantErr {
			t.Errorf("parseCounts(%q) err = %v, wantErr %v", tt.args, err, tt.wantErr)
			continue
		}
		if d := cmp.Diff(tt.want, got); !tt.wantErr && d != "" {
			t.Errorf("parseCounts(%q) (-want +got):\n%s", tt.args, d)
		}
	}
}

func TestParseVersion(t *testing.T) {
	for in, want := range map[string]int{"v2": 2, "2": 2, "V10": 10, "v0": 0, "0": 0, "-1": 0, "vv2": 0, "": 0, "v": 0, "+3": 0, "2x": 0} {
		got, err := parseVersion(in)
		if want == 0 {
			if err == nil {
				t.Errorf("parseVersion(%q) = %d, want an error", in, got)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("parseVersion(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
}

func TestParseYesNo(t *testing.T) {
	for in, want := range map[string]bool{"y": true, "Y": true, "yes": true, "true": true, "n": false, "No": false, "false": false} {
		if got, err := parseYesNo("proxy", in); err != nil || got != want {
			t.Errorf("parseYesNo(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := parseYesNo("proxy", "maybe"); err == nil {
		t.Error(`parseYesNo("maybe"): no error`)
	}
}

func TestNormalizeURL(t *testing.T) {
	for in, want := range map[string]string{
		"deis.example.com":          "http://deis.example.com",
		"localhost:8000":            "http://localhost:8000",
		"http://127.0.0.1:8000/":    "http://127.0.0.1:8000",
		"https://deis.example.com":  "https://deis.example.com",
		"https://example.com/deis/": "https://example.com/deis",
		"ftp://x":                   "",
		"":                          "",
		"http://":                   "",
		"http://h/?q=1":             "",
	} {
		got, err := normalizeURL(in)
		if want == "" {
			if err == nil {
				t.Errorf("normalizeURL(%q) = %q, want an error", in, got)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("normalizeURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestMultiFlag(t *testing.T) {
	tests := []struct {
		name      string
		argv      []string
		wantPlain []string
		wantAll   []string
		wantErr   bool
	}{
		{"contract form", []string{"rack", "--creds", "user=ops", "password=s3cr=t"}, []string{"rack"}, []string{"user=ops", "password=s3cr=t"}, false},
		{"repeated flag", []string{"--creds", "a=1", "rack", "--creds", "b=2"}, []string{"rack"}, []string{"a=1", "b=2"}, false},
		{"id after values", []string{"--creds", "a=1", "b=2", "rack"}, []string{"rack"}, []string{"a=1", "b=2"}, false},
		{"no flag", []string{"rack"}, []string{"rack"}, []string{}, false},
		{"stray K=V without the flag", []string{"rack", "a=1"}, nil, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var creds []string
			cmd := &cobra.Command{Use: "x", Run: func(*cobra.Command, []string) {}}
			cmd.Flags().StringArrayVar(&creds, "creds", nil, "")
			if err := cmd.Flags().Parse(tt.argv); err != nil {
				t.Fatal(err)
			}
			plain, all, err := multiFlag(cmd, "creds", creds, cmd.Flags().Args())
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if tt.wantErr {
				return
			}
			if d := cmp.Diff(tt.wantPlain, plain); d != "" {
				t.Errorf("plain (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.wantAll, all); d != "" {
				t.Errorf("values (-want +got):\n%s", d)
			}
		})
	}
}
