"""MLflow 3 logged models with the real 3.x client: create, get, finalize, tags, params,
metrics linked through a run, run outputs, search (filters, order_by, datasets, paging),
delete, and ``mlflow.sklearn.log_model`` / ``load_model`` through ``models:/<model_id>``.

Every expectation encodes what MLflow itself does (check with
MLFLOW_SHARINGHUB_E2E_SERVER=mlflow, see conftest.py).
"""

from __future__ import annotations

import pytest

import mlflow
from helpers import MLFLOW_MAJOR, now_ms, raises_mlflow

if MLFLOW_MAJOR < 3:
    pytest.skip("logged models are an MLflow 3 API", allow_module_level=True)

from mlflow.entities import LoggedModelOutput, LoggedModelStatus, Metric  # noqa: E402  (3.x only)

pytestmark = [pytest.mark.usefixtures("mlflow_env")]


def _experiment(uid: str, what: str) -> str:
    return mlflow.set_experiment(f"lm-{what}-{uid}").experiment_id


def test_logged_model_lifecycle(client, uid):
    exp = _experiment(uid, "life")
    with mlflow.start_run() as run:
        run_id = run.info.run_id
        before = now_ms()
        m = client.create_logged_model(exp, name="clf", source_run_id=run_id, model_type="sklearn",
                                       params={"alpha": "0.5"}, tags={"team": "a", "tmp": "x"})
        assert m.model_id.startswith("m-") and len(m.model_id) == 34
        assert m.experiment_id == exp and m.name == "clf" and m.source_run_id == run_id
        assert m.model_type == "sklearn"
        assert m.status == LoggedModelStatus.PENDING
        assert m.artifact_location == f"mlflow-artifacts:/{exp}/models/{m.model_id}/artifacts"
        assert before - 1000 <= m.creation_timestamp <= now_ms() + 1000
        assert m.params == {"alpha": "0.5"}
        assert m.tags == {"team": "a", "tmp": "x"}

        client.log_model_params(m.model_id, {"beta": "2"})
        client.set_logged_model_tags(m.model_id, {"team": "b"})
        client.delete_logged_model_tag(m.model_id, "tmp")
        with raises_mlflow("RESOURCE_DOES_NOT_EXIST", "No tag with key 'tmp'"):
            client.delete_logged_model_tag(m.model_id, "tmp")
        mlflow.log_metric("acc", 0.75, step=3, model_id=m.model_id)
        client.log_batch(run_id, metrics=[Metric("loss", 0.25, now_ms(), 3, model_id=m.model_id,
                                                 dataset_name="eval", dataset_digest="d1")])
        client.log_outputs(run_id, [LoggedModelOutput(m.model_id, step=3)])

    done = client.finalize_logged_model(m.model_id, LoggedModelStatus.READY)
    assert done.status == LoggedModelStatus.READY
    assert done.last_updated_timestamp >= m.creation_timestamp

    got = client.get_logged_model(m.model_id)
    assert got.params == {"alpha": "0.5", "beta": "2"}
    assert got.tags == {"team": "b"}
    metrics = {mt.key: mt for mt in got.metrics}
    assert set(metrics) == {"acc", "loss"}
    assert (metrics["acc"].value, metrics["acc"].step, metrics["acc"].run_id) == (0.75, 3, run_id)
    assert metrics["acc"].model_id == m.model_id
    assert (metrics["loss"].dataset_name, metrics["loss"].dataset_digest) == ("eval", "d1")
    # The run keeps its own copy of the metrics, and names the model among its outputs.
    r = client.get_run(run_id)
    assert r.data.metrics == {"acc": 0.75, "loss": 0.25}
    assert [(o.model_id, o.step) for o in r.outputs.model_outputs] == [(m.model_id, 3)]

    client.delete_logged_model(m.model_id)
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST", f"Logged model with ID '{m.model_id}' not found."):
        client.get_logged_model(m.model_id)
    assert client.search_logged_models([exp]) == []


def test_logged_model_errors(client, uid):
    exp = _experiment(uid, "err")
    with raises_mlflow("INVALID_PARAMETER_VALUE", "Invalid model name"):
        client.create_logged_model(exp, name="a/b")
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.create_logged_model("987654")
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.get_logged_model("m-00000000000000000000000000000000")
    with raises_mlflow("INVALID_PARAMETER_VALUE", "Invalid comparison operator"):
        client.search_logged_models([exp], filter_string="metrics.acc LIKE 'x'")
    # No name: a generated one.
    assert client.create_logged_model(exp).name


def test_search_logged_models(client, uid):
    exp = _experiment(uid, "search")
    made = {}
    with mlflow.start_run():
        for i, name in enumerate(["a", "b", "c", "d"]):
            m = client.create_logged_model(exp, name=name, params={"lr": str(i % 2)},
                                           tags={"kind": "even" if i % 2 == 0 else "odd"})
            made[name] = m.model_id
            # An older, higher value: the latest step is what filters and sorts use.
            mlflow.log_metric("acc", 0.99, step=0, model_id=m.model_id)
            mlflow.log_metric("acc", i / 10, step=1, model_id=m.model_id)
    client.finalize_logged_model(made["c"], LoggedModelStatus.READY)

    def names(**kw):
        return [m.name for m in client.search_logged_models([exp], **kw)]

    acc_desc = [{"field_name": "metrics.acc", "ascending": False}]
    assert names(filter_string="metrics.acc >= 0.1", order_by=acc_desc) == ["d", "c", "b"]
    assert names(order_by=[{"field_name": "metrics.acc"}]) == ["a", "b", "c", "d"]
    assert names(filter_string="params.lr = '1' AND tags.kind = 'odd'",
                 order_by=[{"field_name": "name", "ascending": True}]) == ["b", "d"]
    assert names(filter_string="name IN ('a', 'c')", order_by=[{"field_name": "name"}]) == ["a", "c"]
    assert names(filter_string="status = 'READY'") == ["c"]
    assert names(filter_string=f"model_id = '{made['b']}'") == ["b"]
    # Default order: newest first.
    assert names() == ["d", "c", "b", "a"]
    assert names(datasets=[{"dataset_name": "nope"}]) == []

    # Paging: the token carries the request, and pages are complete.
    page = client.search_logged_models([exp], max_results=3, order_by=[{"field_name": "name"}])
    assert [m.name for m in page] == ["a", "b", "c"] and page.token
    rest = client.search_logged_models([exp], max_results=3, order_by=[{"field_name": "name"}],
                                       page_token=page.token)
    assert [m.name for m in rest] == ["d"] and not rest.token
    with raises_mlflow("INVALID_PARAMETER_VALUE", "Order by in the page token does not match"):
        client.search_logged_models([exp], max_results=3, page_token=page.token)

    # The fluent API pages through everything itself.
    found = mlflow.search_logged_models(experiment_ids=[exp], filter_string="metrics.acc < 0.25",
                                        output_format="list")
    assert sorted(m.name for m in found) == ["a", "b", "c"]


def _artifact_routes_present(rest) -> bool:
    """The artifact proxy is another piece of work: probe it by its list route."""
    status, body = rest.get("/artifacts", params={"path": "0"}, prefix="/api/2.0/mlflow-artifacts")
    return not (status == 404 and body.get("error_code") in (None, "ENDPOINT_NOT_FOUND"))


def test_sklearn_log_model_and_load(client, rest, uid):
    if not _artifact_routes_present(rest):
        pytest.skip("the artifact proxy (/api/2.0/mlflow-artifacts) is not on this server yet")
    np = pytest.importorskip("numpy")
    sklearn_linear = pytest.importorskip("sklearn.linear_model")

    exp = _experiment(uid, "sk")
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([0.0, 2.0, 4.0, 6.0])
    model = sklearn_linear.LinearRegression().fit(X, y)
    with mlflow.start_run() as run:
        mlflow.log_param("fit_intercept", "True")
        mlflow.log_metric("rmse", 0.0)
        info = mlflow.sklearn.log_model(model, name="model")
    assert info.model_id.startswith("m-")
    m = client.get_logged_model(info.model_id)
    assert m.status == LoggedModelStatus.READY
    assert m.source_run_id == run.info.run_id and m.experiment_id == exp
    assert m.params == {"fit_intercept": "True"}
    assert [(mt.key, mt.run_id) for mt in m.metrics] == [("rmse", run.info.run_id)]
    assert [o.model_id for o in client.get_run(run.info.run_id).outputs.model_outputs] == [info.model_id]

    want = model.predict(X)
    for uri in (f"models:/{info.model_id}", f"runs:/{run.info.run_id}/model"):
        loaded = mlflow.pyfunc.load_model(uri)
        assert list(loaded.predict(X)) == pytest.approx(list(want)), uri
