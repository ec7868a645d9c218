"""The model registry with the real client (3.x and 2.x): registered models, versions
registered from runs, name completion in a project, tags, aliases, stages, searches with
filters, deletes, and SharingHub's own catalogue call replayed.

Every expectation encodes what MLflow itself does (check with
MLFLOW_SHARINGHUB_E2E_SERVER=mlflow, see conftest.py); the tenancy ones only run on ours.
"""

from __future__ import annotations

import warnings

import pytest
import requests

import mlflow
from helpers import raises_mlflow

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
