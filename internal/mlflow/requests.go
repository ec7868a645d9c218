package mlflow

// Request messages of the tracking service, decoded from JSON bodies or GET
// query strings. Field names are the proto field names. Optional scalars use
// Int64/Double/Bool/String so that "absent" and "zero" differ.

// CreateExperiment is POST experiments/create.
type CreateExperiment struct {
	Name             String     `json:"name"`
	ArtifactLocation String     `json:"artifact_location"`
	Tags             []KeyValue `json:"tags"`
}

// ExperimentRef carries one experiment id: experiments/get, delete, restore.
type ExperimentRef struct {
	ExperimentID String `json:"experiment_id"`
}

// GetExperimentByName is GET experiments/get-by-name.
type GetExperimentByName struct {
	ExperimentName String `json:"experiment_name"`
}

// UpdateExperiment is POST experiments/update.
type UpdateExperiment struct {
	ExperimentID String `json:"experiment_id"`
	NewName      String `json:"new_name"`
}

// SetExperimentTag is POST experiments/set-experiment-tag (and, without
// value, delete-experiment-tag).
type SetExperimentTag struct {
	ExperimentID String `json:"experiment_id"`
	Key          String `json:"key"`
	Value        String `json:"value"`
}

// SearchExperiments is experiments/search (GET or POST).
type SearchExperiments struct {
	MaxResults Int64    `json:"max_results"`
	PageToken  String   `json:"page_token"`
	Filter     String   `json:"filter"`
	OrderBy    []string `json:"order_by"`
	ViewType   Enum     `json:"view_type"`
}

// CreateRun is POST runs/create.
type CreateRun struct {
	ExperimentID String     `json:"experiment_id"`
	UserID       String     `json:"user_id"`
	RunName      String     `json:"run_name"`
	StartTime    Int64      `json:"start_time"`
	Tags         []KeyValue `json:"tags"`
}

// RunRef carries one run id under either of its names.
type RunRef struct {
	RunID   String `json:"run_id"`
	RunUUID String `json:"run_uuid"`
}

// ID returns run_id, or run_uuid when run_id is empty.
func (r RunRef) ID() string {
	if r.RunID.V != "" {
		return r.RunID.V
	}
	return r.RunUUID.V
}

// UpdateRun is POST runs/update.
type UpdateRun struct {
	RunRef
	Status  Enum   `json:"status"`
	EndTime Int64  `json:"end_time"`
	RunName String `json:"run_name"`
}

// LogMetric is POST runs/log-metric.
type LogMetric struct {
	RunRef
	Key           String `json:"key"`
	Value         Double `json:"value"`
	Timestamp     Int64  `json:"timestamp"`
	Step          Int64  `json:"step"`
	ModelID       String `json:"model_id"`
	DatasetName   String `json:"dataset_name"`
	DatasetDigest String `json:"dataset_digest"`
}

// SetTag is POST runs/set-tag, and has the shape of runs/log-parameter
// and runs/delete-tag (without value) too.
type SetTag struct {
	RunRef
	Key   String `json:"key"`
	Value String `json:"value"`
}

// MetricIn is a metric inside log-batch.
type MetricIn struct {
	Key           String `json:"key"`
	Value         Double `json:"value"`
	Timestamp     Int64  `json:"timestamp"`
	Step          Int64  `json:"step"`
	ModelID       String `json:"model_id"`
	DatasetName   String `json:"dataset_name"`
	DatasetDigest String `json:"dataset_digest"`
	RunID         String `json:"run_id"`
}

// KeyValueIn is a param or tag inside log-batch, with presence kept.
type KeyValueIn struct {
	Key   String `json:"key"`
	Value String `json:"value"`
}

// LogBatch is POST runs/log-batch.
type LogBatch struct {
	RunRef
	Metrics []MetricIn   `json:"metrics"`
	Params  []KeyValueIn `json:"params"`
	Tags    []KeyValueIn `json:"tags"`
}

// DatasetIn is a dataset inside log-inputs.
type DatasetIn struct {
	Name       String `json:"name"`
	Digest     String `json:"digest"`
	SourceType String `json:"source_type"`
	Source     String `json:"source"`
	Schema     String `json:"schema"`
	Profile    String `json:"profile"`
}

// DatasetInputIn is a dataset input inside log-inputs.
type DatasetInputIn struct {
	Tags    []KeyValueIn `json:"tags"`
	Dataset *DatasetIn   `json:"dataset"`
}

// ModelRefIn names a logged model in log-inputs / outputs.
type ModelRefIn struct {
	ModelID String `json:"model_id"`
	Step    Int64  `json:"step"`
}

// LogInputs is POST runs/log-inputs.
type LogInputs struct {
	RunRef
	Datasets []DatasetInputIn `json:"datasets"`
	Models   []ModelRefIn     `json:"models"`
}

// LogOutputs is POST runs/outputs.
type LogOutputs struct {
	RunRef
	Models []ModelRefIn `json:"models"`
}

// SearchRuns is POST runs/search.
type SearchRuns struct {
	ExperimentIDs []string `json:"experiment_ids"`
	Filter        String   `json:"filter"`
	RunViewType   Enum     `json:"run_view_type"`
	MaxResults    Int64    `json:"max_results"`
	OrderBy       []string `json:"order_by"`
	PageToken     String   `json:"page_token"`
}

// GetMetricHistory is GET metrics/get-history.
type GetMetricHistory struct {
	RunRef
	MetricKey  String `json:"metric_key"`
	PageToken  String `json:"page_token"`
	MaxResults Int64  `json:"max_results"`
}

// GetMetricHistoryBulk is GET metrics/get-history-bulk.
type GetMetricHistoryBulk struct {
	RunIDs     []string `json:"run_id"`
	MetricKey  String   `json:"metric_key"`
	MaxResults Int64    `json:"max_results"`
}

// GetMetricHistoryBulkInterval is GET metrics/get-history-bulk-interval.
type GetMetricHistoryBulkInterval struct {
	RunIDs     []string `json:"run_ids"`
	MetricKey  String   `json:"metric_key"`
	StartStep  Int64    `json:"start_step"`
	EndStep    Int64    `json:"end_step"`
	MaxResults Int64    `json:"max_results"`
}

// SearchDatasets is POST experiments/search-datasets.
type SearchDatasets struct {
	ExperimentIDs []string `json:"experiment_ids"`
}
