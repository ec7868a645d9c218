"""Models through a project's tracking URI with the real client (3.x and 2.14):
``mlflow.sklearn.log_model`` then ``mlflow.pyfunc.load_model`` by ``runs:/`` and (3.x)
``models:/<model_id>``, predicting what the original model predicts; the logged-model
artifact routes the UI uses; ``mlflow.sklearn.autolog()`` on a small fit; and a >500 MB
artifact through proxied multipart upload, downloaded back byte for byte.
"""

from __future__ import annotations

import hashlib
import os

import pytest

import mlflow
from helpers import MLFLOW_MAJOR

np = pytest.importorskip("numpy")
sklearn_linear = pytest.importorskip("sklearn.linear_model")

OURS = os.environ.get("MLFLOW_SHARINGHUB_E2E_SERVER", "") != "mlflow"

pytestmark = pytest.mark.usefixtures("mlflow_env")


def _data():
    X = np.array([[0.0, 1.0], [1.0, 0.5], [2.0, 2.0], [3.0, 1.5], [4.0, 3.0], [5.0, 2.0]])
    y = np.array([1.0, 2.5, 5.0, 6.5, 9.0, 10.0])
    return X, y


def _log_model(model):
    if MLFLOW_MAJOR >= 3:
        return mlflow.sklearn.log_model(model, name="model")
    return mlflow.sklearn.log_model(model, artifact_path="model")


def test_sklearn_log_model_and_load(client, rest, uid):
    mlflow.set_experiment(f"models-sk-{uid}")
    X, y = _data()
    model = sklearn_linear.LinearRegression().fit(X, y)
    want = model.predict(X)
    with mlflow.start_run() as run:
        info = _log_model(model)
    run_id = run.info.run_id

    uris = [f"runs:/{run_id}/model"]
    if MLFLOW_MAJOR >= 3:
        assert info.model_id.startswith("m-")
        uris.append(f"models:/{info.model_id}")
    else:
        # 2.x records the model on its run (runs/log-model) and stores it as run artifacts.
        assert "mlflow.log-model.history" in client.get_run(run_id).data.tags
        assert "model/MLmodel" in [f.path for f in client.list_artifacts(run_id, "model")]
    for uri in uris:
        loaded = mlflow.pyfunc.load_model(uri)
        assert list(loaded.predict(X)) == pytest.approx(list(want)), uri

    if MLFLOW_MAJOR >= 3:
        # The logged-model artifact routes (what the UI lists and downloads).
        m = client.get_logged_model(info.model_id)
        status, body = rest.get(f"/logged-models/{info.model_id}/artifacts/directories")
        assert status == 200, body
        assert body["root_uri"] == m.artifact_location
        paths = {f["path"] for f in body.get("files", [])}
        assert "MLmodel" in paths, body
        status, body = rest.get(f"/logged-models/{info.model_id}/artifacts/files",
                                params={"artifact_file_path": "MLmodel"}, prefix="/ajax-api/2.0/mlflow")
        assert status == 200 and "flavors" in body["_raw"], body
        status, body = rest.get(f"/logged-models/{info.model_id}/artifacts/files",
                                params={"artifact_file_path": "../../../x"}, prefix="/ajax-api/2.0/mlflow")
        assert status in (400, 404), body
        status, body = rest.get("/logged-models/m-0badc0de0badc0de0badc0de0badc0de/artifacts/directories")
        assert status == 404 and body["error_code"] == "RESOURCE_DOES_NOT_EXIST", body


def test_sklearn_autolog(client, uid):
    exp = mlflow.set_experiment(f"models-autolog-{uid}").experiment_id
    X, y = _data()
    mlflow.sklearn.autolog(silent=True)
    try:
        with mlflow.start_run() as run:
            model = sklearn_linear.Ridge(alpha=0.5).fit(X, y)
    finally:
        mlflow.sklearn.autolog(disable=True)
    got = client.get_run(run.info.run_id)
    assert got.data.params.get("alpha") == "0.5", got.data.params
    assert "training_score" in got.data.metrics, got.data.metrics
    assert got.data.tags.get("estimator_name") == "Ridge"
    if MLFLOW_MAJOR >= 3:
        models = client.search_logged_models(experiment_ids=[exp])
        assert [m.source_run_id for m in models] == [run.info.run_id]
        uri = f"models:/{models[0].model_id}"
    else:
        assert "model/MLmodel" in [f.path for f in client.list_artifacts(run.info.run_id, "model")]
        uri = f"runs:/{run.info.run_id}/model"
    loaded = mlflow.pyfunc.load_model(uri)
    assert list(loaded.predict(X)) == pytest.approx(list(model.predict(X)))


BIG = 520 << 20  # above the client's 500 MiB multipart threshold


@pytest.mark.skipif(not OURS, reason="the official server has no multipart upload on local storage")
def test_big_artifact_through_multipart(client, server, tmp_path, uid, monkeypatch):
    monkeypatch.setenv("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD", "true")
    big = tmp_path / "big.bin"
    digest = hashlib.sha256()
    with open(big, "wb") as f:
        left = BIG + 12345
        while left:
            chunk = os.urandom(min(left, 16 << 20))
            digest.update(chunk)
            f.write(chunk)
            left -= len(chunk)
    exp = client.create_experiment(f"models-big-{uid}")
    run = client.create_run(exp)
    mark = server.log_size()
    client.log_artifact(run.info.run_id, str(big), "large")
    big.unlink()
    log = server.log_text(mark)
    assert "/mlflow-artifacts/mpu/create/" in log and "/mlflow-artifacts/mpu/complete/" in log, \
        "the client did not use multipart upload"
    assert [(f.path, f.file_size) for f in client.list_artifacts(run.info.run_id, "large")] == \
        [("large/big.bin", BIG + 12345)]
    (tmp_path / "dl").mkdir()
    got = client.download_artifacts(run.info.run_id, "large/big.bin", str(tmp_path / "dl"))
    back = hashlib.sha256()
    with open(got, "rb") as f:
        while chunk := f.read(16 << 20):
            back.update(chunk)
    assert os.path.getsize(got) == BIG + 12345
    assert back.hexdigest() == digest.hexdigest()
