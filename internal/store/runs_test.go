package store

import (
	"context"
	"math"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/tracking"
)

func mustExperiment(t *testing.T, s *Store, name string) int64 {
	t.Helper()
	id, err := s.CreateExperiment(context.Background(), name, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.ParseInt(id, 10, 64)
	return n
}

func mustRun(t *testing.T, s *Store, exp int64) string {
	t.Helper()
	id := tracking.NewID()
	_, err := s.CreateRun(context.Background(), all, NewRun{ID: id, ExperimentID: exp, Name: "r-" + id[:4], StartTime: 1000,
		Tags: []mlflow.KeyValue{{Key: tracking.RunNameTag, Value: "r-" + id[:4]}}})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func wantCode(t *testing.T, err error, code mlflow.ErrorCode) {
	t.Helper()
	if !mlflow.IsCode(err, code) {
		t.Fatalf("err = %v, want code %s", err, code)
	}
}

func TestExperimentLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		id := mustExperiment(t, s, "exp")
		if id != 1 {
			t.Errorf("first experiment id = %d, want 1", id)
		}
		_, err := s.CreateExperiment(ctx, "exp", "", nil)
		wantCode(t, err, mlflow.ResourceAlreadyExists)

		run := mustRun(t, s, id)
		if err := s.DeleteExperiment(ctx, all, id); err != nil {
			t.Fatal(err)
		}
		// A deleted experiment keeps its name.
		_, err = s.CreateExperiment(ctx, "exp", "", nil)
		wantCode(t, err, mlflow.ResourceAlreadyExists)
		r, _ := s.GetRun(ctx, all, run)
		if r.Info.LifecycleStage != "deleted" {
			t.Errorf("run of deleted experiment is %s", r.Info.LifecycleStage)
		}
		wantCode(t, s.RenameExperiment(ctx, all, id, "other"), mlflow.InvalidState)
		wantCode(t, s.SetExperimentTag(ctx, all, id, "k", "v"), mlflow.InvalidParameterValue)
		wantCode(t, s.DeleteExperiment(ctx, all, id), mlflow.ResourceDoesNotExist)

		if err := s.RestoreExperiment(ctx, all, id); err != nil {
			t.Fatal(err)
		}
		r, _ = s.GetRun(ctx, all, run)
		if r.Info.LifecycleStage != "active" {
			t.Errorf("run after restore is %s", r.Info.LifecycleStage)
		}
		if err := s.RenameExperiment(ctx, all, id, "renamed"); err != nil {
			t.Fatal(err)
		}
		e, err := s.GetExperimentByName(ctx, all, "renamed")
		if err != nil || e.ExperimentID != "1" {
			t.Fatalf("get by new name: %v %v", e, err)
		}
		if err := s.SetExperimentTag(ctx, all, id, "k", "v1"); err != nil {
			t.Fatal(err)
		}
		if err := s.SetExperimentTag(ctx, all, id, "k", "v2"); err != nil {
			t.Fatal(err)
		}
		e, _ = s.GetExperiment(ctx, all, id)
		if diff := cmp.Diff([]mlflow.KeyValue{{Key: "k", Value: "v2"}}, e.Tags); diff != "" {
			t.Errorf("tags (-want +got):\n%s", diff)
		}
		wantCode(t, s.DeleteExperimentTag(ctx, all, id, "missing"), mlflow.ResourceDoesNotExist)
		if err := s.DeleteExperimentTag(ctx, all, id, "k"); err != nil {
			t.Fatal(err)
		}
		_, err = s.GetExperiment(ctx, all, 99)
		wantCode(t, err, mlflow.ResourceDoesNotExist)
	})
}

func TestLogBatchSemantics(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		run := mustRun(t, s, mustExperiment(t, s, "e"))
		b := tracking.Batch{
			Metrics: []tracking.MetricPoint{
				{Key: "loss", Value: 3, Timestamp: 10, Step: 0},
				{Key: "loss", Value: 3, Timestamp: 10, Step: 0}, // exact duplicate: one row
				{Key: "loss", Value: 2, Timestamp: 20, Step: 1},
				{Key: "loss", Value: 9, Timestamp: 5, Step: 1}, // same step, older: not latest
				{Key: "nan", Value: math.NaN(), Timestamp: 1, Step: 0},
				{Key: "inf", Value: math.Inf(1), Timestamp: 1, Step: 0},
			},
			Params: []mlflow.KeyValue{{Key: "lr", Value: "0.1"}},
			Tags:   []mlflow.KeyValue{{Key: "t", Value: "1"}, {Key: "t", Value: "2"}},
		}
		if err := s.LogBatch(ctx, all, run, b); err != nil {
			t.Fatal(err)
		}
		// Logging the same batch again changes nothing and is not an error.
		if err := s.LogBatch(ctx, all, run, b); err != nil {
			t.Fatal(err)
		}
		r, err := s.GetRun(ctx, all, run)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]mlflow.Metric{}
		for _, m := range r.Data.Metrics {
			got[m.Key] = m
		}
		if m := got["loss"]; m.Value != 2 || m.Step != 1 || m.Timestamp != 20 {
			t.Errorf("latest loss = %+v, want value 2 at step 1", m)
		}
		if m := got["nan"]; !math.IsNaN(float64(m.Value)) {
			t.Errorf("nan metric = %v", m.Value)
		}
		if m := got["inf"]; float64(m.Value) != math.MaxFloat64 {
			t.Errorf("inf metric stored as %v, want MaxFloat64 as MLflow", m.Value)
		}
		var hist []mlflow.Metric
		if _, err := s.MetricHistory(ctx, all, run, "loss", 0, "", func(m mlflow.Metric) error { hist = append(hist, m); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(hist) != 3 {
			t.Errorf("loss history has %d points, want 3 (exact duplicate dropped): %+v", len(hist), hist)
		}
		if diff := cmp.Diff([]mlflow.KeyValue{{Key: "t", Value: "2"}}, withoutRunName(r.Data.Tags)); diff != "" {
			t.Errorf("tags (-want +got):\n%s", diff)
		}

		// A changed param makes the whole batch fail, and nothing of it is written.
		err = s.LogBatch(ctx, all, run, tracking.Batch{
			Metrics: []tracking.MetricPoint{{Key: "new", Value: 1, Timestamp: 1}},
			Params:  []mlflow.KeyValue{{Key: "lr", Value: "0.2"}},
		})
		wantCode(t, err, mlflow.InvalidParameterValue)
		r, _ = s.GetRun(ctx, all, run)
		for _, m := range r.Data.Metrics {
			if m.Key == "new" {
				t.Fatal("a failed batch left a metric behind")
			}
		}
		wantCode(t, s.LogParam(ctx, all, run, "lr", "0.3"), mlflow.InvalidParameterValue)
		if err := s.LogParam(ctx, all, run, "lr", "0.1"); err != nil {
			t.Errorf("same param value again: %v", err)
		}

		// Deleted runs refuse writes; unknown runs are 404.
		if err := s.DeleteRun(ctx, all, run); err != nil {
			t.Fatal(err)
		}
		wantCode(t, s.SetTag(ctx, all, run, "a", "b"), mlflow.InvalidParameterValue)
		wantCode(t, s.SetTag(ctx, all, "0123456789abcdef0123456789abcdef", "a", "b"), mlflow.ResourceDoesNotExist)
	})
}

func withoutRunName(tags []mlflow.KeyValue) []mlflow.KeyValue {
	var out []mlflow.KeyValue
	for _, t := range tags {
		if t.Key != tracking.RunNameTag {
			out = append(out, t)
		}
	}
	return out
}

func TestRunNameTagRenamesRun(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		run := mustRun(t, s, mustExperiment(t, s, "e"))
		if err := s.SetTag(ctx, all, run, tracking.RunNameTag, "renamed"); err != nil {
			t.Fatal(err)
		}
		r, _ := s.GetRun(ctx, all, run)
		if r.Info.RunName != "renamed" {
			t.Errorf("run name = %q after setting %s", r.Info.RunName, tracking.RunNameTag)
		}
		name := "again"
		status := "FAILED"
		end := int64(42)
		info, err := s.UpdateRun(ctx, all, run, RunUpdate{Name: &name, Status: &status, EndTime: &end})
		if err != nil {
			t.Fatal(err)
		}
		if info.RunName != "again" || info.Status != "FAILED" || info.EndTime == nil || *info.EndTime != 42 {
			t.Errorf("updated info = %+v", info)
		}
	})
}

func TestMetricHistoryPagesAndSampling(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		run := mustRun(t, s, mustExperiment(t, s, "e"))
		var pts []tracking.MetricPoint
		for i := 0; i < 1000; i++ {
			pts = append(pts, tracking.MetricPoint{Key: "m", Value: float64(i), Timestamp: int64(i), Step: int64(i)})
		}
		if err := s.LogBatch(ctx, all, run, tracking.Batch{Metrics: pts}); err != nil {
			t.Fatal(err)
		}
		var points []float64
		token := ""
		pages := 0
		for {
			next, err := s.MetricHistory(ctx, all, run, "m", 300, token, func(m mlflow.Metric) error {
				points = append(points, float64(m.Value))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			pages++
			if next == "" {
				break
			}
			token = next
		}
		if pages != 4 || len(points) != 1000 || points[999] != 999 {
			t.Errorf("paged history: %d pages, %d points", pages, len(points))
		}
		sample, err := s.MetricHistorySampled(ctx, all, []string{run}, "m", 10, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(sample) != 10 || sample[0].Step != 0 || sample[9].Step != 999 {
			t.Errorf("sample = %d points from %d to %d", len(sample), sample[0].Step, sample[len(sample)-1].Step)
		}
		ranged, err := s.MetricHistorySampled(ctx, all, []string{run}, "m", 2500, &[2]int64{10, 19})
		if err != nil {
			t.Fatal(err)
		}
		if len(ranged) != 10 || ranged[0].Step != 10 {
			t.Errorf("ranged sample = %d points", len(ranged))
		}
		_, err = s.MetricHistorySampled(ctx, all, []string{"ffffffffffffffffffffffffffffffff"}, "m", 10, nil)
		wantCode(t, err, mlflow.ResourceDoesNotExist)
	})
}

func TestInputsAndDatasets(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		exp := mustExperiment(t, s, "e")
		run := mustRun(t, s, exp)
		in := []mlflow.DatasetInput{{
			Tags:    []mlflow.KeyValue{{Key: DatasetContextTag, Value: "training"}},
			Dataset: mlflow.Dataset{Name: "iris", Digest: "abc", SourceType: "code", Source: "{}", Schema: "{}"},
		}}
		for i := 0; i < 2; i++ { // logging twice records it once
			if err := s.LogInputs(ctx, all, run, in, []string{"m-1"}, tracking.NewID); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.LogOutputs(ctx, all, run, []mlflow.ModelOutput{{ModelID: "m-2", Step: 3}}, tracking.NewID); err != nil {
			t.Fatal(err)
		}
		r, _ := s.GetRun(ctx, all, run)
		want := mlflow.RunInputs{DatasetInputs: in, ModelInputs: []mlflow.ModelInput{{ModelID: "m-1"}}}
		if diff := cmp.Diff(want, r.Inputs); diff != "" {
			t.Errorf("inputs (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(mlflow.RunOutputs{ModelOutputs: []mlflow.ModelOutput{{ModelID: "m-2", Step: 3}}}, r.Outputs); diff != "" {
			t.Errorf("outputs (-want +got):\n%s", diff)
		}
		sums, err := s.SearchDatasets(ctx, all, []int64{exp})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]mlflow.DatasetSummary{{ExperimentID: "1", Name: "iris", Digest: "abc", Context: "training"}}, sums); diff != "" {
			t.Errorf("summaries (-want +got):\n%s", diff)
		}
	})
}
