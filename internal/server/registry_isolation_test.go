package server

import (
	"net/url"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/gitlabtest"
)

// The registry's part of the isolation suite. Each seeded experiment has a
// registered model of the same name (so that the suite's refs and leak
// checks, which know experiment names, cover models too): tagged with the
// seed's experiment tag key and a secret value, version 1 registered from
// runs:/<the experiment's run>/model with a version tag and the alias
// "champion", and an MLmodel file in the run's artifacts.

// registryModelFile is the MLmodel content seeded for a project.
func registryModelFile(s seeded) string { return s.secret() + "-mlmodel" }

// seedRegistry gives experiment e of seed s its registered model.
func (w *world) seedRegistry(token string, p gitlabtest.Project, s seeded, e seededExp) {
	w.t.Helper()
	base := trackingURI(p)
	w.mustAPI(token, "POST", base, "/registered-models/create", obj{
		"name": e.base, "tags": []obj{kv(s.expTagKey, s.secret()+"-model-tag")},
	})
	run := e.runs[0]
	w.mustAPI(token, "POST", base, "/model-versions/create", obj{
		"name": e.base, "source": "runs:/" + run + "/model", "run_id": run,
		"tags": []obj{kv(s.runTagKey, s.secret()+"-version-tag")},
	})
	w.mustAPI(token, "POST", base, "/registered-models/alias", obj{"name": e.base, "alias": "champion", "version": "1"})
	r := w.do(request{method: "PUT", path: base + "/api/2.0/mlflow-artifacts/artifacts/" + e.id + "/" + run + "/artifacts/model/MLmodel",
		body: registryModelFile(s), token: token})
	if r.status != 200 {
		w.t.Fatalf("upload MLmodel: %d %s", r.status, r.raw)
	}
}

// seedRegistryAll gives every experiment of a seed its registered model.
func (w *world) seedRegistryAll(token string, p gitlabtest.Project, s seeded) {
	w.t.Helper()
	for _, e := range s.exps {
		w.seedRegistry(token, p, s, e)
	}
}

// withRegistrySpecs adds the isolation specs of the registry routes to
// specs (isolationSpecs calls it). Models are named like the experiments.
func withRegistrySpecs(specs map[string]routeSpec) map[string]routeSpec {
	nameQ := func(r refs) any { return url.Values{"name": {r.expName}} }
	versionQ := func(r refs) any { return url.Values{"name": {r.expName}, "version": {"1"}} }
	name := func(r refs) obj { return obj{"name": r.expName} }
	version := func(r refs) obj { return obj{"name": r.expName, "version": "1"} }
	with := func(o obj, kvs ...any) obj {
		for i := 0; i+1 < len(kvs); i += 2 {
			o[kvs[i].(string)] = kvs[i+1]
		}
		return o
	}
	full := func(r refs) string { return r.expFull }
	byName := func(r refs) any { return url.Values{"filter": {"name = '" + r.expFull + "'"}} }
	for k, v := range map[string]routeSpec{
		"POST /mlflow/registered-models/create": {
			build: func(r refs) any {
				return obj{"name": r.createName, "tags": []obj{kv("created", "yes")}}
			},
			// Another project's suffix is refused, naming the expected one.
			otherStatus: 400, otherCode: "INVALID_PARAMETER_VALUE",
		},
		"POST /mlflow/registered-models/rename": {
			build: func(r refs) any { return with(name(r), "new_name", r.newName) }, fresh: true,
		},
		"PATCH /mlflow/registered-models/update": {
			build: func(r refs) any { return with(name(r), "description", "d") }, fresh: true,
		},
		"DELETE /mlflow/registered-models/delete": {build: func(r refs) any { return name(r) }, fresh: true},
		"GET /mlflow/registered-models/get":       {build: nameQ, has: full},
		"GET /mlflow/registered-models/search":    {build: byName, search: true, has: full},
		"POST /mlflow/registered-models/get-latest-versions": {
			build: func(r refs) any { return with(name(r), "stages", []string{"None"}) }, has: full,
		},
		"GET /mlflow/registered-models/get-latest-versions": {build: nameQ, has: full},
		"POST /mlflow/registered-models/set-tag": {
			build: func(r refs) any { return with(name(r), "key", "newtag", "value", "v") }, fresh: true,
		},
		"DELETE /mlflow/registered-models/delete-tag": {
			build: func(r refs) any { return with(name(r), "key", r.expTagKey) }, fresh: true,
		},
		"POST /mlflow/registered-models/alias": {
			build: func(r refs) any { return with(name(r), "alias", "newalias", "version", "1") }, fresh: true,
		},
		"DELETE /mlflow/registered-models/alias": {
			build: func(r refs) any { return with(name(r), "alias", "champion") }, fresh: true,
		},
		"GET /mlflow/registered-models/alias": {
			build: func(r refs) any { return url.Values{"name": {r.expName}, "alias": {"champion"}} }, has: full,
		},

		"POST /mlflow/model-versions/create": {
			build: func(r refs) any {
				return with(name(r), "source", "runs:/"+r.runID+"/model", "run_id", r.runID)
			},
			fresh: true,
		},
		"PATCH /mlflow/model-versions/update": {
			build: func(r refs) any { return with(version(r), "description", "d") }, fresh: true,
		},
		"POST /mlflow/model-versions/transition-stage": {
			build: func(r refs) any { return with(version(r), "stage", "staging", "archive_existing_versions", true) }, fresh: true,
		},
		"DELETE /mlflow/model-versions/delete": {build: func(r refs) any { return version(r) }, fresh: true},
		"GET /mlflow/model-versions/get":       {build: versionQ, has: full},
		"GET /mlflow/model-versions/search":    {build: byName, search: true, has: full},
		"GET /mlflow/model-versions/get-download-uri": {
			build: versionQ, has: func(r refs) string { return "mlflow-artifacts:/" + r.expID + "/" + r.runID + "/artifacts/model" },
		},
		"POST /mlflow/model-versions/set-tag": {
			build: func(r refs) any { return with(version(r), "key", "newtag", "value", "v") }, fresh: true,
		},
		"DELETE /mlflow/model-versions/delete-tag": {
			build: func(r refs) any { return with(version(r), "key", r.runTagKey) }, fresh: true,
		},
		"GET /model-versions/get-artifact": {
			build: func(r refs) any { return url.Values{"name": {r.expName}, "version": {"1"}, "path": {"MLmodel"}} },
			has:   func(refs) string { return "secret-mlmodel" },
		},
	} {
		specs[k] = v
	}
	return specs
}
