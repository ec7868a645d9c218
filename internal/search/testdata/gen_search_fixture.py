"""Builds search_fixture.json: runs and experiments created through MLflow's
own client on a SQLite store, the rows MLflow wrote for them, and the
results MLflow's search gives for a list of filters and orderings, on
SQLite and (when FIXTURE_PG is set) on PostgreSQL over the same rows.

    FIXTURE_PG=postgresql+psycopg2://postgres@127.0.0.1:55432/postgres \
        /work/venvs/mlflow3/bin/python gen_search_fixture.py > search_fixture.json
"""
import json
import math
import os
import sys
import tempfile
import warnings

warnings.filterwarnings("ignore")

import sqlalchemy  # noqa: E402

from mlflow.entities import Dataset, DatasetInput, InputTag, Metric, ViewType  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402

uri = "sqlite:///" + os.path.join(tempfile.mkdtemp(), "mlflow.db")
client = MlflowClient(tracking_uri=uri)

e1 = client.create_experiment("e1", tags={"team": "vision", "k": "v1"})
e2 = client.create_experiment("e2", tags={"team": "NLP"})
e3 = client.create_experiment("E3")
e4 = client.create_experiment("other")
client.delete_experiment(e4)

runs = {}


def run(exp, name, start, user="alice", status=None, end=None, metrics=(), params=(), tags=(), datasets=()):
    r = client.create_run(exp, start_time=start, run_name=name, tags={"mlflow.user": user, **dict(tags)})
    rid = r.info.run_id
    ms = [Metric(k, v, ts, step) for (k, v, ts, step) in metrics]
    client.log_batch(rid, metrics=ms, params=[], tags=[])
    for k, v in params:
        client.log_param(rid, k, v)
    for ds, ctx in datasets:
        tags_ = [InputTag("mlflow.data.context", ctx)] if ctx else []
        client.log_inputs(rid, datasets=[DatasetInput(Dataset(ds, "d-" + ds, "local", "src"), tags_)])
    if status:
        client.set_terminated(rid, status=status, end_time=end)
    runs[name] = rid
    return rid


run(e1, "alpha", 1000, end=2000, status="FINISHED",
    metrics=[("acc", 0.1, 1, 0), ("acc", 0.9, 2, 1), ("loss", 0.1, 1, 0)],
    params=[("lr", "0.1"), ("opt", "adam")], tags=[("t", "A")], datasets=[("ds1", "training")])
run(e1, "Alpha", 1000, user="bob", metrics=[("acc", math.nan, 1, 0), ("loss", 0.2, 1, 0)],
    params=[("lr", "0.01")], tags=[("t", "a")], datasets=[("ds1", "eval"), ("ds2", "training")])
run(e1, "beta", 2000, metrics=[("loss", 0.3, 1, 0)], params=[("lr", "1E-3")], tags=[("t", "B")],
    datasets=[("ds2", None)])
run(e1, "gamma-1", 500, status="FAILED", end=900, metrics=[("acc", 0.5, 1, 5), ("acc", 0.99, 2, 2)],
    params=[("opt", "sgd")])
run(e1, "Special_Run", 3000, user="Alice", status="FINISHED", end=3500, metrics=[("acc", 0.9, 1, 0)],
    params=[("lr", "0.1")], tags=[("t", "%")], datasets=[("ds1", "training")])
run(e1, "delta", 1500, status="KILLED", end=1600, metrics=[("acc", math.inf, 1, 0), ("loss", -math.inf, 1, 0)],
    tags=[("t", "a_b")])
run(e1, "eps", 1200, metrics=[("acc", 0.7, 1, 0)], params=[("lr", "0.1")])
client.delete_run(runs["eps"])
run(e2, "zeta", 2500, metrics=[("acc", 0.95, 1, 0)], params=[("lr", "0.1")], tags=[("t", "A")])
run(e2, "eta", 2500, metrics=[("acc", math.nan, 1, 0)], tags=[("t", "A")])

# Deterministic times and ties for the experiment orderings.
engine = sqlalchemy.create_engine(uri)
with engine.begin() as con:
    for eid, ct, lt in [(e1, 100, 400), (e2, 200, 300), (e3, 200, 200), (e4, 50, 500), ("0", 10, 10)]:
        con.execute(sqlalchemy.text("UPDATE experiments SET creation_time = :c, last_update_time = :l "
                                    "WHERE experiment_id = :e"), {"c": ct, "l": lt, "e": int(eid)})

R = runs
RUN_FILTERS = [
    "", "metrics.acc > 0.5", "metrics.acc >= 0.9", "metrics.acc != 0.9", "metrics.acc = 0", "metrics.acc < 1",
    "metrics.acc > 1e300", "metrics.acc <= 0", "metrics.loss <= 0.2", "metrics.loss < -1e300", "metrics.nope > 0",
    "params.lr = '0.1'", "params.lr LIKE '0.%'", "params.lr ILIKE '%e-3'", "params.lr LIKE '%e-3'",
    "params.lr != '0.1'", "params.opt IS NULL", "params.opt IS NOT NULL", "params.lr IS NULL AND params.opt IS NULL",
    "tags.t = 'a'", "tags.t LIKE 'a'", "tags.t ILIKE 'a'", "tags.t LIKE 'A%'", "tags.t LIKE 'a_b'",
    "tags.t LIKE 'a\\_b'", "tags.t != 'A'", "tags.t IS NULL", "tags.t = '%'", "tags.t LIKE '%'",
    "attributes.status = 'FINISHED'", "status != 'RUNNING'", "status LIKE 'FIN%'", "status ILIKE 'fin%'",
    "status IN ('FINISHED')", "user_id = 'alice'", "user_id ILIKE 'ALICE'", "user_id LIKE 'a%'",
    "run_name = 'alpha'", "run_name ILIKE 'alpha'", "run_name LIKE '%a%'", "run_name != 'alpha'",
    "`Run Name` = 'beta'", "attributes.`run name` LIKE 'S%'", "tags.`mlflow.runName` = 'alpha'",
    "start_time > 1000", "start_time >= 1000", "created < 1500.5", "attr.start_time = 2500", "end_time > 0",
    "end_time != 2000", "end_time <= 1600",
    f"run_id = '{R['alpha']}'", f"run_id IN ('{R['alpha']}', '{R['beta']}')", f"run_id NOT IN ('{R['alpha']}')",
    f"run_id IN ('{R['alpha'].upper()}')", f"attributes.run_id LIKE '{R['beta'][:4]}%'",
    "datasets.name = 'ds1'", "datasets.digest = 'd-ds2'", "datasets.context = 'training'",
    "datasets.context IN ('eval')", "datasets.name NOT IN ('ds1')", "datasets.name LIKE 'DS%'",
    "datasets.name ILIKE 'DS%'", "datasets.context != 'training'", "dataset.context LIKE '%a%'",
    "metrics.acc > 0 AND params.lr = '0.1'", "metrics.acc > 0.2 and tags.t = 'A' and start_time < 3000",
    "datasets.name = 'ds1' AND datasets.context = 'training'",
]
RUN_ORDERS = [
    [], ["metrics.acc"], ["metrics.acc DESC"], ["metrics.loss ASC", "metrics.acc DESC"], ["params.lr"],
    ["params.lr DESC"], ["tags.t"], ["tags.t DESC"], ["start_time"], ["start_time ASC"],
    ["attributes.start_time DESC"], ["end_time"], ["end_time DESC"], ["run_name"], ["run_name DESC"], ["status"],
    ["user_id DESC"], ["created"], ["metrics.missing"], ["metrics.missing DESC", "params.opt"],
    ["params.opt DESC", "metrics.acc"], ["tags.`mlflow.runName` DESC"], ["metrics.`acc`"], ["run_id"],
]

cases = []


def run_case(filter_string, order_by, exps=(e1,), view=ViewType.ACTIVE_ONLY):
    cases.append({"filter": filter_string, "order_by": order_by, "experiment_ids": [int(x) for x in exps],
                  "view": int(view)})


for f in RUN_FILTERS:
    run_case(f, [])
for o in RUN_ORDERS:
    run_case("", o)
    run_case("", o, exps=(e1, e2), view=ViewType.ALL)
run_case("metrics.acc > 0", ["metrics.acc DESC", "run_name"], exps=(e1, e2))
run_case("", [], view=ViewType.DELETED_ONLY)
run_case("params.lr = '0.1'", ["start_time DESC"], exps=(e1, e2), view=ViewType.ALL)


def search_runs(cl, c):
    try:
        res = cl.search_runs([str(x) for x in c["experiment_ids"]], c["filter"], run_view_type=c["view"],
                             max_results=1000, order_by=c["order_by"])
        return [r.info.run_id for r in res]
    except MlflowException as e:
        return {"error": e.message, "code": e.error_code}

EXP_FILTERS = [
    "", "name = 'e1'", "name LIKE 'e%'", "name ILIKE 'E%'", "name like 'E%'", "name != 'e1'", "tags.k = 'v1'",
    "tags.k IS NULL", "tags.k IS NOT NULL", "tags.team LIKE '%i%'", "tags.team ILIKE 'nlp'", "tags.team != 'NLP'",
    "creation_time > 100", "creation_time = 200", "last_update_time >= 300", "creation_time < 150",
    f"experiment_id = '{e2}'", f"experiment_id IN ('{e1}', '{e2}')", "experiment_id NOT IN ('0')",
    f"experiment_id != '{e1}'", "name = 'e1' AND tags.team = 'vision'",
]
EXP_ORDERS = [
    [], ["name"], ["name DESC"], ["creation_time"], ["creation_time DESC"], ["experiment_id DESC"],
    ["last_update_time ASC", "name"], ["experiment_id"], ["creation_time", "experiment_id DESC"],
]
exp_cases = []


def exp_case(filter_string, order_by, view=ViewType.ACTIVE_ONLY):
    exp_cases.append({"filter": filter_string, "order_by": order_by, "view": int(view)})


def search_experiments(cl, c):
    try:
        res = cl.search_experiments(view_type=c["view"], max_results=1000, filter_string=c["filter"],
                                    order_by=c["order_by"])
        return [int(x.experiment_id) for x in res]
    except MlflowException as e:
        return {"error": e.message, "code": e.error_code}


for f in EXP_FILTERS:
    exp_case(f, [])
    exp_case(f, [], view=ViewType.ALL)
for o in EXP_ORDERS:
    exp_case("", o, view=ViewType.ALL)
exp_case("", [], view=ViewType.DELETED_ONLY)

TABLES = ["experiments", "experiment_tags", "runs", "latest_metrics", "params", "tags", "datasets", "inputs",
          "input_tags"]
rows = {}
with engine.connect() as con:
    for t in TABLES:
        rows[t] = [dict(r._mapping) for r in con.execute(sqlalchemy.text(f"SELECT * FROM {t}"))]

for c in cases:
    c["sqlite"] = search_runs(client, c)
for c in exp_cases:
    c["sqlite"] = search_experiments(client, c)

# FIXTURE_PG: a PostgreSQL DSN (postgresql+psycopg2://...) of a database we
# may create others from. The same rows are loaded into a fresh database
# (collation "C") that MLflow migrated, and MLflow's answers there recorded.
pg = os.environ.get("FIXTURE_PG")
if pg:
    admin = sqlalchemy.create_engine(pg, isolation_level="AUTOCOMMIT")
    name = "msh_search_fixture"
    with admin.connect() as con:
        con.execute(sqlalchemy.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        con.execute(sqlalchemy.text(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' "
                                    "LC_COLLATE 'C' LC_CTYPE 'C'"))
    pg_uri = pg.rsplit("/", 1)[0] + "/" + name
    pg_client = MlflowClient(tracking_uri=pg_uri)
    pg_client.search_experiments()  # creates the schema
    pg_engine = sqlalchemy.create_engine(pg_uri)
    with pg_engine.begin() as con:
        for t in reversed(TABLES):
            con.execute(sqlalchemy.text(f"DELETE FROM {t}"))
        for t in TABLES:
            for r in rows[t]:
                r = dict(r)
                if t == "latest_metrics":
                    r["is_nan"] = bool(r["is_nan"])
                cols = ", ".join(f'"{k}"' for k in r)
                vals = ", ".join(f":{k}" for k in r)
                con.execute(sqlalchemy.text(f"INSERT INTO {t} ({cols}) VALUES ({vals})"), r)
    for c in cases:
        c["postgres"] = search_runs(pg_client, c)
    for c in exp_cases:
        c["postgres"] = search_experiments(pg_client, c)
    pg_engine.dispose()
    with admin.connect() as con:
        con.execute(sqlalchemy.text(f"DROP DATABASE {name} WITH (FORCE)"))

for r in rows["latest_metrics"]:
    r["is_nan"] = int(r["is_nan"])
json.dump({"rows": rows, "runs": cases, "experiments": exp_cases}, sys.stdout, indent=1, default=str)
