"""Round trip with the official ``mlflow server`` 3.18 on the same database.

Each test writes with one server, stops it, starts the other one on the same database, reads
everything back with the official client and compares, writes more, then switches back once
more. SQLite always, PostgreSQL when MLFLOW_SHARINGHUB_TEST_PG is set.

* ours → mlflow → ours: a database written by this server is accepted by `mlflow server`.
* mlflow → ours → mlflow: a database written by `mlflow server` is read by this server.
"""

from __future__ import annotations

import uuid

import mlflow
import pandas as pd
import pytest
from mlflow.entities import Metric, Param, RunTag, ViewType

from conftest import (Tracking, new_database, start_mlflow, tracking_for, tracking_for_kind,
                      use_tracking)
from helpers import MLFLOW_MAJOR, norm

pytestmark = pytest.mark.skipif(
    MLFLOW_MAJOR < 3,
    reason="round trip runs `mlflow server` 3.18 from the 3.x virtualenv (2.14 client run)")

MAX_DOUBLE = 1.7976931348623157e308


class Naming:
    """How to create experiments through a writer so that they are stored the way the
    project of ``owner`` stores them (the way SharingHub's MLflow plugin wrote them: name
    suffix and ownership tag). A writer that scopes by itself gets plain names."""

    def __init__(self, writer: Tracking, owner: Tracking):
        scoped = (writer.suffix, writer.owner_tags) == (owner.suffix, owner.owner_tags)
        self.name = (lambda n: n) if scoped else owner.exp_name
        self.tags = (lambda t: t) if scoped else owner.exp_tags


def write_workload(client, prefix: str, naming: Naming) -> dict:
    """Experiments, runs, params, metrics (with history), tags, inputs; some deleted."""
    name, tags = naming.name, naming.tags
    a = client.create_experiment(name(prefix + "a"),
                                 tags=tags({"team": "vision", "note": "héllo ✓"}))
    b = client.create_experiment(name(prefix + "b"), tags=tags({}))
    c = client.create_experiment(name(prefix + "c-old"), tags=tags({}))
    client.rename_experiment(c, name(prefix + "c"))
    client.set_experiment_tag(a, "stage", "dev")

    r1 = client.create_run(a, start_time=1_700_000_000_000, run_name="r1",
                           tags={"mlflow.user": "alice", "kind": "train"}).info.run_id
    client.log_batch(r1, params=[Param("lr", "0.01"), Param("layers", "3"),
                                 Param("name", "héllo ✓"), Param("long", "p" * 6000)])
    client.log_batch(r1, metrics=[Metric("loss", 1.0 / (i + 1), 1_700_000_000_000 + i * 10, i)
                                  for i in range(3000)])
    for i, (ts, v) in enumerate([(5, 0.5), (5, 0.25), (3, 0.75)]):
        client.log_metric(r1, "acc", v, timestamp=ts, step=i % 2)
    client.log_metric(r1, "nan", float("nan"), timestamp=1, step=0)
    client.log_metric(r1, "inf", float("inf"), timestamp=1, step=0)
    client.log_metric(r1, "ninf", float("-inf"), timestamp=1, step=0)
    client.log_batch(r1, tags=[RunTag("t1", "v1"), RunTag("long", "t" * 8000)])
    df = pd.DataFrame({"x": [1, 2, 3], "y": [0, 1, 0]})
    ds = mlflow.data.from_pandas(df, source="https://example.com/rt.csv", name="rt-ds",
                                 targets="y")
    with mlflow.start_run(run_id=r1):
        mlflow.log_input(ds, context="training", tags={"split": "train"})
    client.set_terminated(r1, "FINISHED", end_time=1_700_000_100_000)

    r2 = client.create_run(a, start_time=1_700_000_200_000, run_name="r2",
                           tags={"mlflow.parentRunId": r1}).info.run_id
    client.log_param(r2, "lr", "0.1")
    client.log_metric(r2, "loss", 0.3, timestamp=1_700_000_200_001, step=0)
    client.set_terminated(r2, "FAILED", end_time=1_700_000_200_500)

    r3 = client.create_run(a, run_name="r3-deleted").info.run_id
    client.log_param(r3, "x", "y")
    client.delete_run(r3)

    r4 = client.create_run(b, run_name="in-deleted-exp").info.run_id
    client.log_metric(r4, "m", 4.0, timestamp=4, step=4)
    client.delete_experiment(b)
    return {"a": a, "b": b, "c": c, "r1": r1, "r2": r2, "r3": r3, "r4": r4, "digest": ds.digest}


def snapshot(client, prefix: str) -> dict:
    """Everything the official client reads back, in a comparable form."""
    exps = list(client.search_experiments(view_type=ViewType.ALL,
                                          filter_string=f"name LIKE '{prefix}%'",
                                          order_by=["name ASC"]))
    out = {"experiments": {}, "runs": {}}
    for e in exps:
        got = client.get_experiment(e.experiment_id)
        assert (got.name, got.tags, got.lifecycle_stage) == (e.name, e.tags, e.lifecycle_stage)
        out["experiments"][e.experiment_id] = {
            "name": e.name, "lifecycle_stage": e.lifecycle_stage,
            "artifact_location": e.artifact_location, "tags": e.tags,
            "creation_time": e.creation_time, "last_update_time": e.last_update_time}
    runs = client.search_runs([e.experiment_id for e in exps], run_view_type=ViewType.ALL,
                              max_results=1000)
    for r in runs:
        full = client.get_run(r.info.run_id)
        i = full.info
        entry = {
            "info": (i.run_id, i.run_name, i.experiment_id, i.user_id, i.status, i.start_time,
                     i.end_time, i.lifecycle_stage, i.artifact_uri),
            "params": full.data.params,
            "tags": full.data.tags,
            "metrics": {k: norm(v) for k, v in full.data.metrics.items()},
            "history": {k: [(norm(m.value), m.timestamp, m.step)
                            for m in client.get_metric_history(i.run_id, k)]
                        for k in sorted(full.data.metrics)},
            "inputs": sorted(
                (d.dataset.name, d.dataset.digest, d.dataset.source_type, d.dataset.source,
                 d.dataset.schema, d.dataset.profile,
                 tuple(sorted((t.key, t.value) for t in d.tags)))
                for d in full.inputs.dataset_inputs),
        }
        # search_runs returns the same data as get_run.
        assert (r.data.params, r.data.tags) == (entry["params"], entry["tags"])
        assert {k: norm(v) for k, v in r.data.metrics.items()} == entry["metrics"]
        out["runs"][i.run_id] = entry
    return out


def check_workload(snap: dict, w: dict, prefix: str, owner: Tracking) -> None:
    """The snapshot holds what write_workload wrote (not just the same as before)."""
    exps = snap["experiments"]
    assert sorted(exps) == sorted([w["a"], w["b"], w["c"]])
    assert (exps[w["a"]]["name"], exps[w["a"]]["tags"]) == (
        owner.exp_name(prefix + "a"),
        owner.exp_tags({"team": "vision", "note": "héllo ✓", "stage": "dev"}))
    assert exps[w["a"]]["artifact_location"] == f"mlflow-artifacts:/{w['a']}"
    assert exps[w["b"]]["lifecycle_stage"] == "deleted"
    assert exps[w["c"]]["name"] == owner.exp_name(prefix + "c")
    runs = snap["runs"]
    r1 = runs[w["r1"]]
    assert r1["info"][1:] == ("r1", w["a"], "alice", "FINISHED", 1_700_000_000_000,
                              1_700_000_100_000, "active",
                              f"mlflow-artifacts:/{w['a']}/{w['r1']}/artifacts")
    assert r1["params"] == {"lr": "0.01", "layers": "3", "name": "héllo ✓", "long": "p" * 6000}
    assert r1["tags"] == {"mlflow.user": "alice", "kind": "train", "mlflow.runName": "r1",
                          "t1": "v1", "long": "t" * 8000}
    assert r1["metrics"] == {"loss": 1.0 / 3000, "acc": 0.25, "nan": "NaN", "inf": MAX_DOUBLE,
                             "ninf": -MAX_DOUBLE}
    assert r1["history"]["loss"] == [(1.0 / (i + 1), 1_700_000_000_000 + i * 10, i)
                                     for i in range(3000)]
    assert r1["history"]["acc"] == [(0.75, 3, 0), (0.5, 5, 0), (0.25, 5, 1)]
    assert r1["inputs"][0][:2] == ("rt-ds", w["digest"])
    assert r1["inputs"][0][6] == (("mlflow.data.context", "training"), ("split", "train"))
    r2 = runs[w["r2"]]
    assert (r2["info"][4], r2["tags"]["mlflow.parentRunId"]) == ("FAILED", w["r1"])
    assert runs[w["r3"]]["info"][7] == "deleted"
    assert runs[w["r4"]]["info"][7] == "deleted"
    assert runs[w["r4"]]["history"] == {"m": [(4.0, 4, 4)]}


def write_more(client, w: dict, prefix: str, naming: Naming) -> dict:
    """Writes through the second server: new run and experiment, more history, restore."""
    client.log_metric(w["r1"], "loss", 0.0001, timestamp=1_800_000_000_000, step=3000)
    client.set_tag(w["r1"], "t2", "second")
    client.log_param(w["r2"], "extra", "1")
    r5 = client.create_run(w["a"], start_time=1_750_000_000_000, run_name="r5").info.run_id
    client.log_batch(r5, metrics=[Metric("m", float(i), i, i) for i in range(10)],
                     params=[Param("p", "v")])
    client.set_terminated(r5, "KILLED", end_time=1_750_000_000_001)
    client.restore_experiment(w["b"])
    d = client.create_experiment(naming.name(prefix + "d"), tags=naming.tags({"second": "yes"}))
    return {**w, "r5": r5, "d": d}


def check_more(snap: dict, w: dict, owner: Tracking) -> None:
    runs = snap["runs"]
    assert runs[w["r1"]]["history"]["loss"][-1] == (0.0001, 1_800_000_000_000, 3000)
    assert len(runs[w["r1"]]["history"]["loss"]) == 3001
    assert runs[w["r1"]]["metrics"]["loss"] == 0.0001
    assert runs[w["r1"]]["tags"]["t2"] == "second"
    assert runs[w["r2"]]["params"] == {"lr": "0.1", "extra": "1"}
    assert runs[w["r5"]]["info"][1] == "r5" and runs[w["r5"]]["info"][4] == "KILLED"
    assert runs[w["r5"]]["history"]["m"] == [(float(i), i, i) for i in range(10)]
    assert snap["experiments"][w["b"]]["lifecycle_stage"] == "active"
    assert runs[w["r4"]]["info"][7] == "active"  # restored with its experiment
    assert snap["experiments"][w["d"]]["tags"] == owner.exp_tags({"second": "yes"})


def _read(server, prefix):
    t = tracking_for(server)
    with use_tracking(t):
        return snapshot(t.client(), prefix)


def _check_default_experiment(server):
    t = tracking_for(server)
    if t.sees_default:
        assert t.client().get_experiment("0").name == "Default"


def _round_trip(first, second, owner: Tracking, backend, workdir):
    """first/second: callables starting a server on a database. The data is stored the
    way owner (our server's project) stores it, whoever writes it."""
    db = new_database(backend, workdir)
    prefix = f"rt-{uuid.uuid4().hex[:8]}-"
    servers = []
    try:
        s = first(db)
        servers.append(s)
        t = tracking_for(s)
        with use_tracking(t):
            w = write_workload(t.client(), prefix, Naming(t, owner))
            before = snapshot(t.client(), prefix)
        check_workload(before, w, prefix, owner)
        _check_default_experiment(s)
        s.stop()

        s = second(db)
        servers.append(s)
        after = _read(s, prefix)
        assert after == before, f"{s.kind} server reads the database differently"
        _check_default_experiment(s)
        t = tracking_for(s)
        with use_tracking(t):
            w = write_more(t.client(), w, prefix, Naming(t, owner))
            more = snapshot(t.client(), prefix)
        check_more(more, w, owner)
        s.stop()

        s = first(db)
        servers.append(s)
        again = _read(s, prefix)
        assert again == more, f"{s.kind} server reads back what {servers[-2].kind} wrote differently"
        s.stop()
    finally:
        for s in servers:
            s.stop()
        db.drop()


def _start_mlflow(workdir):
    return lambda db: start_mlflow(db, workdir)


def test_ours_then_mlflow_then_ours(backend, workdir, start_ours):
    owner = tracking_for_kind(start_ours.kind, "http://owner")
    _round_trip(start_ours, _start_mlflow(workdir), owner, backend, workdir)


def test_mlflow_then_ours_then_mlflow(backend, workdir, start_ours):
    owner = tracking_for_kind(start_ours.kind, "http://owner")
    _round_trip(_start_mlflow(workdir), start_ours, owner, backend, workdir)
