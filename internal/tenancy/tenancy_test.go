package tenancy

import (
	"strings"
	"testing"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
)

func TestCompleteName(t *testing.T) {
	for _, c := range []struct {
		in, want string
		err      string
	}{
		{"baseline", "baseline (42)", ""},
		{"baseline (42)", "baseline (42)", ""},
		{"a (b) (42)", "a (b) (42)", ""},
		{"v (1.0)", "v (1.0) (42)", ""},
		{"baseline (7)", "", "use \"baseline (42)\""},
		{"(42)", "(42) (42)", ""},
	} {
		got, err := CompleteName(c.in, 42)
		if c.err != "" {
			if !mlflow.IsCode(err, mlflow.InvalidParameterValue) || !strings.Contains(err.Error(), c.err) {
				t.Errorf("CompleteName(%q) error = %v, want one containing %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("CompleteName(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestScopeSees(t *testing.T) {
	p := Project(42, "g/p")
	g := Global([]int64{1, 42})
	for _, c := range []struct {
		s    Scope
		name string
		want bool
	}{
		{p, "x (42)", true}, {p, "x (142)", false}, {p, "x (4)", false}, {p, "Default", false},
		{g, "x (1)", true}, {g, "x (42)", true}, {g, "x (2)", false}, {g, "Default", false},
		{Unscoped, "Default", true},
	} {
		if got := c.s.SeesName(c.name); got != c.want {
			t.Errorf("%v.SeesName(%q) = %v, want %v", c.s, c.name, got, c.want)
		}
	}
	if cond, _ := Global(nil).ExperimentCondition(); cond != "1 = 0" {
		t.Errorf("empty global scope condition = %q", cond)
	}
	if cond, args := p.RunCondition(); !strings.Contains(cond, "runs.experiment_id IN") || args[0] != "% (42)" {
		t.Errorf("run condition = %q %v", cond, args)
	}
}
