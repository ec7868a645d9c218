package mlflow

// Lifecycle stages of experiments, runs and logged models.
const (
	StageActive  = "active"
	StageDeleted = "deleted"
)

// Run statuses (RunStatus enum names).
var RunStatuses = []string{"RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"}

// ViewType selects lifecycle stages in searches (ACTIVE_ONLY, DELETED_ONLY, ALL).
type ViewType int

// ViewType values, numbered as in the proto.
const (
	ActiveOnly  ViewType = 1
	DeletedOnly ViewType = 2
	AllStages   ViewType = 3
)

// Stages returns the lifecycle stages a view type selects.
func (v ViewType) Stages() []string {
	switch v {
	case DeletedOnly:
		return []string{StageDeleted}
	case AllStages:
		return []string{StageActive, StageDeleted}
	}
	return []string{StageActive}
}

// KeyValue is a tag or param: {"key", "value"}.
type KeyValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Experiment is the Experiment message.
type Experiment struct {
	ExperimentID     string     `json:"experiment_id"`
	Name             string     `json:"name"`
	ArtifactLocation string     `json:"artifact_location,omitempty"`
	LifecycleStage   string     `json:"lifecycle_stage"`
	LastUpdateTime   *int64     `json:"last_update_time,omitempty"`
	CreationTime     *int64     `json:"creation_time,omitempty"`
	Tags             []KeyValue `json:"tags,omitempty"`
}

// RunInfo is the RunInfo message; run_id and run_uuid carry the same value.
type RunInfo struct {
	RunID          string `json:"run_id"`
	RunUUID        string `json:"run_uuid"`
	RunName        string `json:"run_name"`
	ExperimentID   string `json:"experiment_id"`
	UserID         string `json:"user_id"`
	Status         string `json:"status"`
	StartTime      int64  `json:"start_time"`
	EndTime        *int64 `json:"end_time,omitempty"`
	ArtifactURI    string `json:"artifact_uri"`
	LifecycleStage string `json:"lifecycle_stage"`
}

// Metric is the Metric message (latest value in run data, or a history point).
type Metric struct {
	Key           string  `json:"key"`
	Value         Float64 `json:"value"`
	Timestamp     int64   `json:"timestamp"`
	Step          int64   `json:"step"`
	DatasetName   string  `json:"dataset_name,omitempty"`
	DatasetDigest string  `json:"dataset_digest,omitempty"`
	ModelID       string  `json:"model_id,omitempty"`
	RunID         string  `json:"run_id,omitempty"`
}

// RunData holds a run's latest metrics, params and tags.
type RunData struct {
	Metrics []Metric   `json:"metrics,omitempty"`
	Params  []KeyValue `json:"params,omitempty"`
	Tags    []KeyValue `json:"tags,omitempty"`
}

// Dataset is the Dataset message.
type Dataset struct {
	Name       string `json:"name"`
	Digest     string `json:"digest"`
	SourceType string `json:"source_type"`
	Source     string `json:"source"`
	Schema     string `json:"schema,omitempty"`
	Profile    string `json:"profile,omitempty"`
}

// DatasetInput is a dataset used by a run, with its input tags.
type DatasetInput struct {
	Tags    []KeyValue `json:"tags,omitempty"`
	Dataset Dataset    `json:"dataset"`
}

// ModelInput names a logged model used by a run.
type ModelInput struct {
	ModelID string `json:"model_id"`
}

// ModelOutput names a logged model produced by a run at a step.
type ModelOutput struct {
	ModelID string `json:"model_id"`
	Step    int64  `json:"step"`
}

// RunInputs lists what a run consumed.
type RunInputs struct {
	DatasetInputs []DatasetInput `json:"dataset_inputs,omitempty"`
	ModelInputs   []ModelInput   `json:"model_inputs,omitempty"`
}

// RunOutputs lists what a run produced.
type RunOutputs struct {
	ModelOutputs []ModelOutput `json:"model_outputs,omitempty"`
}

// Run is the Run message.
type Run struct {
	Info    RunInfo    `json:"info"`
	Data    RunData    `json:"data"`
	Inputs  RunInputs  `json:"inputs"`
	Outputs RunOutputs `json:"outputs"`
}

// DatasetSummary is one entry of experiments/search-datasets.
type DatasetSummary struct {
	ExperimentID string `json:"experiment_id"`
	Name         string `json:"name"`
	Digest       string `json:"digest"`
	Context      string `json:"context,omitempty"`
}
