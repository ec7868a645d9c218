// Package registry holds the rules of MLflow's model registry: the wire
// shapes of registered models and model versions, name, tag, version and
// alias validation, stage names, and the reading of model version sources.
// It is pure: the store does the I/O.
package registry

import (
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
)

// Model version stages as stored in model_versions.current_stage.
const (
	StageNone            = "None"
	StageStaging         = "Staging"
	StageProduction      = "Production"
	StageArchived        = "Archived"
	StageDeletedInternal = "Deleted_Internal"
)

// Stages are the stages a client may name, in MLflow's order.
var Stages = []string{StageNone, StageStaging, StageProduction, StageArchived}

// ActiveStages are the stages archive_existing_versions accepts.
var ActiveStages = []string{StageStaging, StageProduction}

// Model version statuses.
const (
	StatusReady = "READY"
)

// Tags with a meaning to MLflow.
const (
	// IsPromptTag marks a registered model (and its versions) as a prompt.
	IsPromptTag = "mlflow.prompt.is_prompt"
	// PromptTextTag holds a prompt version's text.
	PromptTextTag = "mlflow.prompt.text"
	// ModelVersionsTag lists, on a logged model, the versions registered from it.
	ModelVersionsTag = "mlflow.modelVersions"
)

// Values redacted from a soft-deleted model version.
const (
	RedactedSource  = "REDACTED-SOURCE-PATH"
	RedactedRunID   = "REDACTED-RUN-ID"
	RedactedRunLink = "REDACTED-RUN-LINK"
)

// Search limits (MLflow's SEARCH_REGISTERED_MODEL_* and SEARCH_MODEL_VERSION_*,
// and the proto defaults the REST API applies).
const (
	DefaultSearchModels   = 100
	MaxSearchModels       = 1000
	DefaultSearchVersions = 200_000
	MaxSearchVersions     = 200_000
)

// Alias is one entry of RegisteredModel.aliases.
type Alias struct {
	Alias   string `json:"alias"`
	Version string `json:"version"`
}

// RegisteredModel is the RegisteredModel message.
type RegisteredModel struct {
	Name                 string            `json:"name"`
	CreationTimestamp    *int64            `json:"creation_timestamp,omitempty"`
	LastUpdatedTimestamp *int64            `json:"last_updated_timestamp,omitempty"`
	Description          string            `json:"description,omitempty"`
	LatestVersions       []ModelVersion    `json:"latest_versions,omitempty"`
	Tags                 []mlflow.KeyValue `json:"tags,omitempty"`
	Aliases              []Alias           `json:"aliases,omitempty"`
}

// ModelVersion is the ModelVersion message. Status is always emitted: an
// omitted status reads as PENDING_REGISTRATION, which makes clients wait.
type ModelVersion struct {
	Name                 string            `json:"name"`
	Version              string            `json:"version"`
	CreationTimestamp    int64             `json:"creation_timestamp"`
	LastUpdatedTimestamp *int64            `json:"last_updated_timestamp,omitempty"`
	UserID               *string           `json:"user_id,omitempty"`
	CurrentStage         string            `json:"current_stage,omitempty"`
	Description          *string           `json:"description,omitempty"`
	Source               *string           `json:"source,omitempty"`
	RunID                *string           `json:"run_id,omitempty"`
	RunLink              *string           `json:"run_link,omitempty"`
	Status               string            `json:"status"`
	StatusMessage        string            `json:"status_message,omitempty"`
	Tags                 []mlflow.KeyValue `json:"tags,omitempty"`
	Aliases              []string          `json:"aliases,omitempty"`
}

// IsPrompt reports whether tags mark a prompt: the last value of
// mlflow.prompt.is_prompt, case-insensitively "true".
func IsPrompt(tags []mlflow.KeyValue) bool {
	v := "false"
	for _, t := range tags {
		if t.Key == IsPromptTag {
			v = t.Value
		}
	}
	return equalFold(v, "true")
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// DedupTags keeps the last value of each key, in first-seen key order, as
// MLflow's create calls do.
func DedupTags(tags []mlflow.KeyValue) []mlflow.KeyValue {
	idx := map[string]int{}
	var out []mlflow.KeyValue
	for _, t := range tags {
		if i, ok := idx[t.Key]; ok {
			out[i].Value = t.Value
			continue
		}
		idx[t.Key] = len(out)
		out = append(out, t)
	}
	return out
}
