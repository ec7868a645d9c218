package search

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
)

func statusLookup(s string) (int, bool) {
	v, ok := map[string]int{"UNSPECIFIED": 0, "PENDING": 1, "READY": 2, "FAILED": 3}[s]
	return v, ok
}

func TestParseLoggedModelFilter(t *testing.T) {
	for _, c := range []struct {
		filter string
		want   []LoggedModelClause
	}{
		{"", nil},
		{"metrics.acc > 0.5", []LoggedModelClause{{Entity: EntityMetric, Key: "acc", Op: ">", Value: Value{Kind: FloatValue, Float: 0.5, Raw: "0.5"}}}},
		{"params.lr = '0.1' and tags.`my tag` like 'x%'", []LoggedModelClause{
			{Entity: EntityParam, Key: "lr", Op: "=", Value: Value{Kind: StringValue, Str: "0.1", Raw: "'0.1'"}},
			{Entity: EntityTag, Key: "my tag", Op: "LIKE", Value: Value{Kind: StringValue, Str: "x%", Raw: "'x%'"}},
		}},
		{"creation_time >= 10", []LoggedModelClause{{Entity: EntityAttribute, Key: "creation_timestamp_ms", Op: ">=", Value: Value{Kind: FloatValue, Float: 10, Raw: "10"}}}},
		{"name IN ('a', 'b')", []LoggedModelClause{{Entity: EntityAttribute, Key: "name", Op: "IN", Value: Value{Kind: ListValue, List: []string{"a", "b"}, Raw: "('a', 'b')"}}}},
		{"status NOT IN ('READY', 'FAILED')", []LoggedModelClause{{Entity: EntityAttribute, Key: "status", Op: "NOT IN",
			Value: Value{Kind: ListValue, List: []string{"READY", "FAILED"}, Raw: "('READY', 'FAILED')"}, Statuses: []int{2, 3}}}},
		{"attributes.status = 'PENDING'", []LoggedModelClause{{Entity: EntityAttribute, Key: "status", Op: "=",
			Value: Value{Kind: StringValue, Str: "PENDING", Raw: "'PENDING'"}, Statuses: []int{1}}}},
	} {
		got, err := ParseLoggedModelFilter(c.filter, statusLookup)
		if err != nil {
			t.Errorf("%q: %v", c.filter, err)
			continue
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%q (-want +got):\n%s", c.filter, diff)
		}
	}
}

func TestParseLoggedModelFilterErrors(t *testing.T) {
	for _, c := range []struct{ filter, msg string }{
		{"metrics.acc LIKE 'a'", "Invalid comparison operator for metrics.acc: 'LIKE'. Expected one of ('<', '<=', '>', '>=', '=', '!=')."},
		{"name > 'a'", "Invalid comparison operator for attributes.name: '>'. Expected one of ('=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN')."},
		{"foo.bar = 'x'", "Invalid entity type: 'foo'. Expected one of ['attributes', 'metrics', 'params', 'tags']."},
		{"name = 'a' OR name = 'b'", "Invalid filter string: \"name = 'a' OR name = 'b'\". Expected a list of comparisons separated by 'AND'"},
		{"name = 'a'; name = 'b'", "Expected a single SQL expression."},
		{"status = 'DONE'", "Unknown model status in filter: 'DONE'"},
		{"status LIKE 'R%'", "Invalid comparison operator for status: LIKE"},
		{"nope = 'x'", "Invalid attribute key 'nope' specified."},
		{"metrics.acc > 'x'", "could not convert string to float"},
	} {
		_, err := ParseLoggedModelFilter(c.filter, statusLookup)
		if !mlflow.IsCode(err, mlflow.InvalidParameterValue) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%q: %v, want INVALID_PARAMETER_VALUE containing %q", c.filter, err, c.msg)
		}
	}
}

func TestLoggedModelsTokenMatchesMLflow(t *testing.T) {
	// base64 of Python's json.dumps(asdict(SearchLoggedModelsPaginationToken(...))).
	tok := LoggedModelsToken{ExperimentIDs: []string{"1"}, Offset: 2}.Encode()
	raw, _ := base64.StdEncoding.DecodeString(tok)
	if want := `{"experiment_ids": ["1"], "filter_string": null, "order_by": null, "offset": 2}`; string(raw) != want {
		t.Errorf("token %s, want %s", raw, want)
	}
	order := []LoggedModelOrder{{FieldName: "metrics.acc", Ascending: true, DatasetName: "d"}}
	tok = LoggedModelsToken{ExperimentIDs: []string{"1", "2"}, Filter: "name = 'é'", OrderBy: order, Offset: 5}.Encode()
	raw, _ = base64.StdEncoding.DecodeString(tok)
	if want := `{"experiment_ids": ["1", "2"], "filter_string": "name = '\u00e9'", "order_by": [{"field_name": "metrics.acc", "ascending": true, "dataset_name": "d", "dataset_digest": null}], "offset": 5}`; string(raw) != want {
		t.Errorf("token %s, want %s", raw, want)
	}
	req := LoggedModelsToken{ExperimentIDs: []string{"1", "2"}, Filter: "name = 'é'", OrderBy: order}
	if off, err := DecodeLoggedModelsToken(tok, req); err != nil || off != 5 {
		t.Errorf("decode = %d, %v", off, err)
	}
	for _, c := range []struct {
		req LoggedModelsToken
		msg string
	}{
		{LoggedModelsToken{ExperimentIDs: []string{"1"}, Filter: req.Filter, OrderBy: order},
			"Experiment IDs in the page token do not match the requested experiment IDs. Expected: ['1']. Found: ['1', '2']"},
		{LoggedModelsToken{ExperimentIDs: req.ExperimentIDs, OrderBy: order},
			"Filter string in the page token does not match the requested filter string. Expected: None. Found: name = 'é'"},
		{LoggedModelsToken{ExperimentIDs: req.ExperimentIDs, Filter: req.Filter},
			"Order by in the page token does not match the requested order by. Expected: None. Found: [{'field_name': 'metrics.acc', 'ascending': True, 'dataset_name': 'd', 'dataset_digest': None}]"},
	} {
		_, err := DecodeLoggedModelsToken(tok, c.req)
		if !mlflow.IsCode(err, mlflow.InvalidParameterValue) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%v, want %q", err, c.msg)
		}
	}
	if _, err := DecodeLoggedModelsToken("bm90IGpzb24=", req); !mlflow.IsCode(err, mlflow.InvalidParameterValue) {
		t.Errorf("not JSON: %v", err)
	}
}

func TestLoggedModelsQuerySQL(t *testing.T) {
	q := LoggedModelsQuery{Dialect: DialectPostgres, ExperimentIDs: []int64{1}, Filter: "metrics.acc > 0.5 AND params.p = 'x'",
		Statuses: statusLookup, OrderBy: []LoggedModelOrder{{FieldName: "metrics.acc"}, {FieldName: "creation_time", Ascending: true}},
		Limit: 11, Extra: "lm.experiment_id IN (?)", ExtraArgs: []any{int64(1)}}
	text, args, err := q.SQL()
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(text, "?"); n != len(args) {
		t.Errorf("%d placeholders, %d args\n%s", n, len(args), text)
	}
	if !strings.Contains(text, "ORDER BY CASE WHEN o1.metric_value IS NULL THEN 1 ELSE 0 END, o1.metric_value DESC, "+
		"CASE WHEN lm.creation_timestamp_ms IS NULL THEN 1 ELSE 0 END, lm.creation_timestamp_ms, lm.model_id LIMIT") {
		t.Errorf("order: %s", text)
	}
	for _, bad := range []LoggedModelsQuery{
		{Dialect: DialectSQLite, OrderBy: []LoggedModelOrder{{FieldName: "nope"}}},
		{Dialect: DialectSQLite, OrderBy: []LoggedModelOrder{{FieldName: "tags.x"}}},
		{Dialect: DialectSQLite, Datasets: []LoggedModelDataset{{Digest: "x"}}},
	} {
		if _, _, err := bad.SQL(); !mlflow.IsCode(err, mlflow.InvalidParameterValue) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}
