package search

import (
	"errors"
	"testing"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
	"github.com/google/go-cmp/cmp"
)

func str(s string) Value { return Value{Kind: StringValue, Str: s} }

func list(s ...string) Value { return Value{Kind: ListValue, List: s} }

// ignoreRaw compares values without the token text.
var ignoreRaw = cmp.Transformer("noRaw", func(v Value) Value { v.Raw = ""; return v })

// wantErr checks that err is an *mlflow.Error with the given code and message.
func wantErr(t *testing.T, err error, code mlflow.ErrorCode, msg string) {
	t.Helper()
	var me *mlflow.Error
	if !errors.As(err, &me) {
		t.Fatalf("error %v (%T), want *mlflow.Error %q", err, err, msg)
	}
	if me.Code != code || me.Message != msg {
		t.Errorf("error %s %q\nwant  %s %q", me.Code, me.Message, code, msg)
	}
}

func TestParseRunFilter(t *testing.T) {
	tests := []struct {
		filter string
		want   []Clause
	}{
		{"", []Clause{}},
		{"metrics.acc > 0.5", []Clause{{EntityMetric, "acc", ">", Value{Kind: FloatValue, Float: 0.5}}}},
		{"metric.`my metric` <= -1e3", []Clause{{EntityMetric, "my metric", "<=", Value{Kind: FloatValue, Float: -1000}}}},
		{"metrics.a.b = 1", []Clause{{EntityMetric, "a.b", "=", Value{Kind: FloatValue, Float: 1}}}},
		{`params.lr = '0.1' and param."model class" like "%Net"`, []Clause{
			{EntityParam, "lr", "=", str("0.1")},
			{EntityParam, "model class", "LIKE", str("%Net")},
		}},
		{"parameters.x ILIKE 'a%' AND tags.t != 'v'", []Clause{
			{EntityParam, "x", "ILIKE", str("a%")}, {EntityTag, "t", "!=", str("v")},
		}},
		{"tags.`mlflow.runName` IS NULL And tag.u is not null", []Clause{
			{Entity: EntityTag, Key: "mlflow.runName", Comparator: "IS NULL"},
			{Entity: EntityTag, Key: "u", Comparator: "IS NOT NULL"},
		}},
		{"tags.x = 'it''s'", []Clause{{EntityTag, "x", "=", str("it''s")}}}, // not unescaped, as MLflow
		{"status = 'FINISHED' AND attributes.user_id != 'me'", []Clause{
			{EntityAttribute, "status", "=", str("FINISHED")}, {EntityAttribute, "user_id", "!=", str("me")},
		}},
		{"attr.artifact_uri LIKE '%x' and run.status ilike 'f%'", []Clause{
			{EntityAttribute, "artifact_uri", "LIKE", str("%x")}, {EntityAttribute, "status", "ILIKE", str("f%")},
		}},
		{"start_time >= 100 and created < 1.5 and Created = -2 and end_time != 0", []Clause{
			{EntityAttribute, "start_time", ">=", Value{Kind: IntValue, Int: 100, Float: 100}},
			{EntityAttribute, "start_time", "<", Value{Kind: FloatValue, Float: 1.5}},
			{EntityAttribute, "start_time", "=", Value{Kind: IntValue, Int: -2, Float: -2}},
			{EntityAttribute, "end_time", "!=", Value{Kind: IntValue}},
		}},
		{"run_name = 'x' and `Run Name` = 'y' and attributes.`run name` like 'z'", []Clause{
			{EntityAttribute, "run_name", "=", str("x")}, {EntityAttribute, "run_name", "=", str("y")},
			{EntityAttribute, "run_name", "LIKE", str("z")},
		}},
		{`run_id IN ('a', "B") and run_id not in ('c',)`, []Clause{
			{EntityAttribute, "run_id", "IN", list("a", "B")}, {EntityAttribute, "run_id", "NOT IN", list("c")},
		}},
		{"run_id in ('a' 'b')", []Clause{{EntityAttribute, "run_id", "IN", list("ab")}}},
		{"datasets.name = 'd' and dataset.digest IN ('x') and datasets.context != 'train'", []Clause{
			{EntityDataset, "name", "=", str("d")}, {EntityDataset, "digest", "IN", list("x")},
			{EntityDataset, "context", "!=", str("train")},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			got, err := ParseRunFilter(tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, ignoreRaw); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestParseRunFilterErrors(t *testing.T) {
	tests := []struct{ filter, msg string }{
		{" ", "Invalid filter ' '. Could not be parsed."},
		{"metrics.a > 1 OR metrics.b > 1", "Invalid clause(s) in filter string: 'OR'"},
		{"(metrics.a > 1)", "Invalid clause(s) in filter string: '(metrics.a > 1)'"},
		{"metrics.a > 1; metrics.b > 1", "Search filter contained multiple expression 'metrics.a > 1; metrics.b > 1'. Provide AND-ed expression list."},
		{"metrics.a > 1 -- c", "Invalid clause(s) in filter string: '-- c'"},
		{"metrics.a > 1 foo", "Invalid clause(s) in filter string: 'metrics.a > 1 foo'"},
		{"1 = 1", "Invalid comparison clause. Expected 'Identifier' found '1'"},
		{"foo.bar = 'x'", "Invalid entity type 'foo'. Valid values are ['metric', 'parameter', 'tag', 'attribute', 'dataset']"},
		{"bogus = 'x'", "Invalid attribute key 'bogus' specified. Valid keys are '{'Created', 'Run Name', 'Run name', 'artifact_uri', 'created', 'end_time', 'run name', 'run_id', 'run_name', 'start_time', 'status', 'user_id'}'"},
		{"datasets.foo = 'x'", "Invalid dataset key 'foo' specified. Valid keys are '{'context', 'digest', 'name'}'"},
		{"metrics.a IS NULL", "IS NULL / IS NOT NULL is only supported for tags and params, not for 'metric' 'a'"},
		{"metrics.a > 'x'", "Expected numeric value type for metric. Found 'x'"},
		{"params.a = 1", "Expected a quoted string value for parameter (e.g. 'my-value'). Got value 1"},
		{"tags.a = abc", "Parameter value is either not quoted or unidentified quote types used for string value abc. Use either single or double quotes."},
		{"start_time > 'x'", "Expected numeric value type for numeric attribute: start_time. Found 'x'"},
		{"status = 1", "Expected a quoted string value for attributes. Got value 1"},
		{"status IN ('a')", "Only ['run_id'] attributes support comparison with a list of quoted string values."},
		{"datasets.name = 1", "Expected a quoted string value for dataset attributes. Got value 1"},
		{"run_id IN ()", "While parsing a list in the query, expected a non-empty list of string values, but got empty list"},
		{"run_id IN ('a', 1)", "While parsing a list in the query, expected string value, punctuation, or whitespace, but got different type in list: ('a', 1)"},
		{"run_id IN ('a' 'b' x)", "While parsing a list in the query, expected a non-empty list of string values, but got ill-formed list."},
		{"metrics.a ~ 1", "Invalid comparator '~' not one of '{'!=', '<', '<=', '=', '>', '>='}"},
		{"params.a < 'x'", "Invalid comparator '<' not one of '{'!=', '=', 'ILIKE', 'IS NOT NULL', 'IS NULL', 'LIKE'}'"},
		{"tags.a NOT LIKE 'x'", "Invalid comparator 'NOT LIKE' not one of '{'!=', '=', 'ILIKE', 'IS NOT NULL', 'IS NULL', 'LIKE'}"},
		{"status > 'x'", "Invalid comparator '>' not one of '{'!=', '=', 'ILIKE', 'IN', 'LIKE', 'NOT IN'}'"},
		{"start_time LIKE 1", "Invalid comparator 'LIKE' not one of '{'!=', '=', 'ILIKE', 'IN', 'LIKE', 'NOT IN'}"},
		{"datasets.name < 'x'", "Invalid comparator '<' not one of '{'!=', '=', 'ILIKE', 'IN', 'LIKE', 'NOT IN'}"},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			_, err := ParseRunFilter(tt.filter)
			wantErr(t, err, mlflow.InvalidParameterValue, tt.msg)
		})
	}
	// A list with a comparator other than IN fails in MLflow's database
	// driver, with BAD_REQUEST.
	_, err := ParseRunFilter("run_id = ('a', 'b')")
	wantErr(t, err, mlflow.BadRequest, "Comparator '=' cannot compare with a list of values: ('a', 'b')")
}

func TestParseExperimentFilter(t *testing.T) {
	tests := []struct {
		filter string
		want   []Clause
	}{
		{"name = 'a' and attribute.name like 'b%' AND attributes.name ILIKE 'C'", []Clause{
			{EntityAttribute, "name", "=", str("a")}, {EntityAttribute, "name", "LIKE", str("b%")},
			{EntityAttribute, "name", "ILIKE", str("C")},
		}},
		{"tags.k = 'v' and tag.`a b` != 'w' and tags.x IS NULL", []Clause{
			{EntityTag, "k", "=", str("v")}, {EntityTag, "a b", "!=", str("w")},
			{Entity: EntityTag, Key: "x", Comparator: "IS NULL"},
		}},
		{"creation_time > 5 and last_update_time <= 7", []Clause{
			{EntityAttribute, "creation_time", ">", Value{Kind: IntValue, Int: 5, Float: 5}},
			{EntityAttribute, "last_update_time", "<=", Value{Kind: IntValue, Int: 7, Float: 7}},
		}},
		{"experiment_id = ' 12 ' and experiment_id in ('1', '2')", []Clause{
			{EntityAttribute, "experiment_id", "=", Value{Kind: IntValue, Int: 12, Float: 12}},
			{EntityAttribute, "experiment_id", "IN", list("1", "2")},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			got, err := ParseExperimentFilter(tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, ignoreRaw); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestParseExperimentFilterErrors(t *testing.T) {
	tests := []struct{ filter, msg string }{
		{"name = 'a' OR name = 'b'", "Invalid clause(s) in filter string: OR"},
		{"params.p = 'a'", "Invalid entity type 'params'. Valid entity types are ('attribute', 'attributes', 'tag', 'tags')"},
		{"`tags`.t = 'a'", "Invalid entity type '`tags`'. Valid entity types are ('attribute', 'attributes', 'tag', 'tags')"},
		{"bogus = 'x'", "Invalid attribute key 'bogus' specified. Valid keys are '{'creation_time', 'experiment_id', 'last_update_time', 'name'}'"},
		{"name IS NULL", "IS NULL / IS NOT NULL is only supported for tags, not for attribute 'name'"},
		{"name IN ('a')", "Only ['experiment_id'] attributes support comparison with a list of quoted string values."},
		{"name < 'a'", "Invalid comparator '<' not one of '{'!=', '=', 'ILIKE', 'IN', 'LIKE', 'NOT IN'}'"},
		{"creation_time LIKE 1", "Invalid comparator 'LIKE' not one of '{'!=', '=', 'ILIKE', 'IN', 'LIKE', 'NOT IN'}"},
		{"creation_time = 1.5", "Invalid value for numeric attribute 'creation_time': '1.5'"},
		{"creation_time = 1e3", "Invalid value for numeric attribute 'creation_time': '1000.0'"},
		{"tags.t < 'a'", "Invalid comparator for tag: <"},
		{"experiment_id < '1'", "Invalid comparator for experiment_id: <"},
		{"experiment_id = 'x'", "Invalid experiment ID 'x'. Experiment ID must be a valid integer."},
		{"experiment_id = 1", "Expected a quoted string value for attributes. Got value 1"},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			_, err := ParseExperimentFilter(tt.filter)
			wantErr(t, err, mlflow.InvalidParameterValue, tt.msg)
		})
	}
}
