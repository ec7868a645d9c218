"""The model registry with the real client (3.x and 2.x): registered models, versions
registered from runs, name completion in a project, tags, aliases, stages, searches with
filters, deletes, and SharingHub's own catalogue call replayed.

Every expectation encodes what MLflow itself does (check with
MLFLOW_SHARINGHUB_E2E_SERVER=mlflow, see conftest.py); the tenancy ones only run on ours.
"""

from __future__ import annotations

import json
import os
import warnings

import pytest
import requests

import mlflow
from conftest import Server, _server_env, free_port, new_database
from helpers import MLFLOW_MAJOR, raises_mlflow

pytestmark = pytest.mark.usefixtures("mlflow_env")

warnings.filterwarnings("ignore", category=FutureWarning)


def _run_with_model(uid: str, what: str) -> tuple[str, str]:
    """A run with an MLmodel file under artifact path "model": (run id, experiment id)."""
    exp = mlflow.set_experiment(f"reg-{what}-{uid}").experiment_id
    with mlflow.start_run() as run:
        mlflow.log_text("artifact_path: model\nflavors:\n  python_function: {}\n", "model/MLmodel")
    return run.info.run_id, exp


def test_registered_model_lifecycle(client, tracking, uid):
    short = f"churn-{uid}"
    full = tracking.exp_name(short)
    m = client.create_registered_model(short, tags={"team": "a", "tmp": "x"}, description="first")
    assert m.name == full
    assert m.tags == tracking.exp_tags({"team": "a", "tmp": "x"})
    assert m.description == "first"
    with raises_mlflow("RESOURCE_ALREADY_EXISTS"):
        client.create_registered_model(short)

    # Every call that takes the name completes it.
    got = client.get_registered_model(short)
    assert got.name == full and got.latest_versions == []
    client.update_registered_model(short, description="second")
    client.set_registered_model_tag(short, "team", "b")
    client.delete_registered_model_tag(short, "tmp")
    got = client.get_registered_model(full)
    assert got.description == "second"
    assert got.tags == tracking.exp_tags({"team": "b"})

    found = client.search_registered_models(filter_string=f"name = '{full}'")
    assert [r.name for r in found] == [full]
    found = client.search_registered_models(filter_string=f"name LIKE 'churn-{uid}%' AND tags.team = 'b'")
    assert [r.name for r in found] == [full]
    assert client.search_registered_models(filter_string=f"name = '{full}' AND tags.team = 'a'") == []
    with raises_mlflow("INVALID_PARAMETER_VALUE", "Invalid attribute key"):
        client.search_registered_models(filter_string="run_id = 'x'")

    client.rename_registered_model(short, f"churn2-{uid}")
    assert client.get_registered_model(f"churn2-{uid}").name == tracking.exp_name(f"churn2-{uid}")
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.get_registered_model(short)
    client.delete_registered_model(f"churn2-{uid}")
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.get_registered_model(f"churn2-{uid}")


def test_register_from_run_aliases_stages(client, tracking, uid):
    run_id, exp = _run_with_model(uid, "run")
    short = f"clf-{uid}"
    full = tracking.exp_name(short)

    v1 = mlflow.register_model(f"runs:/{run_id}/model", short)
    assert v1.name == full and v1.version == "1" and v1.run_id == run_id
    assert v1.status == "READY" and v1.current_stage == "None"
    v2 = mlflow.register_model(f"runs:/{run_id}/model", short, tags={"kind": "retrained"})
    assert v2.version == "2" and v2.tags == {"kind": "retrained"}
    uri = client.get_model_version_download_uri(short, "1")
    assert uri.endswith(f"/{run_id}/artifacts/model"), uri

    # Aliases.
    client.set_registered_model_alias(short, "champion", "1")
    client.set_registered_model_alias(short, "champion", "2")  # repoints
    got = client.get_model_version_by_alias(short, "champion")
    assert got.version == "2" and got.aliases == ["champion"]
    assert client.get_registered_model(short).aliases == {"champion": "2"}
    with raises_mlflow("INVALID_PARAMETER_VALUE", "reserved"):
        client.set_registered_model_alias(short, "latest", "1")
    client.delete_registered_model_alias(short, "champion")
    with raises_mlflow("INVALID_PARAMETER_VALUE", "not found"):
        client.get_model_version_by_alias(short, "champion")

    # Stages (deprecated in MLflow 3, still served).
    client.transition_model_version_stage(short, "1", "production")
    mv = client.transition_model_version_stage(short, "2", "Production", archive_existing_versions=True)
    assert mv.current_stage == "Production"
    assert client.get_model_version(short, "1").current_stage == "Archived"
    latest = client.get_latest_versions(short, stages=["Production"])
    assert [v.version for v in latest] == ["2"]
    latest = {v.current_stage: v.version for v in client.get_registered_model(short).latest_versions}
    assert latest == {"Production": "2", "Archived": "1"}

    # Version tags, descriptions, searches.
    client.set_model_version_tag(short, "1", "checked", "yes")
    client.update_model_version(short, "1", description="the first")
    assert client.get_model_version(short, "1").description == "the first"
    found = client.search_model_versions(f"name = '{full}' AND tags.checked = 'yes'")
    assert [v.version for v in found] == ["1"]
    found = client.search_model_versions(f"run_id = '{run_id}'", order_by=["version_number ASC"])
    assert [(v.name, v.version) for v in found] == [(full, "1"), (full, "2")]
    found = client.search_model_versions(f"name = '{full}' AND version_number > 1")
    assert [v.version for v in found] == ["2"]
    client.delete_model_version_tag(short, "1", "checked")
    assert client.search_model_versions(f"name = '{full}' AND tags.checked = 'yes'") == []

    # Deleting a version never frees its number.
    client.delete_model_version(short, "2")
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.get_model_version(short, "2")
    v3 = mlflow.register_model(f"runs:/{run_id}/model", short)
    assert v3.version == "3"
    assert [v.version for v in client.search_model_versions(f"name = '{full}'")] == ["3", "1"]


def test_project_naming_and_sharinghub_catalogue(client, tracking, uid):
    if not tracking.suffix:
        pytest.skip("project scoping is ours")
    run_id, _ = _run_with_model(uid, "hub")
    short = f"hub-{uid}"
    mlflow.register_model(f"runs:/{run_id}/model", short)
    full = tracking.exp_name(short)

    # Another project's suffix: refused on create, unknown everywhere else.
    with raises_mlflow("INVALID_PARAMETER_VALUE", tracking.suffix.strip()):
        client.create_registered_model(f"x-{uid} (999)")
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.get_registered_model(f"x-{uid} (999)")

    # What SharingHub asks: the project's models with their latest versions.
    r = requests.get(tracking.uri + "api/2.0/mlflow/registered-models/search",
                     headers=tracking.headers(), params={"max_results": 1000}, timeout=30)
    assert r.status_code == 200, r.text
    models = r.json()["registered_models"]
    assert all(m["name"].endswith(tracking.suffix) for m in models)
    mine = [m for m in models if m["name"] == full]
    assert len(mine) == 1
    assert [(v["version"], v["status"], v["run_id"]) for v in mine[0]["latest_versions"]] == [("1", "READY", run_id)]
    assert {"key": "project", "value": tracking.owner_tags["project"]} in mine[0]["tags"]
    # Without credentials: asked to sign in.
    r = requests.get(tracking.uri + "api/2.0/mlflow/registered-models/search", timeout=30)
    assert r.status_code == 401


# ---------------------------------------------------------------------------------------
# A real sklearn model: log_model(registered_model_name=), register_model, load by alias,
# version and stage, and what SharingHub reads (catalogue and MLmodel) replayed.


def _sklearn_model():
    np = pytest.importorskip("numpy")
    linear = pytest.importorskip("sklearn.linear_model")
    X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0], [4.0, 1.0], [5.0, 0.0]])
    y = np.array([0, 0, 0, 1, 1, 1])
    return linear.LogisticRegression().fit(X, y), X


def _log_sklearn(model, registered_model_name=None):
    import mlflow.sklearn

    kw = {"name": "model"} if MLFLOW_MAJOR >= 3 else {"artifact_path": "model"}
    # Explicit requirements: no (slow) inference of the environment.
    return mlflow.sklearn.log_model(model, registered_model_name=registered_model_name,
                                    pip_requirements=["scikit-learn"], **kw)


def _predicts(uri: str, X, want) -> None:
    loaded = mlflow.pyfunc.load_model(uri)
    assert list(loaded.predict(X)) == list(want), uri


def test_sklearn_registered_model_end_to_end(client, tracking, uid):
    model, X = _sklearn_model()
    want = model.predict(X)
    short = f"churn-{uid}"
    full = tracking.exp_name(short)
    mlflow.set_experiment(f"reg-sk-{uid}")
    with mlflow.start_run() as run:
        info = _log_sklearn(model, registered_model_name=short)
    run_id = run.info.run_id
    assert str(info.registered_model_version) == "1"

    # Stored with the project's suffix, found again by the short name.
    rm = client.get_registered_model(short)
    assert rm.name == full
    assert [(v.version, v.run_id) for v in rm.latest_versions] == [("1", run_id)]
    v1 = client.get_model_version(short, "1")
    assert v1.status == "READY" and v1.run_id == run_id
    if MLFLOW_MAJOR >= 3:
        # 3.x registers the logged model.
        assert v1.source == f"models:/{info.model_id}"
    else:
        assert v1.source.endswith(f"/{run_id}/artifacts/model"), v1.source

    # register_model from the run's artifacts and (3.x) from the logged model.
    if MLFLOW_MAJOR >= 3:
        # 3.x logs the model outside the run's artifacts: give the run a copy to register.
        with mlflow.start_run(run_id=run_id):
            import tempfile

            with tempfile.TemporaryDirectory() as d:
                mlflow.sklearn.save_model(model, f"{d}/model", pip_requirements=["scikit-learn"])
                mlflow.log_artifacts(f"{d}/model", "model")
    v2 = mlflow.register_model(f"runs:/{run_id}/model", short)
    assert (v2.name, v2.version, v2.run_id) == (full, "2", run_id)
    assert v2.source.endswith(f"/{run_id}/artifacts/model"), v2.source
    if MLFLOW_MAJOR >= 3:
        v3 = mlflow.register_model(f"models:/{info.model_id}", short)
        assert (v3.name, v3.version, v3.source) == (full, "3", f"models:/{info.model_id}")
    else:
        v3 = mlflow.register_model(f"runs:/{run_id}/model", short)
        assert (v3.name, v3.version) == (full, "3")
    assert v3.run_id == run_id
    last = "3"

    # Load by alias, by version, by stage: the same predictions as the original.
    client.set_registered_model_alias(short, "champion", "1")
    assert client.get_model_version_by_alias(short, "champion").version == "1"
    assert client.get_model_version(short, "1").aliases == ["champion"]
    # As MLflow: no aliases in searched versions nor in a model's latest_versions.
    assert [v.aliases for v in client.search_model_versions(f"name = '{full}' AND version_number = 1")] == [[]]
    _predicts(f"models:/{short}@champion", X, want)
    _predicts(f"models:/{short}/1", X, want)
    _predicts(f"models:/{short}/2", X, want)

    client.transition_model_version_stage(short, "1", "Production")
    client.transition_model_version_stage(short, "2", "Staging")
    mv = client.transition_model_version_stage(short, last, "Production", archive_existing_versions=True)
    assert mv.current_stage == "Production"
    stages = {v.version: v.current_stage for v in client.search_model_versions(f"name = '{full}'")}
    want_stages = {"1": "Archived", "2": "Staging"}
    want_stages[last] = "Production"
    assert stages == want_stages
    assert [v.version for v in client.get_latest_versions(short, stages=["Production"])] == [last]
    _predicts(f"models:/{short}/Production", X, want)
    _predicts(f"models:/{short}/Staging", X, want)

    # The full name works as well as the short one, in URIs and on register.
    _predicts(f"models:/{full}@champion", X, want)
    if MLFLOW_MAJOR >= 3:
        lm = client.get_logged_model(info.model_id)
        assert client.get_model_version_download_uri(short, "3") == lm.artifact_location
    latest = {v.current_stage: v.version for v in client.get_latest_versions(short)}
    assert latest == {"Archived": "1", "Staging": "2", "Production": "3"}

    # Tags and searches with filters.
    client.set_registered_model_tag(short, "domain", "churn")
    client.set_model_version_tag(short, "2", "validated", "true")
    found = client.search_registered_models(filter_string=f"name LIKE 'churn-{uid}%' AND tags.domain = 'churn'")
    assert [m.name for m in found] == [full]
    found = client.search_registered_models(filter_string=f"name ILIKE 'CHURN-{uid}%'")
    assert [m.name for m in found] == [full]
    assert client.search_registered_models(filter_string=f"name = '{full}' AND tags.domain = 'x'") == []
    client.create_registered_model(f"churn-{uid}-b")
    page = client.search_registered_models(filter_string=f"name LIKE 'churn-{uid}%'", order_by=["name DESC"],
                                           max_results=1)
    assert [m.name for m in page] == [tracking.exp_name(f"churn-{uid}-b")] and page.token
    page = client.search_registered_models(filter_string=f"name LIKE 'churn-{uid}%'", order_by=["name DESC"],
                                           max_results=1, page_token=page.token)
    assert [m.name for m in page] == [full]
    found = client.search_model_versions(f"name = '{full}' AND tags.validated = 'true'")
    assert [v.version for v in found] == ["2"]
    found = client.search_model_versions(f"run_id = '{run_id}' AND name = '{full}'", order_by=["version_number ASC"])
    assert [v.version for v in found] == ["1", "2", "3"]
    found = client.search_model_versions(f"name = '{full}' AND version_number >= 2", order_by=["version_number DESC"])
    assert [v.version for v in found] == ["3", "2"]
    client.delete_model_version_tag(short, "2", "validated")
    assert client.get_model_version(short, "2").tags == {}

    # Delete: a version, then the model.
    client.delete_model_version(short, "2")
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.get_model_version(short, "2")
    client.delete_registered_model(short)
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.get_registered_model(short)
    assert client.search_model_versions(f"name = '{full}'") == []


def test_sharinghub_reads_catalogue_and_mlmodel(client, tracking, uid):
    """SharingHub lists a project's models (latest versions) and reads each MLmodel file
    with plain HTTP at the tracking URI."""
    model, X = _sklearn_model()
    short = f"hubsk-{uid}"
    full = tracking.exp_name(short)
    mlflow.set_experiment(f"reg-hubsk-{uid}")
    with mlflow.start_run() as run:
        info = _log_sklearn(model, registered_model_name=short)
    run_id = run.info.run_id
    base = tracking.uri.rstrip("/") + "/"
    h = tracking.headers()

    r = requests.get(base + "api/2.0/mlflow/registered-models/search", headers=h,
                     params={"max_results": 1000}, timeout=30)
    assert r.status_code == 200, r.text
    models = r.json()["registered_models"]
    if tracking.suffix:
        assert all(m["name"].endswith(tracking.suffix) for m in models)
    mine = [m for m in models if m["name"] == full]
    assert len(mine) == 1
    latest = mine[0]["latest_versions"]
    assert [(v["version"], v["run_id"], v["current_stage"]) for v in latest] == [("1", run_id, "None")]

    if MLFLOW_MAJOR >= 3:
        # A 3.x logged model lives outside the run's artifacts: get-artifact under the run
        # has no MLmodel; the version's files answer at model-versions/get-artifact.
        r = requests.get(base + "get-artifact", headers=h, timeout=30,
                         params={"path": "model/MLmodel", "run_uuid": run_id})
        assert r.status_code >= 400, r.text
        r = requests.get(base + "model-versions/get-artifact", headers=h, timeout=30,
                         params={"name": full, "version": "1", "path": "MLmodel"})
        assert r.status_code == 200, r.text
        assert "sklearn" in r.text and info.model_id in r.text
        # The run-artifact form, as 2.x logs it (and as SharingHub reads it).
        mlflow.register_model(f"runs:/{run_id}/model", short)  # no files yet: still READY
        import tempfile

        with mlflow.start_run(run_id=run_id), tempfile.TemporaryDirectory() as d:
            mlflow.sklearn.save_model(model, f"{d}/model", pip_requirements=["scikit-learn"])
            mlflow.log_artifacts(f"{d}/model", "model")

    r = requests.get(base + "get-artifact", headers=h, timeout=30,
                     params={"path": "model/MLmodel", "run_uuid": run_id})
    assert r.status_code == 200, r.text
    assert "artifact_path: model" in r.text or "flavors:" in r.text
    assert "sklearn" in r.text
    if tracking.suffix:
        r = requests.get(base + "get-artifact", timeout=30, params={"path": "model/MLmodel", "run_uuid": run_id})
        assert r.status_code == 401


# ---------------------------------------------------------------------------------------
# Two projects on one server: the catalogue call of each project lists its models only.

TWO = {
    "projects": [{"id": 31, "path": "cat/one", "visibility": "private"},
                 {"id": 32, "path": "cat/two", "visibility": "private"}],
    "users": [{"username": "both", "token": "both-token-0001"}],
    "memberships": [{"user": "both", "project": "cat/one", "role": "Developer"},
                    {"user": "both", "project": "cat/two", "role": "Developer"}],
}


@pytest.fixture(scope="module")
def two_projects(request, workdir, backend):
    if os.environ.get("MLFLOW_SHARINGHUB_E2E_SERVER", "") == "mlflow":
        pytest.skip("projects are ours")
    binary = request.getfixturevalue("sharinghub_bin")
    path = workdir / "registry-two-projects.json"
    path.write_text(json.dumps(TWO))
    db = new_database(backend, workdir)
    port = free_port()
    art = workdir / f"registry-two-artifacts-{port}"
    art.mkdir(parents=True, exist_ok=True)
    env = _server_env()
    env["MLFLOW_SHARINGHUB_PROJECTS_FILE"] = str(path)
    srv = Server("sharinghub", [binary, "server", "--host", "127.0.0.1", "--port", str(port),
                                "--backend-store-uri", db.uri, "--artifacts-destination", str(art)],
                 port, workdir / f"registry-two-{port}.log", env=env, cwd=workdir).start()
    yield srv
    srv.stop()
    db.drop()


def test_catalogue_lists_only_the_projects_models(two_projects, monkeypatch, uid):
    from mlflow import MlflowClient

    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "both-token-0001")
    h = {"Authorization": "Bearer both-token-0001"}
    runs = {}
    for path, pid in (("cat/one", 31), ("cat/two", 32)):
        # 2.x resolves mlflow-artifacts: against the global tracking URI.
        monkeypatch.setenv("MLFLOW_TRACKING_URI", f"{two_projects.url}/{path}/tracking/")
        mlflow.set_tracking_uri(f"{two_projects.url}/{path}/tracking/")
        c = MlflowClient(tracking_uri=f"{two_projects.url}/{path}/tracking/")
        exp = c.create_experiment(f"cat-{uid}")
        run = c.create_run(exp)
        c.log_text(run.info.run_id, "artifact_path: model\nflavors: {}\n", "model/MLmodel")
        runs[pid] = run.info.run_id
        # The same short name in both projects: two models.
        v = c.create_model_version(c.create_registered_model(f"churn-{uid}").name,
                                   f"runs:/{run.info.run_id}/model", run_id=run.info.run_id)
        assert (v.name, v.version) == (f"churn-{uid} ({pid})", "1")
        assert c.get_registered_model(f"churn-{uid}").name == f"churn-{uid} ({pid})"
    for path, pid, other in (("cat/one", 31, 32), ("cat/two", 32, 31)):
        base = f"{two_projects.url}/{path}/tracking/"
        r = requests.get(base + "api/2.0/mlflow/registered-models/search", headers=h,
                         params={"max_results": 1000}, timeout=30)
        assert r.status_code == 200, r.text
        models = r.json()["registered_models"]
        assert [m["name"] for m in models] == [f"churn-{uid} ({pid})"]
        assert [(v["version"], v["run_id"]) for v in models[0]["latest_versions"]] == [("1", runs[pid])]
        r = requests.get(base + "get-artifact", headers=h, timeout=30,
                         params={"path": "model/MLmodel", "run_uuid": runs[pid]})
        assert r.status_code == 200 and r.text.startswith("artifact_path: model"), r.text
        # The other project's run and model are not reachable from here.
        r = requests.get(base + "get-artifact", headers=h, timeout=30,
                         params={"path": "model/MLmodel", "run_uuid": runs[other]})
        assert r.status_code == 404, r.text
        r = requests.get(base + "api/2.0/mlflow/registered-models/get", headers=h, timeout=30,
                         params={"name": f"churn-{uid} ({other})"})
        assert r.status_code == 404, r.text
        r = requests.get(base + "api/2.0/mlflow/model-versions/search", headers=h, timeout=30,
                         params={"filter": f"run_id = '{runs[other]}'"})
        assert r.status_code == 200 and r.json().get("model_versions", []) == [], r.text
