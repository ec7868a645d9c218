"""Per-project tracking URIs with the real mlflow client: roles, tokens, isolation.

One server with a static projects file: project team/alpha (id 11) with a Developer, a
Reporter and a Developer of another project; project other/beta (id 22). The client talks
to http://host/<project path>/tracking/ with MLFLOW_TRACKING_TOKEN (Bearer) or with
MLFLOW_TRACKING_USERNAME/PASSWORD (Basic, the token as password).
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request

import mlflow
import pytest
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from conftest import Server, _server_env, free_port, new_database

if os.environ.get("MLFLOW_SHARINGHUB_E2E_SERVER", "") == "mlflow":
    pytest.skip("tenancy is ours: there is no reference behaviour in mlflow server",
                allow_module_level=True)

ALPHA, ALPHA_ID = "team/alpha", 11
BETA, BETA_ID = "other/beta", 22
TOKENS = {
    "dev": "dev-token-alpha-0001",
    "reporter": "reporter-token-alpha-0001",
    "beta_dev": "dev-token-beta-0001",
}
PROJECTS = {
    "projects": [
        {"id": ALPHA_ID, "path": ALPHA, "visibility": "private"},
        {"id": BETA_ID, "path": BETA, "visibility": "private"},
    ],
    "users": [
        {"username": "dev", "token": TOKENS["dev"]},
        {"username": "reporter", "token": TOKENS["reporter"]},
        {"username": "beta_dev", "token": TOKENS["beta_dev"]},
    ],
    "memberships": [
        {"user": "dev", "project": ALPHA, "role": "Developer"},
        {"user": "reporter", "project": ALPHA, "role": "Reporter"},
        {"user": "beta_dev", "project": BETA, "role": "Developer"},
    ],
}


@pytest.fixture(scope="module")
def tenant_server(sharinghub_bin, workdir, backend):
    path = workdir / "tenancy-projects.json"
    path.write_text(json.dumps(PROJECTS))
    db = new_database(backend, workdir)
    port = free_port()
    art = workdir / f"tenancy-artifacts-{port}"
    art.mkdir(parents=True, exist_ok=True)
    env = _server_env()
    env["MLFLOW_SHARINGHUB_PROJECTS_FILE"] = str(path)
    srv = Server("sharinghub", [sharinghub_bin, "server", "--host", "127.0.0.1", "--port", str(port),
                                "--backend-store-uri", db.uri, "--artifacts-destination", str(art)],
                 port, workdir / f"tenancy-{port}.log", env=env, cwd=workdir).start()
    yield srv
    srv.stop()
    db.drop()


def uri(srv: Server, project: str) -> str:
    return f"{srv.url}/{project}/tracking/"


@pytest.fixture(params=["bearer", "basic"])
def as_user(request, monkeypatch, tenant_server):
    """Returns a function that points the client at a project as a user."""

    def use(user: str, project: str = ALPHA) -> MlflowClient:
        for k in ("MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
            monkeypatch.delenv(k, raising=False)
        if user:
            if request.param == "bearer":
                monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", TOKENS[user])
            else:
                monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", user)
                monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", TOKENS[user])
        u = uri(tenant_server, project)
        mlflow.set_tracking_uri(u)
        return MlflowClient(tracking_uri=u)

    yield use
    while mlflow.active_run():
        mlflow.end_run()


def error_code(excinfo) -> str:
    return getattr(excinfo.value, "error_code", "")


def test_developer_works_end_to_end_and_suffix_is_completed(as_user, uid):
    client = as_user("dev")
    exp = mlflow.set_experiment(f"baseline-{uid}")
    assert exp.name == f"baseline-{uid} ({ALPHA_ID})"
    assert exp.tags.get("project") == ALPHA
    # With and without the suffix: the same experiment.
    again = mlflow.set_experiment(f"baseline-{uid} ({ALPHA_ID})")
    assert again.experiment_id == exp.experiment_id
    with mlflow.start_run() as run:
        mlflow.log_param("lr", "0.1")
        mlflow.log_metric("loss", 0.5, step=1)
        mlflow.set_tag("team", "alpha")
    got = client.get_run(run.info.run_id)
    assert got.data.params == {"lr": "0.1"} and got.data.metrics == {"loss": 0.5}
    found = client.search_runs([exp.experiment_id], "params.lr = '0.1'")
    assert [r.info.run_id for r in found] == [run.info.run_id]
    names = [e.name for e in client.search_experiments()]
    assert exp.name in names and "Default" not in names
    # The ownership tag cannot be changed by the caller.
    with pytest.raises(MlflowException) as e:
        client.set_experiment_tag(exp.experiment_id, "project", "other/beta")
    assert error_code(e) == "PERMISSION_DENIED"
    # Another project's suffix is refused, naming the expected one.
    with pytest.raises(MlflowException) as e:
        client.create_experiment(f"x-{uid} ({BETA_ID})")
    assert error_code(e) == "INVALID_PARAMETER_VALUE" and f"({ALPHA_ID})" in str(e.value)


def test_reporter_reads_but_cannot_write(as_user, uid):
    dev = as_user("dev")
    exp_id = dev.create_experiment(f"shared-{uid}")
    run = dev.create_run(exp_id)
    dev.log_metric(run.info.run_id, "acc", 0.9)

    rep = as_user("reporter")
    assert rep.get_experiment(exp_id).name == f"shared-{uid} ({ALPHA_ID})"
    assert rep.get_experiment_by_name(f"shared-{uid}").experiment_id == exp_id
    assert [r.info.run_id for r in rep.search_runs([exp_id])] == [run.info.run_id]
    assert [m.value for m in rep.get_metric_history(run.info.run_id, "acc")] == [0.9]
    for write in (
        lambda: rep.create_experiment(f"nope-{uid}"),
        lambda: rep.create_run(exp_id),
        lambda: rep.log_metric(run.info.run_id, "acc", 1.0),
        lambda: rep.set_tag(run.info.run_id, "k", "v"),
        lambda: rep.delete_run(run.info.run_id),
        lambda: rep.rename_experiment(exp_id, f"renamed-{uid}"),
    ):
        with pytest.raises(MlflowException) as e:
            write()
        assert error_code(e) == "PERMISSION_DENIED", str(e.value)
        assert "Developer" in str(e.value)


def test_other_project_member_sees_nothing(as_user, uid):
    dev = as_user("dev")
    exp_id = dev.create_experiment(f"secret-{uid}")
    run = dev.create_run(exp_id)
    dev.log_param(run.info.run_id, "marker", f"alpha-secret-{uid}")

    # Through alpha's URI, beta's developer is not a member: nothing exists.
    outsider = as_user("beta_dev", ALPHA)
    with pytest.raises(MlflowException) as e:
        outsider.get_experiment(exp_id)
    assert error_code(e) == "RESOURCE_DOES_NOT_EXIST"
    # Through beta's own URI, alpha's ids and names do not exist either.
    beta = as_user("beta_dev", BETA)
    for read in (
        lambda: beta.get_experiment(exp_id),
        lambda: beta.get_run(run.info.run_id),
        lambda: beta.get_metric_history(run.info.run_id, "x"),
    ):
        with pytest.raises(MlflowException) as e:
            read()
        assert error_code(e) == "RESOURCE_DOES_NOT_EXIST", str(e.value)
        assert f"alpha-secret-{uid}" not in str(e.value)
    # get_experiment_by_name answers None on RESOURCE_DOES_NOT_EXIST.
    assert beta.get_experiment_by_name(f"secret-{uid} ({ALPHA_ID})") is None
    assert beta.get_experiment_by_name(f"secret-{uid}") is None
    assert all(f"secret-{uid}" not in e.name for e in beta.search_experiments())
    assert beta.search_runs([exp_id]) == []
    beta_exp = beta.create_experiment(f"mine-{uid}")
    assert beta.get_experiment(beta_exp).name == f"mine-{uid} ({BETA_ID})"


def test_without_credentials_the_client_is_told_to_set_a_token(tenant_server):
    req = urllib.request.Request(uri(tenant_server, ALPHA) + "api/2.0/mlflow/experiments/search?max_results=1",
                                 headers={"User-Agent": "mlflow-python-client/3.18.0"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=10)
    assert e.value.code == 401
    assert e.value.headers["WWW-Authenticate"] == 'Bearer realm="mlflow"'
    body = json.loads(e.value.read())
    assert body["error_code"] == "UNAUTHENTICATED" and "MLFLOW_TRACKING_TOKEN" in body["message"]


def test_global_scope_is_read_only(as_user, tenant_server, uid):
    dev = as_user("dev")
    exp_id = dev.create_experiment(f"global-{uid}")
    mlflow.set_tracking_uri(tenant_server.url)
    glob = MlflowClient(tracking_uri=tenant_server.url)
    assert glob.get_experiment(exp_id).name == f"global-{uid} ({ALPHA_ID})"
    with pytest.raises(MlflowException) as e:
        glob.create_experiment(f"global-write-{uid}")
    assert error_code(e) == "PERMISSION_DENIED"
