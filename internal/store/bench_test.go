package store

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/tenancy"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/tracking"
)

// Benchmarks on SQLite, to track the hot paths over time:
//
//	go test -run XXX -bench . -benchmem ./internal/store/

func benchStore(b *testing.B) *Store {
	b.Helper()
	return mustOpen(b, "sqlite:///"+filepath.Join(b.TempDir(), "bench.db"))
}

func benchRun(b *testing.B, s *Store, exp int64) string {
	b.Helper()
	id := tracking.NewID()
	if _, err := s.CreateRun(context.Background(), all, NewRun{ID: id, ExperimentID: exp, Name: "r", StartTime: 1}); err != nil {
		b.Fatal(err)
	}
	return id
}

// BenchmarkLogBatch logs batches of 100 metrics, 10 params and 10 tags, the
// shape autologging sends.
func BenchmarkLogBatch(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	id, err := s.CreateExperiment(ctx, "bench", "", nil)
	if err != nil {
		b.Fatal(err)
	}
	exp, _ := strconv.ParseInt(id, 10, 64)
	run := benchRun(b, s, exp)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		batch := tracking.Batch{}
		for k := 0; k < 100; k++ {
			batch.Metrics = append(batch.Metrics, tracking.MetricPoint{Key: "m" + strconv.Itoa(k%10), Value: float64(k), Timestamp: int64(i), Step: int64(i*10 + k/10)})
		}
		for k := 0; k < 10; k++ {
			batch.Params = append(batch.Params, mlflow.KeyValue{Key: fmt.Sprintf("p%d_%d", i, k), Value: "v"})
			batch.Tags = append(batch.Tags, mlflow.KeyValue{Key: "t" + strconv.Itoa(k), Value: strconv.Itoa(i)})
		}
		if err := s.LogBatch(ctx, all, run, batch); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSearchRuns searches 1000 runs (20 params, 10 tags, 10 metrics
// each) with a metric and param filter, ordered by a metric, 100 a page.
func BenchmarkSearchRuns(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	id, err := s.CreateExperiment(ctx, "bench (7)", "", nil)
	if err != nil {
		b.Fatal(err)
	}
	exp, _ := strconv.ParseInt(id, 10, 64)
	for r := 0; r < 1000; r++ {
		run := benchRun(b, s, exp)
		batch := tracking.Batch{}
		for k := 0; k < 10; k++ {
			batch.Metrics = append(batch.Metrics, tracking.MetricPoint{Key: "m" + strconv.Itoa(k), Value: float64((r*7+k)%100) / 100, Timestamp: 1})
			batch.Tags = append(batch.Tags, mlflow.KeyValue{Key: "t" + strconv.Itoa(k), Value: strconv.Itoa(r % 3)})
		}
		for k := 0; k < 20; k++ {
			batch.Params = append(batch.Params, mlflow.KeyValue{Key: "p" + strconv.Itoa(k), Value: "v" + strconv.Itoa(r%2)})
		}
		if err := s.LogBatch(ctx, all, run, batch); err != nil {
			b.Fatal(err)
		}
	}
	for _, c := range []struct {
		name   string
		filter string
		order  []string
		max    int
		scope  tenancy.Scope
	}{
		{"filtered", "metrics.m0 > 0.5 and params.p1 = 'v1'", []string{"metrics.m0 DESC"}, 100, all},
		{"all-1000", "", nil, 1000, all},
		{"project-filtered", "metrics.m0 > 0.5 and params.p1 = 'v1'", []string{"metrics.m0 DESC"}, 100, tenancy.Project(7, "g/p")},
		{"project-all-1000", "", nil, 1000, tenancy.Project(7, "g/p")},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				runs, _, err := s.SearchRuns(ctx, RunSearch{ExperimentIDs: []int64{exp}, Stages: []string{"active"},
					Filter: c.filter, OrderBy: c.order, MaxResults: c.max, Scope: c.scope})
				if err != nil {
					b.Fatal(err)
				}
				if len(runs) == 0 {
					b.Fatal("no runs found")
				}
			}
		})
	}
}
