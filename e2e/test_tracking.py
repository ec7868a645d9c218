"""The real mlflow client (3.18 and 2.14) against the server: experiments, runs, params,
metrics, tags, dataset inputs, search, paging, delete/restore, and error codes.

Every expectation encodes what MLflow itself does (check with
MLFLOW_SHARINGHUB_E2E_SERVER=mlflow, see conftest.py).
"""

from __future__ import annotations

import math
import uuid

import mlflow
import pandas as pd
import pytest
from mlflow.entities import Metric, Param, RunTag, ViewType

from conftest import use_tracking
from helpers import history, ids, norm, now_ms, raises_mlflow

pytestmark = pytest.mark.usefixtures("mlflow_env")

MAX_DOUBLE = 1.7976931348623157e308


# ---------------------------------------------------------------------------------------
# Experiments


def test_set_experiment_creates_then_reuses(client, tracking, uid):
    name = f"set-exp-{uid}"
    assert client.get_experiment_by_name(name) is None  # RESOURCE_DOES_NOT_EXIST → None
    before = now_ms()
    exp = mlflow.set_experiment(name)
    after = now_ms()
    assert exp.name == tracking.exp_name(name)
    assert exp.experiment_id.isdigit() and exp.experiment_id != "0"
    assert exp.lifecycle_stage == "active"
    assert exp.artifact_location == f"mlflow-artifacts:/{exp.experiment_id}"
    assert before - 1000 <= exp.creation_time <= after + 1000
    assert exp.last_update_time == exp.creation_time

    again = mlflow.set_experiment(name)  # existing: same experiment, nothing created
    assert again.experiment_id == exp.experiment_id
    assert again.creation_time == exp.creation_time
    by_name = client.get_experiment_by_name(name)
    assert (by_name.experiment_id, by_name.name) == (exp.experiment_id, tracking.exp_name(name))
    assert mlflow.set_experiment(experiment_id=exp.experiment_id).name == tracking.exp_name(name)

    with mlflow.start_run() as run:
        pass
    assert run.info.experiment_id == exp.experiment_id


def test_default_experiment(client, tracking):
    if not tracking.sees_default:  # a project's tracking URI: "0" belongs to no project
        with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
            client.get_experiment("0")
        return
    exp = client.get_experiment("0")
    assert exp.name == "Default"
    assert exp.lifecycle_stage == "active"
    assert exp.artifact_location == "mlflow-artifacts:/0"
    assert client.get_experiment_by_name("Default").experiment_id == "0"


def test_create_experiment_duplicate_and_unknown(client, tracking, uid):
    name = f"dup-{uid}"
    eid = client.create_experiment(name)
    with raises_mlflow("RESOURCE_ALREADY_EXISTS"):
        client.create_experiment(name)
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.get_experiment("987654321")
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.get_experiment("not-a-number")
    assert client.get_experiment(eid).name == tracking.exp_name(name)


def test_experiment_tags_and_rename(client, tracking, rest, uid):
    tags = tracking.exp_tags
    eid = client.create_experiment(f"tags-{uid}", tags={"team": "vision", "empty": ""})
    assert client.get_experiment(eid).tags == tags({"team": "vision", "empty": ""})
    client.set_experiment_tag(eid, "team", "nlp")  # upsert
    client.set_experiment_tag(eid, "note", "héllo ✓")
    assert client.get_experiment(eid).tags == tags({"team": "nlp", "empty": "", "note": "héllo ✓"})

    if hasattr(client, "delete_experiment_tag"):
        client.delete_experiment_tag(eid, "empty")
    else:  # the 2.14 client has no delete_experiment_tag: same route over REST
        status, body = rest.post("/experiments/delete-experiment-tag",
                                 {"experiment_id": eid, "key": "empty"})
        assert status == 200, body
    assert client.get_experiment(eid).tags == tags({"team": "nlp", "note": "héllo ✓"})

    client.rename_experiment(eid, f"renamed-{uid}")
    exp = client.get_experiment(eid)
    assert exp.name == tracking.exp_name(f"renamed-{uid}")
    assert client.get_experiment_by_name(f"tags-{uid}") is None
    assert client.get_experiment_by_name(f"renamed-{uid}").experiment_id == eid


def test_delete_experiment_keeps_name_and_restore_restores_runs(client, uid):
    name = f"del-exp-{uid}"
    eid = client.create_experiment(name)
    r1 = client.create_run(eid).info.run_id
    r2 = client.create_run(eid).info.run_id
    client.delete_run(r2)  # deleted on its own before the experiment

    client.delete_experiment(eid)
    exp = client.get_experiment(eid)  # still readable by id and name
    assert exp.lifecycle_stage == "deleted"
    assert client.get_experiment_by_name(name).lifecycle_stage == "deleted"
    assert {client.get_run(r).info.lifecycle_stage for r in (r1, r2)} == {"deleted"}
    # The deleted experiment keeps its name.
    with raises_mlflow("RESOURCE_ALREADY_EXISTS"):
        client.create_experiment(name)
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        mlflow.set_experiment(name)  # "Cannot set a deleted experiment ..."
    # Runs of a deleted experiment cannot be logged to or created.
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.log_param(r1, "p", "v")
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.create_run(eid)

    client.restore_experiment(eid)
    assert client.get_experiment(eid).lifecycle_stage == "active"
    # Restoring the experiment restores all its runs, the one deleted before included.
    assert {client.get_run(r).info.lifecycle_stage for r in (r1, r2)} == {"active"}
    assert sorted(ids(client.search_runs([eid]))) == sorted([r1, r2])


def test_search_experiments(client, tracking, uid):
    p = f"sx-{uid}-"
    spec = [("b", {"team": "x", "prio": "1"}), ("a", {"team": "y"}),
            ("d", {"team": "x"}), ("c", {})]
    eids = {n: client.create_experiment(p + n, tags=t) for n, t in spec}
    full = {n: tracking.exp_name(p + n) for n, _ in spec}  # stored names, used in filters

    def names(exps):
        by_full = {v: k for k, v in full.items()}
        return [by_full.get(e.name, e.name) for e in exps]

    mine = f"name LIKE '{p}%'"
    got = client.search_experiments(filter_string=mine)
    # Default order: creation_time DESC, then experiment_id ASC.
    expected = sorted(got, key=lambda e: (-e.creation_time, int(e.experiment_id)))
    assert [e.experiment_id for e in got] == [e.experiment_id for e in expected]
    assert sorted(names(got)) == ["a", "b", "c", "d"]
    assert {e.name: e.tags for e in got} == {full[n]: tracking.exp_tags(t) for n, t in spec}

    assert names(client.search_experiments(filter_string=mine, order_by=["name ASC"])) == \
        ["a", "b", "c", "d"]
    assert names(client.search_experiments(filter_string=mine, order_by=["name DESC"])) == \
        ["d", "c", "b", "a"]
    assert names(client.search_experiments(filter_string=f"name = '{full['c']}'")) == ["c"]
    assert names(client.search_experiments(
        filter_string=f"name ILIKE '{full['a'].upper()}'")) == ["a"]
    assert names(client.search_experiments(
        filter_string=f"{mine} AND tags.team = 'x'", order_by=["name ASC"])) == ["b", "d"]
    assert names(client.search_experiments(
        filter_string=f"{mine} AND tags.team != 'x'", order_by=["name ASC"])) == ["a"]
    assert names(client.search_experiments(
        filter_string=f"{mine} AND tags.team LIKE '%' AND tags.prio = '1'")) == ["b"]
    created_a = client.get_experiment(eids["a"]).creation_time
    got = client.search_experiments(
        filter_string=f"{mine} AND creation_time >= {created_a}", order_by=["name ASC"])
    assert set(names(got)) >= {"a"} and all(
        e.creation_time >= created_a for e in got)

    # Paging: max_results and page tokens, no token after the last (exactly full) page.
    page1 = client.search_experiments(filter_string=mine, max_results=3, order_by=["name ASC"])
    assert names(page1) == ["a", "b", "c"] and page1.token
    page2 = client.search_experiments(filter_string=mine, max_results=3, order_by=["name ASC"],
                                      page_token=page1.token)
    assert names(page2) == ["d"] and not page2.token
    page1 = client.search_experiments(filter_string=mine, max_results=2, order_by=["name ASC"])
    page2 = client.search_experiments(filter_string=mine, max_results=2, order_by=["name ASC"],
                                      page_token=page1.token)
    assert (names(page1), names(page2), page2.token) == (["a", "b"], ["c", "d"], None)

    # View types.
    client.delete_experiment(eids["d"])
    assert names(client.search_experiments(filter_string=mine, order_by=["name ASC"])) == \
        ["a", "b", "c"]
    assert names(client.search_experiments(filter_string=mine, view_type=ViewType.DELETED_ONLY)) \
        == ["d"]
    assert names(client.search_experiments(filter_string=mine, view_type=ViewType.ALL,
                                           order_by=["name ASC"])) == ["a", "b", "c", "d"]
    # The fluent API too.
    assert [e.name for e in mlflow.search_experiments(
        filter_string=f"name = '{full['a']}'")] == [full["a"]]

    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.search_experiments(filter_string="foo.bar = 'x'")
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.search_experiments(filter_string=f"name = '{full['a']}' OR name = '{full['b']}'")
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.search_experiments(order_by=["nope ASC"])


# ---------------------------------------------------------------------------------------
# Runs


def test_start_and_end_run(client, uid):
    exp = mlflow.set_experiment(f"runs-{uid}")
    before = now_ms()
    with mlflow.start_run(run_name=f"first-{uid}") as run:
        info = mlflow.active_run().info
        assert info.status == "RUNNING"
        assert info.end_time is None
    after = now_ms()
    rid = run.info.run_id
    assert len(rid) == 32 and rid == rid.lower() and int(rid, 16) >= 0
    got = client.get_run(rid)
    assert got.info.run_id == rid
    assert got.info.experiment_id == exp.experiment_id
    assert got.info.run_name == f"first-{uid}"
    assert got.data.tags["mlflow.runName"] == f"first-{uid}"
    assert got.info.status == "FINISHED"
    assert got.info.lifecycle_stage == "active"
    assert got.info.artifact_uri == f"mlflow-artifacts:/{exp.experiment_id}/{rid}/artifacts"
    assert before - 1000 <= got.info.start_time <= got.info.end_time <= after + 1000
    # The client sends its context tags on create.
    assert got.data.tags["mlflow.user"] == got.info.user_id
    assert got.data.tags["mlflow.source.type"] == "LOCAL"
    assert "mlflow.source.name" in got.data.tags


def test_generated_run_name(client, uid):
    mlflow.set_experiment(f"runname-{uid}")
    with mlflow.start_run() as run:
        pass
    got = client.get_run(run.info.run_id)
    assert got.info.run_name  # generated by the server, e.g. "mysterious-sloth-695"
    assert got.data.tags["mlflow.runName"] == got.info.run_name


def test_run_failure_and_killed_status(client, uid):
    mlflow.set_experiment(f"fail-{uid}")
    with pytest.raises(ZeroDivisionError):
        with mlflow.start_run() as failed:
            1 / 0  # noqa: B018
    assert client.get_run(failed.info.run_id).info.status == "FAILED"

    killed = mlflow.start_run()
    mlflow.end_run(status="KILLED")
    info = client.get_run(killed.info.run_id).info
    assert info.status == "KILLED" and info.end_time is not None

    r = client.create_run(killed.info.experiment_id)
    client.set_terminated(r.info.run_id, status="FINISHED", end_time=r.info.start_time + 1234)
    info = client.get_run(r.info.run_id).info
    assert (info.status, info.end_time) == ("FINISHED", r.info.start_time + 1234)


def test_run_names_and_nested_runs(client, uid):
    exp = mlflow.set_experiment(f"nested-{uid}")
    with mlflow.start_run(run_name="parent", description="the parent") as parent:
        with mlflow.start_run(run_name="child", nested=True) as child:
            pass
    got = client.get_run(child.info.run_id)
    assert got.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert client.get_run(parent.info.run_id).data.tags["mlflow.note.content"] == "the parent"

    # Renaming through update_run and through the mlflow.runName tag keeps both in sync.
    client.update_run(child.info.run_id, name="renamed")
    got = client.get_run(child.info.run_id)
    assert (got.info.run_name, got.data.tags["mlflow.runName"]) == ("renamed", "renamed")
    client.set_tag(child.info.run_id, "mlflow.runName", "by-tag")
    got = client.get_run(child.info.run_id)
    assert (got.info.run_name, got.data.tags["mlflow.runName"]) == ("by-tag", "by-tag")

    # A run_name and a different mlflow.runName tag are contradictory.
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.create_run(exp.experiment_id, run_name="a", tags={"mlflow.runName": "b"})
    r = client.create_run(exp.experiment_id, start_time=12345, tags={"k": "v"}, run_name="x")
    assert (r.info.start_time, r.info.run_name, r.data.tags) == \
        (12345, "x", {"k": "v", "mlflow.runName": "x"})


def test_delete_and_restore_run(client, uid):
    eid = client.create_experiment(f"delrun-{uid}")
    keep = client.create_run(eid).info.run_id
    gone = client.create_run(eid).info.run_id
    client.delete_run(gone)
    assert client.get_run(gone).info.lifecycle_stage == "deleted"
    assert ids(client.search_runs([eid])) == [keep]
    assert ids(client.search_runs([eid], run_view_type=ViewType.DELETED_ONLY)) == [gone]
    assert sorted(ids(client.search_runs([eid], run_view_type=ViewType.ALL))) == \
        sorted([keep, gone])
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.log_metric(gone, "m", 1.0)  # the run must be active
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.set_tag(gone, "t", "v")
    client.restore_run(gone)
    assert client.get_run(gone).info.lifecycle_stage == "active"
    client.log_metric(gone, "m", 1.0)
    assert sorted(ids(client.search_runs([eid]))) == sorted([keep, gone])

    missing = uuid.uuid4().hex
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.get_run(missing)
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.delete_run(missing)
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.log_param(missing, "p", "v")
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.create_run("987654321")


# ---------------------------------------------------------------------------------------
# Params, metrics, tags


def test_params(client, uid):
    mlflow.set_experiment(f"params-{uid}")
    with mlflow.start_run() as run:
        mlflow.log_param("lr", 0.01)
        mlflow.log_params({"n": 3, "flag": True, "name": "héllo ✓", "a/b c:d-e.f_g": "ok",
                           "none": None, "long": "x" * 6000})
        mlflow.log_param("lr", 0.01)  # the same value again is fine
        mlflow.log_params({"n": 3})
    rid = run.info.run_id
    assert client.get_run(rid).data.params == {
        "lr": "0.01", "n": "3", "flag": "True", "name": "héllo ✓", "a/b c:d-e.f_g": "ok",
        "none": "None", "long": "x" * 6000}

    # Params are immutable.
    with raises_mlflow("INVALID_PARAMETER_VALUE", "Changing param values is not allowed"):
        client.log_param(rid, "lr", "0.02")
    with raises_mlflow("INVALID_PARAMETER_VALUE", "Changing param values is not allowed"):
        client.log_batch(rid, params=[Param("n", "4")])
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.log_param(rid, "bad*key", "v")
    assert client.get_run(rid).data.params["lr"] == "0.01"
    # A finished (but active) run still accepts new data.
    client.log_param(rid, "late", "yes")
    assert client.get_run(rid).data.params["late"] == "yes"


def test_metrics_steps_timestamps_and_latest(client, uid):
    eid = client.create_experiment(f"metrics-{uid}")
    rid = client.create_run(eid).info.run_id
    # Logged out of order on purpose.
    client.log_metric(rid, "loss", 0.5, timestamp=30, step=1)
    client.log_metric(rid, "loss", 0.9, timestamp=10, step=3)
    client.log_metric(rid, "loss", 0.7, timestamp=20, step=2)
    client.log_metric(rid, "loss", 0.8, timestamp=10, step=2)
    client.log_metric(rid, "loss", 0.8, timestamp=10, step=2)  # exact duplicate: ignored
    client.log_metric(rid, "loss", 0.6, timestamp=10, step=2)  # same step+time, new value: kept
    # History: ordered by timestamp, step, value.
    assert history(client, rid, "loss") == [
        (0.6, 10, 2), (0.8, 10, 2), (0.9, 10, 3), (0.7, 20, 2), (0.5, 30, 1)]
    # Latest value: the greatest (step, timestamp, value), not the last logged.
    run = client.get_run(rid)
    assert run.data.metrics == {"loss": 0.9}
    assert history(client, rid, "never-logged") == []

    # Fluent API with step and timestamp; exact doubles survive the round trip.
    with mlflow.start_run(run_id=rid):
        mlflow.log_metric("acc", 0.1 + 0.2, step=0, timestamp=1_700_000_000_123)
        mlflow.log_metric("acc", 1e-300, step=1, timestamp=1_700_000_000_456)
        mlflow.log_metric("acc", 123456789.123456789, step=2, timestamp=1_700_000_000_789)
        mlflow.log_metrics({"m1": 1, "m2": -2.5}, step=7)
    assert history(client, rid, "acc") == [
        (0.1 + 0.2, 1_700_000_000_123, 0), (1e-300, 1_700_000_000_456, 1),
        (123456789.123456789, 1_700_000_000_789, 2)]
    h = client.get_metric_history(rid, "m1")
    assert [(m.key, m.value, m.step) for m in h] == [("m1", 1.0, 7)]
    assert client.get_run(rid).data.metrics == {
        "loss": 0.9, "acc": 123456789.123456789, "m1": 1.0, "m2": -2.5}
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.log_metric(rid, "bad*key", 1.0)


def test_nan_and_infinity_round_trip(client, uid):
    eid = client.create_experiment(f"nan-{uid}")
    rid = client.create_run(eid).info.run_id
    client.log_metric(rid, "x", float("nan"), timestamp=1, step=0)
    client.log_metric(rid, "x", float("inf"), timestamp=2, step=1)
    client.log_metric(rid, "x", float("-inf"), timestamp=3, step=2)
    client.log_metric(rid, "y", float("nan"), timestamp=1, step=0)
    # MLflow stores ±inf as ±max double, NaN as NaN.
    assert history(client, rid, "x") == [("NaN", 1, 0), (MAX_DOUBLE, 2, 1), (-MAX_DOUBLE, 3, 2)]
    metrics = client.get_run(rid).data.metrics
    assert metrics["x"] == -MAX_DOUBLE
    assert math.isnan(metrics["y"])
    client.log_batch(rid, metrics=[Metric("z", float("inf"), 5, 0)])
    assert client.get_run(rid).data.metrics["z"] == MAX_DOUBLE


def test_tags(client, uid):
    eid = client.create_experiment(f"tags-run-{uid}")
    rid = client.create_run(eid, run_name="t").info.run_id
    client.set_tag(rid, "k", "v1")
    client.set_tag(rid, "k", "v2")  # overwrite
    client.set_tag(rid, "num", 3)
    with mlflow.start_run(run_id=rid):
        mlflow.set_tags({"a": "1", "b": "héllo ✓", "long": "y" * 8000})
    assert client.get_run(rid).data.tags == {
        "mlflow.runName": "t", "k": "v2", "num": "3", "a": "1", "b": "héllo ✓", "long": "y" * 8000}
    client.delete_tag(rid, "a")
    assert "a" not in client.get_run(rid).data.tags
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.delete_tag(rid, "a")
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.set_tag(rid, "bad*key", "v")


def test_log_batch(client, uid):
    eid = client.create_experiment(f"batch-{uid}")
    rid = client.create_run(eid).info.run_id
    client.log_batch(
        rid,
        metrics=[Metric("m", float(i), 1000 + i, i) for i in range(5)],
        params=[Param("p1", "a"), Param("p2", "b")],
        tags=[RunTag("t1", "x"), RunTag("t1", "y")],  # last value wins
    )
    run = client.get_run(rid)
    assert run.data.metrics == {"m": 4.0}
    assert run.data.params == {"p1": "a", "p2": "b"}
    assert run.data.tags["t1"] == "y"
    assert history(client, rid, "m") == [(float(i), 1000 + i, i) for i in range(5)]
    # The client splits large batches (≤1000 metrics per request).
    client.log_batch(rid, metrics=[Metric("big", float(i), i, i) for i in range(2500)])
    assert len(client.get_metric_history(rid, "big")) == 2500


def test_async_logging(client, uid):
    """synchronous=False queues the data and sends it as log-batch."""
    mlflow.set_experiment(f"async-{uid}")
    with mlflow.start_run() as run:
        mlflow.log_param("p", "v", synchronous=False)
        mlflow.log_params({"q": 1, "r": 2}, synchronous=False)
        for i in range(50):
            mlflow.log_metric("m", float(i), step=i, timestamp=1000 + i, synchronous=False)
        mlflow.log_metrics({"a": 1.0, "b": 2.0}, step=1, synchronous=False)
        mlflow.set_tag("t", "x", synchronous=False)
        mlflow.set_tags({"u": "y"}, synchronous=False)
    mlflow.flush_async_logging()  # end_run flushes in 3.x, not always in 2.14
    got = client.get_run(run.info.run_id)
    assert got.data.params == {"p": "v", "q": "1", "r": "2"}
    assert got.data.metrics == {"m": 49.0, "a": 1.0, "b": 2.0}
    assert (got.data.tags["t"], got.data.tags["u"]) == ("x", "y")
    assert history(client, run.info.run_id, "m") == [(float(i), 1000 + i, i) for i in range(50)]
    assert got.info.status == "FINISHED"


def test_log_batch_limits_over_rest(client, rest, uid):
    """The client splits batches itself, so the server's limits are checked over REST."""
    eid = client.create_experiment(f"limits-{uid}")
    rid = client.create_run(eid).info.run_id

    def post(**body):
        return rest.post("/runs/log-batch", {"run_id": rid, **body})

    m = [{"key": "k", "value": 1.0, "timestamp": 1, "step": i} for i in range(1001)]
    p = [{"key": f"p{i}", "value": "v"} for i in range(101)]
    t = [{"key": f"t{i}", "value": "v"} for i in range(101)]
    for body in ({"metrics": m}, {"params": p}, {"tags": t},
                 {"metrics": m[:900], "params": p[:100], "tags": t[:1]},
                 {"params": [{"key": "d", "value": "1"}, {"key": "d", "value": "2"}]}):
        status, resp = post(**body)
        assert (status, resp.get("error_code")) == (400, "INVALID_PARAMETER_VALUE"), resp
    assert client.get_run(rid).data.params == {}
    # At the limits exactly: accepted.
    status, resp = post(metrics=m[:1000])
    assert (status, resp) == (200, {})
    status, resp = post(metrics=m[:800], params=p[:100], tags=t[:100])
    assert (status, resp) == (200, {})
    assert len(client.get_metric_history(rid, "k")) == 1000
    assert len(client.get_run(rid).data.params) == 100


def test_get_metric_history_pages(client, rest, uid):
    eid = client.create_experiment(f"history-{uid}")
    rid = client.create_run(eid).info.run_id
    n = 30000  # more than the client's page of 25000: it must follow the page token
    client.log_batch(rid, metrics=[Metric("long", i * 0.5, 1_000_000 + i, i) for i in range(n)])
    got = client.get_metric_history(rid, "long")
    assert len(got) == n
    assert [(m.value, m.timestamp, m.step) for m in got] == \
        [(i * 0.5, 1_000_000 + i, i) for i in range(n)]

    # Paging over REST with a small max_results.
    client.log_batch(rid, metrics=[Metric("short", float(i), 100 + i, i) for i in range(7)])
    pages, token = [], None
    while True:
        params = {"run_id": rid, "metric_key": "short", "max_results": 3}
        if token:
            params["page_token"] = token
        status, body = rest.get("/metrics/get-history", params)
        assert status == 200, body
        pages.append([m["step"] for m in body.get("metrics", [])])
        token = body.get("next_page_token")
        if not token:
            break
        assert len(pages) < 10
    assert pages == [[0, 1, 2], [3, 4, 5], [6]]


# ---------------------------------------------------------------------------------------
# Dataset inputs


def _toy_dataset(name="toy", n=3):
    df = pd.DataFrame({"a": list(range(n)), "b": [i / 10 for i in range(n)],
                       "y": [i % 2 for i in range(n)]})
    return mlflow.data.from_pandas(df, source="https://example.com/toy.csv", name=name,
                                   targets="y")


def test_log_input_pandas_dataset(client, uid):
    mlflow.set_experiment(f"inputs-{uid}")
    ds = _toy_dataset()
    other = _toy_dataset("eval", 5)
    with mlflow.start_run() as run:
        mlflow.log_input(ds, context="training")
        mlflow.log_input(ds, context="training")  # the same dataset again: one input
        mlflow.log_input(other, context="eval", tags={"split": "test"})
    inputs = client.get_run(run.info.run_id).inputs.dataset_inputs
    got = {i.dataset.name: i for i in inputs}
    assert sorted(got) == ["eval", "toy"]
    for d in (ds, other):
        want = d._to_mlflow_entity()
        have = got[d.name].dataset
        assert (have.name, have.digest, have.source_type, have.source, have.schema,
                have.profile) == (want.name, want.digest, want.source_type, want.source,
                                  want.schema, want.profile)
    assert {t.key: t.value for t in got["toy"].tags} == {"mlflow.data.context": "training"}
    assert {t.key: t.value for t in got["eval"].tags} == {"mlflow.data.context": "eval",
                                                          "split": "test"}
    # A second run reuses the dataset.
    with mlflow.start_run() as run2:
        mlflow.log_input(ds, context="training")
    d2 = client.get_run(run2.info.run_id).inputs.dataset_inputs
    assert [(i.dataset.name, i.dataset.digest) for i in d2] == [("toy", ds.digest)]


# ---------------------------------------------------------------------------------------
# search_runs


@pytest.fixture(scope="module")
def search_fixture(tracking):
    """Six runs with known attributes; r6 is deleted. Start times are fixed."""
    with use_tracking(tracking):
        yield _make_search_runs(tracking.client())


def _make_search_runs(client):
    eid = client.create_experiment(f"search-{uuid.uuid4().hex[:10]}")
    spec = {
        # name: start, status, end, params, metrics, tags
        "alpha": (1000, "FINISHED", 2000, {"model": "cnn", "lr": "0.1"},
                  {"acc": 0.9, "loss": 0.3}, {"team": "a", "opt": "x"}),
        "beta": (2000, "FINISHED", 3000, {"model": "rnn", "lr": "0.01"},
                 {"acc": 0.7, "loss": 0.5}, {"team": "b"}),
        "gamma": (3000, "FAILED", 3500, {"model": "cnn", "lr": "0.001"},
                  {"acc": float("nan"), "loss": 0.9}, {"team": "a"}),
        "delta": (4000, "RUNNING", None, {"model": "MLP", "lr": "1"}, {"loss": 0.1},
                  {"team": "A"}),
        "epsilon": (4000, "KILLED", 4500, {}, {"acc": 0.5}, {}),
        "zeta": (5000, "FINISHED", 6000, {"model": "cnn"}, {"acc": 0.95}, {"team": "a"}),
    }
    runs = {}
    for name, (start, status, end, params, metrics, tags) in spec.items():
        r = client.create_run(eid, start_time=start, run_name=name, tags=tags)
        rid = r.info.run_id
        client.log_batch(rid, params=[Param(k, v) for k, v in params.items()],
                         metrics=[Metric(k, v, start + 1, 0) for k, v in metrics.items()])
        if status != "RUNNING":
            client.set_terminated(rid, status=status, end_time=end)
        runs[name] = rid
    client.delete_run(runs["zeta"])
    with mlflow.start_run(run_id=runs["beta"]):
        mlflow.log_input(_toy_dataset("search-ds"), context="training")
    with mlflow.start_run(run_id=runs["gamma"]):
        mlflow.log_input(_toy_dataset("search-ds"), context="validation")
    # start_run(run_id=...) resumed them: put the statuses back.
    client.set_terminated(runs["beta"], status="FINISHED", end_time=3000)
    client.set_terminated(runs["gamma"], status="FAILED", end_time=3500)
    return eid, runs


def _tie(runs, *names):
    """Runs with equal sort keys come in run_id order."""
    return sorted((runs[n] for n in names))


SEARCH_CASES = [
    # filter, expected (default order: start_time DESC, then run_id ASC)
    ("", ["@delta,epsilon", "gamma", "beta", "alpha"]),
    ("metrics.acc > 0.6", ["beta", "alpha"]),
    # MLflow 3.18: a NaN metric satisfies no numeric comparison except "!=" (it is stored
    # as value 0 with is_nan set; older releases let it compare as 0).
    ("metrics.acc < 0.6", ["epsilon"]),
    ("metrics.acc <= 0", []),
    ("metrics.acc >= 0.7", ["beta", "alpha"]),
    ("metrics.acc = 0.5", ["epsilon"]),
    ("metrics.acc != 0.5", ["gamma", "beta", "alpha"]),
    ("metrics.loss <= 0.3", ["delta", "alpha"]),
    ("params.model = 'cnn'", ["gamma", "alpha"]),
    ("params.model != 'cnn'", ["delta", "beta"]),
    ("params.model LIKE '%n%'", ["gamma", "beta", "alpha"]),
    ("params.model LIKE 'm%'", []),  # LIKE is case-sensitive
    ("params.model ILIKE 'm%'", ["delta"]),
    ("params.lr IS NULL", ["epsilon"]),
    ("tags.team = 'a'", ["gamma", "alpha"]),
    ("tags.team ILIKE 'a'", ["delta", "gamma", "alpha"]),
    ("tags.opt IS NOT NULL", ["alpha"]),
    ("tags.opt IS NULL", ["@delta,epsilon", "gamma", "beta"]),
    ("attributes.status = 'FINISHED'", ["beta", "alpha"]),
    ("attributes.status != 'FINISHED'", ["@delta,epsilon", "gamma"]),
    ("attributes.run_name = 'beta'", ["beta"]),
    ("attributes.run_name LIKE '%ta'", ["delta", "beta"]),
    ("run_name ILIKE 'ALPHA'", ["alpha"]),
    ("attributes.start_time >= 3000", ["@delta,epsilon", "gamma"]),
    ("attributes.start_time < 2000", ["alpha"]),
    ("attributes.end_time > 2500", ["epsilon", "gamma", "beta"]),
    ("params.model = 'cnn' AND metrics.loss < 0.5", ["alpha"]),
    ("tags.team = 'a' AND attributes.status = 'FAILED' AND params.lr = '0.001'", ["gamma"]),
    ("dataset.name = 'search-ds'", ["gamma", "beta"]),
    ("dataset.context = 'training'", ["beta"]),
    ("dataset.name = 'search-ds' AND dataset.context = 'validation'", ["gamma"]),
]


def _expand(runs, names):
    out = []
    for n in names:
        if n.startswith("@"):
            out += _tie(runs, *n[1:].split(","))
        else:
            out.append(runs[n])
    return out


def _names(runs, run_ids):
    by_id = {v: k for k, v in runs.items()}
    return [by_id.get(r, r) for r in run_ids]


@pytest.mark.parametrize("filter_string,expected", SEARCH_CASES,
                         ids=[c[0] or "no-filter" for c in SEARCH_CASES])
def test_search_runs_filters(client, search_fixture, filter_string, expected):
    eid, runs = search_fixture
    got = ids(client.search_runs([eid], filter_string=filter_string))
    assert _names(runs, got) == _names(runs, _expand(runs, expected))


def test_search_runs_run_id_in_and_view_types(client, search_fixture):
    eid, runs = search_fixture
    f = f"attributes.run_id IN ('{runs['alpha']}', '{runs['beta']}', '{runs['zeta']}')"
    assert ids(client.search_runs([eid], f)) == [runs["beta"], runs["alpha"]]
    assert ids(client.search_runs([eid], f, run_view_type=ViewType.ALL)) == \
        [runs["zeta"], runs["beta"], runs["alpha"]]
    assert ids(client.search_runs([eid], run_view_type=ViewType.DELETED_ONLY)) == [runs["zeta"]]
    f = f"attributes.run_id NOT IN ('{runs['alpha']}', '{runs['beta']}')"
    assert ids(client.search_runs([eid], f)) == \
        _expand(runs, ["@delta,epsilon", "gamma"])


ORDER_CASES = [
    (["metrics.acc DESC"], ["alpha", "beta", "epsilon", "gamma", "delta"]),  # NaN, then missing
    (["metrics.acc ASC"], ["epsilon", "beta", "alpha", "gamma", "delta"]),
    (["metrics.loss"], ["delta", "alpha", "beta", "gamma", "epsilon"]),
    (["params.lr ASC"], ["gamma", "beta", "alpha", "delta", "epsilon"]),  # strings
    (["params.lr DESC"], ["delta", "alpha", "beta", "gamma", "epsilon"]),
    (["tags.team ASC"], ["delta", "gamma", "alpha", "beta", "epsilon"]),  # ties: start DESC
    (["attributes.start_time ASC"], ["alpha", "beta", "gamma", "@delta,epsilon"]),
    (["attributes.run_name DESC"], ["gamma", "epsilon", "delta", "beta", "alpha"]),
    (["attributes.end_time DESC"], ["epsilon", "gamma", "beta", "alpha", "delta"]),
    (["attributes.status ASC", "metrics.loss DESC"],
     ["gamma", "beta", "alpha", "epsilon", "delta"]),
    (["params.model ASC", "metrics.acc DESC"],
     ["delta", "alpha", "gamma", "beta", "epsilon"]),
]


@pytest.mark.parametrize("order_by,expected", ORDER_CASES, ids=[",".join(c[0]) for c in ORDER_CASES])
def test_search_runs_order_by(client, search_fixture, order_by, expected):
    eid, runs = search_fixture
    got = ids(client.search_runs([eid], order_by=order_by))
    assert _names(runs, got) == _names(runs, _expand(runs, expected))


def test_search_runs_paging(client, search_fixture):
    eid, runs = search_fixture
    order = ["attributes.start_time ASC"]
    want = _expand(runs, ["alpha", "beta", "gamma", "@delta,epsilon"])
    got, token, pages = [], None, []
    while True:
        page = client.search_runs([eid], max_results=2, order_by=order, page_token=token)
        pages.append(len(page))
        got += ids(page)
        token = page.token
        if not token:
            break
        assert len(pages) < 10
    assert pages == [2, 2, 1]
    assert got == want
    # An exactly full last page carries no token.
    f = "attributes.status != 'KILLED'"
    p1 = client.search_runs([eid], f, max_results=2, order_by=order)
    p2 = client.search_runs([eid], f, max_results=2, order_by=order, page_token=p1.token)
    assert (ids(p1) + ids(p2), p2.token) == (_expand(runs, ["alpha", "beta", "gamma", "delta"]),
                                             None)


def test_search_runs_content_and_fluent_dataframe(client, search_fixture):
    eid, runs = search_fixture
    (alpha,) = client.search_runs([eid], "attributes.run_name = 'alpha'")
    assert alpha.data.params == {"model": "cnn", "lr": "0.1"}
    assert alpha.data.metrics == {"acc": 0.9, "loss": 0.3}
    assert alpha.data.tags == {"team": "a", "opt": "x", "mlflow.runName": "alpha"}
    assert (alpha.info.status, alpha.info.start_time, alpha.info.end_time) == \
        ("FINISHED", 1000, 2000)

    df = mlflow.search_runs(experiment_ids=[eid], order_by=["metrics.acc DESC"])
    assert list(df["run_id"]) == [runs[n] for n in ["alpha", "beta", "epsilon", "gamma", "delta"]]
    assert list(df["status"]) == ["FINISHED", "FINISHED", "KILLED", "FAILED", "RUNNING"]
    assert [norm(v) for v in df["metrics.acc"]][:3] == [0.9, 0.7, 0.5]
    assert math.isnan(df["metrics.acc"].iloc[3]) and math.isnan(df["metrics.acc"].iloc[4])
    assert list(df["params.model"])[:2] == ["cnn", "rnn"]
    assert list(df["tags.mlflow.runName"]) == ["alpha", "beta", "epsilon", "gamma", "delta"]


@pytest.mark.parametrize("kwargs", [
    {"filter_string": "metrics.acc = 'high'"},
    {"filter_string": "foo.bar = 'x'"},
    {"filter_string": "params.model = 'cnn' OR params.model = 'rnn'"},
    {"filter_string": "attributes.nope = 'x'"},
    {"filter_string": "params.model = cnn"},
    {"filter_string": "metrics.acc IS NULL"},
    {"order_by": ["nope.x ASC"]},
    {"order_by": ["dataset.name ASC"]},
    {"max_results": 50001},
], ids=lambda k: repr(k))
def test_search_runs_invalid(client, search_fixture, kwargs):
    eid, _ = search_fixture
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.search_runs([eid], **kwargs)


# ---------------------------------------------------------------------------------------
# Wire level: what the client relies on without showing it


def test_wire_shapes_and_error_statuses(client, rest, uid):
    eid = client.create_experiment(f"wire-{uid}")
    r = client.create_run(eid, start_time=1234)
    rid = r.info.run_id
    client.log_metric(rid, "nan", float("nan"), timestamp=5, step=0)
    for prefix in ("/api/2.0/mlflow", "/ajax-api/2.0/mlflow"):
        status, body = rest.get("/runs/get", {"run_id": rid}, prefix=prefix)
        assert status == 200, body
        info = body["run"]["info"]
        assert info["run_id"] == info["run_uuid"] == rid
        assert info["experiment_id"] == eid
        assert info["status"] == "RUNNING"
        assert info["start_time"] == 1234  # int64 as a JSON number
        assert info["lifecycle_stage"] == "active"
        assert body["run"]["data"]["metrics"] == [
            {"key": "nan", "value": "NaN", "timestamp": 5, "step": 0}]
    # run_uuid alone is accepted too (old clients).
    status, body = rest.get("/runs/get", {"run_uuid": rid})
    assert status == 200 and body["run"]["info"]["run_id"] == rid

    status, body = rest.get("/runs/get", {"run_id": uuid.uuid4().hex})
    assert (status, body.get("error_code")) == (404, "RESOURCE_DOES_NOT_EXIST")
    assert body.get("message")
    status, body = rest.get("/experiments/get-by-name", {"experiment_name": f"none-{uid}"})
    assert (status, body.get("error_code")) == (404, "RESOURCE_DOES_NOT_EXIST")
    status, body = rest.post("/experiments/create", {"name": f"wire-{uid}"})
    assert (status, body.get("error_code")) == (400, "RESOURCE_ALREADY_EXISTS")
    status, body = rest.post("/runs/log-parameter", {"run_id": rid, "key": "k", "value": "1"})
    assert (status, body) == (200, {})
    status, body = rest.post("/runs/log-parameter", {"run_id": rid, "key": "k", "value": "2"})
    assert (status, body.get("error_code")) == (400, "INVALID_PARAMETER_VALUE")
    status, body = rest.post("/experiments/create", {})
    assert (status, body.get("error_code")) == (400, "INVALID_PARAMETER_VALUE")
    status, body = rest.post("/runs/log-metric", {"run_id": rid, "key": "m", "value": 1})
    assert (status, body.get("error_code")) == (400, "INVALID_PARAMETER_VALUE")  # no timestamp
