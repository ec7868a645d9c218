package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/search"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/tenancy"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/tracking"
)

// storedValue is how MLflow stores a metric value: NaN as 0 with is_nan,
// ±Inf clamped to ±MaxFloat64.
func storedValue(v float64) (float64, bool) {
	switch {
	case math.IsNaN(v):
		return 0, true
	case math.IsInf(v, 1):
		return math.MaxFloat64, false
	case math.IsInf(v, -1):
		return -math.MaxFloat64, false
	}
	return v, false
}

func metricValue(v float64, isNaN bool) mlflow.Float64 {
	if isNaN {
		return mlflow.Float64(math.NaN())
	}
	return mlflow.Float64(v)
}

// insertMetrics writes metric history rows with multi-row inserts (exact
// duplicates, already stored or repeated in the batch, are ignored as MLflow
// does) and moves latest_metrics forward where (step, timestamp, value) is
// greater than what is stored.
func insertMetrics(ctx context.Context, tx *Tx, runID string, metrics []tracking.MetricPoint) error {
	if len(metrics) == 0 {
		return nil
	}
	type row struct {
		key       string
		value     float64
		isNaN     bool
		timestamp int64
		step      int64
	}
	seen := make(map[row]bool, len(metrics))
	rows := make([]row, 0, len(metrics))
	latest := map[string]row{}
	for _, m := range metrics {
		v, isNaN := storedValue(m.Value)
		r := row{m.Key, v, isNaN, m.Timestamp, m.Step}
		if !seen[r] {
			seen[r] = true
			rows = append(rows, r)
		}
		if cur, ok := latest[m.Key]; !ok || greater(r.step, r.timestamp, r.value, cur.step, cur.timestamp, cur.value) {
			latest[m.Key] = r
		}
	}
	const perStmt = 500 // 6 parameters a row: well under both drivers' limits
	for start := 0; start < len(rows); start += perStmt {
		chunk := rows[start:min(start+perStmt, len(rows))]
		var b strings.Builder
		b.WriteString(`INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES `)
		args := make([]any, 0, len(chunk)*6)
		for i, r := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?, ?)")
			args = append(args, r.key, r.value, r.timestamp, runID, r.step, r.isNaN)
		}
		b.WriteString(` ON CONFLICT DO NOTHING`)
		if _, err := tx.exec(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("insert metrics: %w", err)
		}
	}
	// Keys in a fixed order so concurrent batches lock rows in the same order.
	keys := make([]string, 0, len(latest))
	for k := range latest {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for start := 0; start < len(keys); start += perStmt {
		chunk := keys[start:min(start+perStmt, len(keys))]
		var b strings.Builder
		b.WriteString(`INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES `)
		args := make([]any, 0, len(chunk)*6)
		for i, k := range chunk {
			r := latest[k]
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?, ?)")
			args = append(args, r.key, r.value, r.timestamp, r.step, r.isNaN, runID)
		}
		b.WriteString(` ON CONFLICT (key, run_uuid) DO UPDATE SET value = excluded.value,
			timestamp = excluded.timestamp, step = excluded.step, is_nan = excluded.is_nan
			WHERE excluded.step > latest_metrics.step
			   OR (excluded.step = latest_metrics.step AND excluded.timestamp > latest_metrics.timestamp)
			   OR (excluded.step = latest_metrics.step AND excluded.timestamp = latest_metrics.timestamp
			       AND excluded.value > latest_metrics.value)`)
		if _, err := tx.exec(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("update latest metrics: %w", err)
		}
	}
	return nil
}

func greater(s1, t1 int64, v1 float64, s2, t2 int64, v2 float64) bool {
	if s1 != s2 {
		return s1 > s2
	}
	if t1 != t2 {
		return t1 > t2
	}
	return v1 > v2
}

// MetricHistory streams the history of one metric of a run, ordered by
// timestamp, step and value, calling emit for each point; limit 0 means no
// limit. It returns the next page token when more points remain.
// Errors: RESOURCE_DOES_NOT_EXIST (run), INVALID_PARAMETER_VALUE (token).
func (s *Store) MetricHistory(ctx context.Context, scope tenancy.Scope, runID, key string, limit int, pageToken string,
	emit func(mlflow.Metric) error) (string, error) {
	offset, err := search.DecodeOffset(pageToken)
	if err != nil {
		return "", err
	}
	if _, err := s.RunExperimentID(ctx, scope, runID); err != nil {
		return "", err
	}
	q := `SELECT value, timestamp, step, is_nan FROM metrics WHERE run_uuid = ? AND key = ?
		ORDER BY timestamp, step, value`
	args := []any{runID, key}
	if limit > 0 {
		q += ` LIMIT ? OFFSET ?`
		args = append(args, limit+1, offset)
	} else if offset > 0 {
		q += ` LIMIT -1 OFFSET ?`
		if s.dialect == Postgres {
			q = strings.Replace(q, "LIMIT -1 ", "", 1)
		}
		args = append(args, offset)
	}
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return "", fmt.Errorf("metric history: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var m mlflow.Metric
		var v float64
		var isNaN bool
		if err := rows.Scan(&v, &m.Timestamp, &m.Step, &isNaN); err != nil {
			return "", mapErr(err)
		}
		n++
		if limit > 0 && n > limit {
			return search.EncodeOffset(offset + limit), nil
		}
		m.Key, m.Value, m.RunID = key, metricValue(v, isNaN), runID
		if err := emit(m); err != nil {
			return "", err
		}
	}
	return "", mapErr(rows.Err())
}

// MetricHistoryBulk returns up to limit points of one metric across runs,
// ordered by run, timestamp, step and value (the legacy bulk route).
func (s *Store) MetricHistoryBulk(ctx context.Context, scope tenancy.Scope, runIDs []string, key string, limit int) ([]mlflow.Metric, error) {
	args := []any{key}
	for _, id := range runIDs {
		if _, err := s.RunExperimentID(ctx, scope, id); err != nil {
			return nil, err
		}
		args = append(args, id)
	}
	args = append(args, limit)
	rows, err := s.query(ctx, `SELECT run_uuid, value, timestamp, step, is_nan FROM metrics
		WHERE key = ? AND run_uuid IN (`+placeholders(len(runIDs))+`)
		ORDER BY run_uuid, timestamp, step, value LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("metric history bulk: %w", err)
	}
	var out []mlflow.Metric
	err = eachRow(rows, func() error {
		var m mlflow.Metric
		var v float64
		var isNaN bool
		if err := rows.Scan(&m.RunID, &v, &m.Timestamp, &m.Step, &isNaN); err != nil {
			return err
		}
		m.Key, m.Value = key, metricValue(v, isNaN)
		out = append(out, m)
		return nil
	})
	return out, err
}

// MetricHistorySampled returns, per run, at most maxResults points of a
// metric evenly sampled over the rows ordered by (step, timestamp, value,
// is_nan), always keeping the last point, optionally within
// [startStep, endStep]. Sampling runs in SQL with window functions, so the
// server holds only the sample.
// Errors: RESOURCE_DOES_NOT_EXIST for an unknown run.
func (s *Store) MetricHistorySampled(ctx context.Context, scope tenancy.Scope, runIDs []string, key string, maxResults int,
	stepRange *[2]int64) ([]mlflow.Metric, error) {
	var out []mlflow.Metric
	for _, id := range runIDs {
		if _, err := s.RunExperimentID(ctx, scope, id); err != nil {
			return nil, err
		}
	}
	for _, id := range runIDs {
		where := `run_uuid = ? AND key = ?`
		args := []any{id, key}
		if stepRange != nil {
			where += ` AND step >= ? AND step <= ?`
			args = append(args, stepRange[0], stepRange[1])
		}
		order := `step, timestamp, value, is_nan`
		q := `SELECT value, timestamp, step, is_nan FROM (
				SELECT value, timestamp, step, is_nan,
					row_number() OVER (PARTITION BY bucket ORDER BY ` + order + `) AS rn
				FROM (SELECT value, timestamp, step, is_nan, ntile(?) OVER (ORDER BY ` + order + `) AS bucket
					FROM metrics WHERE ` + where + `) b
			) r WHERE rn = 1 ORDER BY ` + order
		qargs := append([]any{maxResults}, args...)
		rows, err := s.query(ctx, q, qargs...)
		if err != nil {
			return nil, fmt.Errorf("sample metric history: %w", err)
		}
		var pts []mlflow.Metric
		var nan []bool
		err = eachRow(rows, func() error {
			var m mlflow.Metric
			var v float64
			var isNaN bool
			if err := rows.Scan(&v, &m.Timestamp, &m.Step, &isNaN); err != nil {
				return err
			}
			m.Key, m.Value, m.RunID = key, mlflow.Float64(v), id
			pts = append(pts, m)
			nan = append(nan, isNaN)
			return nil
		})
		if err != nil {
			return nil, err
		}
		if len(pts) > 0 {
			var last mlflow.Metric
			var lv float64
			var lnan bool
			err := s.queryRow(ctx, `SELECT value, timestamp, step, is_nan FROM metrics WHERE `+where+`
				ORDER BY step DESC, timestamp DESC, value DESC, is_nan DESC LIMIT 1`, args...).
				Scan(&lv, &last.Timestamp, &last.Step, &lnan)
			if err != nil && err != sql.ErrNoRows {
				return nil, mapErr(err)
			}
			if err == nil {
				last.Key, last.Value, last.RunID = key, mlflow.Float64(lv), id
				i := len(pts) - 1
				same := pts[i].Step == last.Step && pts[i].Timestamp == last.Timestamp &&
					nan[i] == lnan && (lnan || pts[i].Value == last.Value)
				if !same {
					if len(pts) >= maxResults {
						pts[i], nan[i] = last, lnan
					} else {
						pts = append(pts, last)
						nan = append(nan, lnan)
					}
				}
			}
		}
		for i := range pts {
			if nan[i] {
				pts[i].Value = mlflow.Float64(math.NaN())
			}
		}
		out = append(out, pts...)
	}
	return out, nil
}
