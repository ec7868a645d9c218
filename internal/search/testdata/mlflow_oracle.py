"""Runs MLflow's own search parsing on test inputs and prints the results.

Input (stdin): JSON object {"runs": [...filters], "experiments": [...filters],
"run_order": [[...clauses], ...], "experiment_order": [[...], ...],
"tokens": [...page tokens]}. Output (stdout): the same keys, each a list of
{"in": input, "out": result} where result is a list of clauses or
{"error": message, "code": error code}. Python set reprs inside messages
are sorted, since their order varies between Python processes.

    /work/venvs/mlflow3/bin/python mlflow_oracle.py < inputs.json > golden.json
"""
import json
import re
import sys
import warnings

warnings.filterwarnings("ignore")

from sqlalchemy import create_engine  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from mlflow.exceptions import MlflowException  # noqa: E402
from mlflow.protos.databricks_pb2 import BAD_REQUEST  # noqa: E402
from mlflow.store.tracking.sqlalchemy_store import (  # noqa: E402
    _get_orderby_clauses,
    _get_search_experiments_filter_clauses,
    _get_search_experiments_order_by_clauses,
    _get_sqlalchemy_filter_clauses,
)
from mlflow.utils.search_utils import SearchExperimentsUtils, SearchUtils  # noqa: E402

SESSION = Session(create_engine("sqlite://"))


def sort_sets(msg):
    def repl(m):
        items = re.findall(r"'[^']*'", m.group(0))
        return "{" + ", ".join(sorted(items)) + "}"

    return re.sub(r"\{'[^{}']*'(?:, '[^{}']*')*\}", repl, msg)


def error(e):
    if isinstance(e, MlflowException):
        return {"error": sort_sets(e.message), "code": e.error_code}
    return {"error": str(e), "code": "PYTHON:" + type(e).__name__}


def value(v, metric=False):
    if v is None:
        return None
    if metric:
        return {"f": repr(float(v))}
    if isinstance(v, bool):
        return {"b": v}
    if isinstance(v, int):
        return {"i": str(v)}
    if isinstance(v, float):
        return {"f": repr(v)}
    if isinstance(v, tuple):
        return {"l": list(v)}
    return {"s": v}


def check_binding(parsed):
    # A tuple with a comparator other than IN / NOT IN reaches the driver,
    # which cannot bind it: the search fails with BAD_REQUEST.
    for c in parsed:
        if isinstance(c["value"], tuple) and c["comparator"].upper() not in ("IN", "NOT IN"):
            raise MlflowException("type 'tuple' is not supported", error_code=BAD_REQUEST)


def runs(f):
    parsed = SearchUtils.parse_search_filter(f)
    _get_sqlalchemy_filter_clauses(parsed, SESSION, "sqlite")
    check_binding(parsed)
    return [
        {
            "entity": c["type"],
            "key": SearchUtils.translate_key_alias(c["key"]),
            "comparator": c["comparator"].upper(),
            "value": value(c["value"], c["type"] == "metric"),
        }
        for c in parsed
    ]


def experiments(f):
    parsed = SearchExperimentsUtils.parse_search_filter(f)
    _get_search_experiments_filter_clauses(parsed, "sqlite")
    check_binding(parsed)
    out = []
    for c in parsed:
        v = c["value"]
        if c["type"] == "attribute" and c["key"] == "experiment_id" and isinstance(v, str):
            v = int(v)
        out.append({"entity": c["type"], "key": c["key"], "comparator": c["comparator"].upper(), "value": value(v)})
    return out


def run_order(obs):
    _get_orderby_clauses(obs, SESSION)
    out = []
    for ob in obs:
        t, k, asc = SearchUtils.parse_order_by_for_search_runs(ob)
        out.append({"entity": t, "key": SearchUtils.translate_key_alias(k), "asc": asc})
    return out


def experiment_order(obs):
    _get_search_experiments_order_by_clauses(obs)
    out = []
    for ob in obs or ["creation_time DESC", "experiment_id ASC"]:
        t, k, asc = SearchExperimentsUtils.parse_order_by_for_search_experiments(ob)
        out.append({"entity": t, "key": k, "asc": asc})
    return out


def token(t):
    return SearchUtils.parse_start_offset_from_page_token(t)


FUNCS = {"runs": runs, "experiments": experiments, "run_order": run_order,
         "experiment_order": experiment_order, "tokens": token}

inputs = json.load(sys.stdin)
result = {}
for key, fn in FUNCS.items():
    res = []
    for item in inputs.get(key, []):
        try:
            out = fn(item)
        except Exception as e:  # noqa: BLE001
            out = error(e)
        res.append({"in": item, "out": out})
    result[key] = res
json.dump(result, sys.stdout, ensure_ascii=False, indent=1)
