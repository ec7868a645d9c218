"""Small helpers shared by the end-to-end tests."""

from __future__ import annotations

import contextlib
import math
import time

import mlflow
import pytest
from mlflow.exceptions import MlflowException

MLFLOW_MAJOR = int(mlflow.__version__.split(".")[0])


@contextlib.contextmanager
def raises_mlflow(code: str, match: str | None = None):
    """Expects an MlflowException carrying MLflow's error code (and message text)."""
    with pytest.raises(MlflowException) as ei:
        yield ei
    assert ei.value.error_code == code, f"expected {code}, got {ei.value.error_code}: {ei.value}"
    if match is not None:
        assert match in str(ei.value), str(ei.value)


def now_ms() -> int:
    return int(time.time() * 1000)


def norm(v):
    """Makes NaN comparable (NaN != NaN)."""
    if isinstance(v, float) and math.isnan(v):
        return "NaN"
    return v


def history(client, run_id: str, key: str) -> list[tuple]:
    """(value, timestamp, step) of a metric's full history, in the server's order."""
    return [(norm(m.value), m.timestamp, m.step) for m in client.get_metric_history(run_id, key)]


def ids(runs) -> list[str]:
    return [r.info.run_id for r in runs]
