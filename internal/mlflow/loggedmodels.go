package mlflow

// Logged models (MLflow 3): entities and request messages.

// LoggedModelStatuses are the LoggedModelStatus enum names, indexed by
// their proto number (0 is UNSPECIFIED).
var LoggedModelStatuses = []string{
	"LOGGED_MODEL_STATUS_UNSPECIFIED", "LOGGED_MODEL_PENDING", "LOGGED_MODEL_READY", "LOGGED_MODEL_UPLOAD_FAILED",
}

// LoggedModelInfo is the LoggedModelInfo message. Optional strings are
// pointers: MLflow emits them when the column is set, even to "".
type LoggedModelInfo struct {
	ModelID                string     `json:"model_id"`
	ExperimentID           string     `json:"experiment_id"`
	Name                   string     `json:"name"`
	CreationTimestampMs    int64      `json:"creation_timestamp_ms"`
	LastUpdatedTimestampMs int64      `json:"last_updated_timestamp_ms"`
	ArtifactURI            string     `json:"artifact_uri"`
	Status                 string     `json:"status"`
	ModelType              *string    `json:"model_type,omitempty"`
	SourceRunID            *string    `json:"source_run_id,omitempty"`
	StatusMessage          *string    `json:"status_message,omitempty"`
	Tags                   []KeyValue `json:"tags,omitempty"`
}

// LoggedModelData holds a logged model's params and metrics.
type LoggedModelData struct {
	Params  []KeyValue `json:"params,omitempty"`
	Metrics []Metric   `json:"metrics,omitempty"`
}

// LoggedModel is the LoggedModel message.
type LoggedModel struct {
	Info LoggedModelInfo `json:"info"`
	Data LoggedModelData `json:"data"`
}

// CreateLoggedModel is POST logged-models.
type CreateLoggedModel struct {
	ExperimentID String       `json:"experiment_id"`
	Name         String       `json:"name"`
	ModelType    String       `json:"model_type"`
	SourceRunID  String       `json:"source_run_id"`
	Params       []KeyValueIn `json:"params"`
	Tags         []KeyValueIn `json:"tags"`
}

// GetLoggedModel is GET logged-models/{model_id}.
type GetLoggedModel struct {
	AllowDeleted String `json:"allow_deleted"`
}

// FinalizeLoggedModel is PATCH logged-models/{model_id}.
type FinalizeLoggedModel struct {
	ModelID String `json:"model_id"`
	Status  Enum   `json:"status"`
}

// SetLoggedModelTags is PATCH logged-models/{model_id}/tags.
type SetLoggedModelTags struct {
	ModelID String       `json:"model_id"`
	Tags    []KeyValueIn `json:"tags"`
}

// LogLoggedModelParams is POST logged-models/{model_id}/params.
type LogLoggedModelParams struct {
	ModelID String       `json:"model_id"`
	Params  []KeyValueIn `json:"params"`
}

// LoggedModelDatasetIn is one entry of search's datasets.
type LoggedModelDatasetIn struct {
	DatasetName   String `json:"dataset_name"`
	DatasetDigest String `json:"dataset_digest"`
}

// LoggedModelOrderByIn is one entry of search's order_by.
type LoggedModelOrderByIn struct {
	FieldName     String `json:"field_name"`
	Ascending     Bool   `json:"ascending"`
	DatasetName   String `json:"dataset_name"`
	DatasetDigest String `json:"dataset_digest"`
}

// SearchLoggedModels is POST logged-models/search.
type SearchLoggedModels struct {
	ExperimentIDs []string               `json:"experiment_ids"`
	Filter        String                 `json:"filter"`
	Datasets      []LoggedModelDatasetIn `json:"datasets"`
	MaxResults    Int64                  `json:"max_results"`
	OrderBy       []LoggedModelOrderByIn `json:"order_by"`
	PageToken     String                 `json:"page_token"`
}

// LogModel is the 2.x POST runs/log-model.
type LogModel struct {
	RunRef
	ModelJSON String `json:"model_json"`
}
