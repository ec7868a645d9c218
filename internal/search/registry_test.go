package search

import (
	"strings"
	"testing"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
)

func TestRegistryFilterErrors(t *testing.T) {
	for _, c := range []struct {
		versions bool
		filter   string
		code     mlflow.ErrorCode
		msg      string
	}{
		{false, "run_id = 'x'", mlflow.InvalidParameterValue, "Invalid attribute key 'run_id' specified. Valid keys are '{'name'}'"},
		{false, "params.x = 'y'", mlflow.InvalidParameterValue, "Invalid entity type 'params'. Valid entity types are ('attribute', 'tag', 'tags')"},
		{false, "name IS NULL", mlflow.InvalidParameterValue, "IS NULL / IS NOT NULL is not supported for registered model search."},
		{false, "name > 'a'", mlflow.InvalidParameterValue, "Invalid comparator for attribute: >"},
		{false, "tags.a IN ('x')", mlflow.InvalidParameterValue, "Expected a quoted string value for tag (e.g. 'my-value'). Got value ('x')"},
		{false, "tags.a > 'x'", mlflow.InvalidParameterValue, "Invalid comparator for tag: >"},
		{false, "name = 5", mlflow.InvalidParameterValue, "Expected a quoted string value or a list of quoted string values for attributes. Got value 5"},
		{false, "name = 'a' OR name = 'b'", mlflow.InvalidParameterValue, "Invalid clause(s) in filter string: OR"},
		{true, "version_number LIKE '1'", mlflow.InvalidParameterValue, "Invalid comparator for attribute version_number: LIKE"},
		{true, "version_number = 1.5", mlflow.InvalidParameterValue, "Invalid value for numeric attribute 'version_number': 1.5"},
		{true, "version_number = 'abc'", mlflow.InvalidParameterValue, "Invalid value for numeric attribute 'version_number': 'abc'"},
		{true, "source_path IN ('a')", mlflow.InvalidParameterValue, "Only ['name', 'run_id'] attributes support comparison with a list"},
		{true, "run_id = 3", mlflow.InvalidParameterValue, "attributes support comparison with numeric values."},
		{true, "run_id < 'x'", mlflow.InvalidParameterValue, "Invalid comparator for attribute: <"},
		{true, "run_id = ('a', 'b')", mlflow.BadRequest, "cannot compare with a list"},
		{true, "current_stage = 'None'", mlflow.InvalidParameterValue, "Invalid attribute key 'current_stage' specified."},
	} {
		parse := ParseRegisteredModelFilter
		if c.versions {
			parse = ParseModelVersionFilter
		}
		_, err := parse(c.filter)
		if !mlflow.IsCode(err, c.code) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%q: %v, want %s %q", c.filter, err, c.code, c.msg)
		}
	}
	for _, f := range []string{"name = 'a'", "name LIKE 'a%'", "name ILIKE 'A%' AND tags.`k` != 'v'", "name IN ('a', 'b')", "tag.x = \"y\""} {
		if _, err := ParseRegisteredModelFilter(f); err != nil {
			t.Errorf("%q: %v", f, err)
		}
	}
	cs, err := ParseModelVersionFilter("version_number >= '2' AND run_id IN ('r1') AND source_path = 's3://x'")
	if err != nil || cs[0].Value.Kind != IntValue || cs[0].Value.Int != 2 {
		t.Errorf("version filter: %+v %v", cs, err)
	}
}

func TestRegistryOrderBy(t *testing.T) {
	for _, c := range []struct {
		versions bool
		orderBy  []string
		want     string // error text, or the ORDER BY clause
	}{
		{false, nil, "ORDER BY registered_models.name ASC LIMIT"},
		{false, []string{"timestamp DESC"}, "ORDER BY registered_models.last_updated_time DESC, registered_models.name ASC"},
		{false, []string{"name DESC", "last_updated_timestamp"}, "ORDER BY registered_models.name DESC, registered_models.last_updated_time ASC LIMIT"},
		{false, []string{"timestamp", "last_updated_timestamp"}, "`order_by` contains duplicate fields"},
		{false, []string{"creation_timestamp"}, "Invalid order by key 'creation_timestamp' specified. Valid keys are '{'name', 'timestamp'}'"},
		{true, nil, "ORDER BY model_versions.last_updated_time DESC, model_versions.name ASC, model_versions.version DESC"},
		{true, []string{"version_number ASC"}, "ORDER BY model_versions.version ASC, model_versions.name ASC LIMIT"},
		{true, []string{"tags.x"}, "Invalid order by key 'x' specified."},
		{true, []string{"foo"}, "Invalid attribute key 'foo' specified."},
	} {
		var sql string
		var err error
		if c.versions {
			sql, _, err = ModelVersionsQuery{Dialect: DialectSQLite, OrderBy: c.orderBy, Limit: 10}.SQL()
		} else {
			sql, _, err = RegisteredModelsQuery{Dialect: DialectSQLite, OrderBy: c.orderBy, Limit: 10}.SQL()
		}
		got := sql
		if err != nil {
			got = err.Error()
		}
		if !strings.Contains(got, c.want) {
			t.Errorf("%v: %s\nwant %s", c.orderBy, got, c.want)
		}
	}
}

func TestRegistrySQL(t *testing.T) {
	sql, args, err := RegisteredModelsQuery{Dialect: DialectPostgres, Filter: "name ILIKE '%a%' AND tags.k = 'v' AND tags.k LIKE 'v%'",
		Limit: 3, Offset: 6, Extra: "registered_models.name LIKE ?", ExtraArgs: []any{"% (42)"}}.SQL()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"registered_models.name ILIKE ?",
		// One tag row carries both comparisons of its key.
		"EXISTS (SELECT 1 FROM registered_model_tags AS t1 WHERE t1.workspace = registered_models.workspace AND t1.name = registered_models.name AND t1.key = ? AND t1.value = ? AND t1.value LIKE ?)",
		"NOT EXISTS (SELECT 1 FROM registered_model_tags AS p",
		"AND (registered_models.name LIKE ?)",
	} {
		if !strings.Contains(sql, want) {
			t.Errorf("SQL lacks %q:\n%s", want, sql)
		}
	}
	if n := strings.Count(sql, "?"); n != len(args) {
		t.Errorf("%d placeholders, %d args", n, len(args))
	}
	// Asking for prompts drops the anti-join.
	sql, _, _ = ModelVersionsQuery{Dialect: DialectSQLite, Filter: "tags.`mlflow.prompt.is_prompt` = 'true'"}.SQL()
	if strings.Contains(sql, "NOT EXISTS") || !strings.Contains(sql, "t1.key = ?") || !strings.Contains(sql, "current_stage != 'Deleted_Internal'") {
		t.Errorf("prompt search SQL:\n%s", sql)
	}
	// A filter on the prompt tag that does not ask for prompts is dropped.
	sql, _, _ = ModelVersionsQuery{Dialect: DialectSQLite, Filter: "tags.`mlflow.prompt.is_prompt` = 'false'"}.SQL()
	if strings.Contains(sql, "t1.key") || !strings.Contains(sql, "NOT EXISTS") {
		t.Errorf("non-prompt search SQL:\n%s", sql)
	}
}
