package search

import (
	"testing"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
	"github.com/google/go-cmp/cmp"
)

func TestParseRunOrderBy(t *testing.T) {
	tests := []struct {
		orderBy []string
		want    []OrderClause
	}{
		{nil, nil},
		{[]string{"metrics.acc DESC", "params.lr", "tags.t asc"}, []OrderClause{
			{EntityMetric, "acc", false}, {EntityParam, "lr", true}, {EntityTag, "t", true},
		}},
		{[]string{"metrics.`my metric` desc", `params."a b"`, "tags.`mlflow.runName`"}, []OrderClause{
			{EntityMetric, "my metric", false}, {EntityParam, "a b", true}, {EntityTag, "mlflow.runName", true},
		}},
		{[]string{"start_time", "attributes.end_time DESC", "run_name", "attr.run_id", "status", "user_id", "artifact_uri"},
			[]OrderClause{
				{EntityAttribute, "start_time", true}, {EntityAttribute, "end_time", false},
				{EntityAttribute, "run_name", true}, {EntityAttribute, "run_id", true}, {EntityAttribute, "status", true},
				{EntityAttribute, "user_id", true}, {EntityAttribute, "artifact_uri", true},
			}},
		{[]string{"Created DESC"}, []OrderClause{{EntityAttribute, "start_time", false}}},
		{[]string{"metrics.a  DESC"}, []OrderClause{{EntityMetric, "a", false}}},
	}
	for _, tt := range tests {
		got, err := ParseRunOrderBy(tt.orderBy)
		if err != nil {
			t.Errorf("%q: %v", tt.orderBy, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%q (-want +got)\n%s", tt.orderBy, diff)
		}
	}
}

func TestParseRunOrderByErrors(t *testing.T) {
	tests := []struct {
		orderBy []string
		code    mlflow.ErrorCode
		msg     string
	}{
		{[]string{""}, mlflow.InvalidParameterValue, "Invalid order_by clause ''. Could not be parsed."},
		{[]string{"metrics.a, metrics.b"}, mlflow.InvalidParameterValue, "Invalid order_by clause 'metrics.a, metrics.b'. Could not be parsed."},
		{[]string{"metrics.a DESC ASC"}, mlflow.InvalidParameterValue, "Invalid order_by clause 'metrics.a DESC ASC'. Could not be parsed."},
		{[]string{"metrics.a foo"}, mlflow.InvalidParameterValue, "Invalid ordering key in order_by clause 'metrics.a foo'."},
		{[]string{"datasets.name"}, mlflow.InvalidParameterValue, "Invalid identifier type 'dataset'"},
		{[]string{"bogus"}, mlflow.InvalidParameterValue, "Invalid attribute key 'bogus' specified. Valid keys are '{'Created', 'artifact_uri', 'created', 'end_time', 'run_id', 'run_name', 'start_time', 'status', 'user_id'}'"},
		{[]string{"  metrics.a"}, mlflow.InvalidParameterValue, "Invalid order_by clause '  metrics.a'. Could not be parsed."},
		{[]string{"run name"}, mlflow.InvalidParameterValue, "Invalid ordering key in order_by clause 'run name'."},
		{[]string{"metrics.a", "metrics.a DESC"}, mlflow.InternalError, "`order_by` contains duplicate fields: ['metrics.a', 'metrics.a DESC']"},
		{[]string{"created", "start_time"}, mlflow.InternalError, "`order_by` contains duplicate fields: ['created', 'start_time']"},
	}
	for _, tt := range tests {
		_, err := ParseRunOrderBy(tt.orderBy)
		wantErr(t, err, tt.code, tt.msg)
	}
}

func TestParseExperimentOrderBy(t *testing.T) {
	got, err := ParseExperimentOrderBy([]string{"name", "creation_time DESC", "attribute.last_update_time asc", "experiment_id"})
	if err != nil {
		t.Fatal(err)
	}
	want := []OrderClause{
		{EntityAttribute, "name", true}, {EntityAttribute, "creation_time", false},
		{EntityAttribute, "last_update_time", true}, {EntityAttribute, "experiment_id", true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	for _, tt := range []struct {
		orderBy []string
		msg     string
	}{
		{[]string{"tags.t"}, "Invalid order_by entity: tag"},
		{[]string{"run_id"}, "Invalid attribute key 'run_id' specified. Valid keys are '{'creation_time', 'experiment_id', 'last_update_time', 'name'}'"},
		{[]string{"name sideways"}, "Invalid ordering key in order_by clause 'name sideways'."},
	} {
		_, err := ParseExperimentOrderBy(tt.orderBy)
		wantErr(t, err, mlflow.InvalidParameterValue, tt.msg)
	}
}
