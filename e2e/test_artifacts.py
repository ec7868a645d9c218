"""Artifacts with the real mlflow client: the proxied artifact service through a
project's tracking URI, and what another project (or a traversal) cannot reach.
"""

from __future__ import annotations

import json
import os
import urllib.parse

import mlflow
import pytest
import requests
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

# The two-project server of the tenancy suite (team/alpha, other/beta).
from test_tenancy import ALPHA, BETA, TOKENS, tenant_server, uri  # noqa: F401  (fixture)

OURS = os.environ.get("MLFLOW_SHARINGHUB_E2E_SERVER", "") != "mlflow"


def _files(client: MlflowClient, run_id: str, path: str | None = None) -> dict:
    return {f.path: (f.is_dir, f.file_size) for f in client.list_artifacts(run_id, path)}


def test_log_list_download_roundtrip(mlflow_env, client, tmp_path, uid):
    mlflow.set_experiment(f"artifacts-{uid}")
    src = tmp_path / "src"
    (src / "nested" / "deeper").mkdir(parents=True)
    (src / "top.txt").write_text("top")
    (src / "nested" / "a.csv").write_text("a,b\n1,2\n")
    (src / "nested" / "deeper" / "b.bin").write_bytes(bytes(range(256)) * 10)
    single = tmp_path / "single.json"
    single.write_text('{"k": 1}')
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(single))
        mlflow.log_artifact(str(single), "sub")
        mlflow.log_artifacts(str(src), "tree")
        mlflow.log_text("hello text", "texts/hello.txt")
        mlflow.log_dict({"x": [1, 2]}, "dicts/d.json")
        mlflow.log_dict({"y": 3}, "dicts/d.yaml")
        import numpy as np  # mlflow depends on numpy and, through matplotlib, on Pillow

        mlflow.log_image(np.zeros((4, 4, 3), dtype=np.uint8), "images/zero.png")
    rid = run.info.run_id

    top = _files(client, rid)
    assert top == {"single.json": (False, 8), "sub": (True, None), "tree": (True, None),
                   "texts": (True, None), "dicts": (True, None),
                   "images": (True, None)}
    assert _files(client, rid, "tree") == {"tree/top.txt": (False, 3), "tree/nested": (True, None)}
    assert _files(client, rid, "tree/nested/deeper") == {"tree/nested/deeper/b.bin": (False, 2560)}
    assert _files(client, rid, "does/not/exist") == {}

    out = tmp_path / "out"
    out.mkdir()
    local = mlflow.artifacts.download_artifacts(run_id=rid, artifact_path="tree", dst_path=str(out))
    assert open(os.path.join(local, "top.txt")).read() == "top"
    assert open(os.path.join(local, "nested", "deeper", "b.bin"), "rb").read() == bytes(range(256)) * 10
    assert mlflow.artifacts.load_text(f"runs:/{rid}/texts/hello.txt") == "hello text"
    assert mlflow.artifacts.load_dict(f"runs:/{rid}/dicts/d.json") == {"x": [1, 2]}
    assert mlflow.artifacts.load_text(f"runs:/{rid}/dicts/d.yaml").strip() == "y: 3"
    img = mlflow.artifacts.load_image(f"runs:/{rid}/images/zero.png")
    assert img.size == (4, 4)
    (tmp_path / "all").mkdir()
    whole = client.download_artifacts(rid, "", str(tmp_path / "all"))
    assert json.load(open(os.path.join(whole, "sub", "single.json"))) == {"k": 1}


def test_download_headers_and_missing_file(mlflow_env, client, tracking, uid):
    exp = client.create_experiment(f"artheaders-{uid}")
    run = client.create_run(exp)
    client.log_text(run.info.run_id, "{}", "conf/c.json")
    base = tracking.uri.rstrip("/") + "/api/2.0/mlflow-artifacts/artifacts/"
    path = f"{exp}/{run.info.run_id}/artifacts/"
    r = requests.get(base + path + "conf/c.json", headers=tracking.headers(), timeout=30)
    assert r.status_code == 200 and r.content == b"{}"
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.headers["Content-Disposition"] == "attachment; filename=c.json"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    r = requests.get(base + path + "model", headers=tracking.headers(), timeout=30)
    assert r.status_code == 404 and r.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    r = requests.get(base.rstrip("/"), params={"path": path + "nothing"}, headers=tracking.headers(), timeout=30)
    assert r.status_code == 200 and r.json() == {}
    r = requests.delete(base + path + "conf", headers=tracking.headers(), timeout=30)
    assert r.status_code == 200
    assert client.list_artifacts(run.info.run_id) == []


@pytest.mark.skipif(not OURS, reason="projects are ours")
def test_other_project_gets_404_and_nothing_leaks(tenant_server, monkeypatch, tmp_path, uid):
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", TOKENS["dev"])
    mlflow.set_tracking_uri(uri(tenant_server, ALPHA))  # 2.x resolves mlflow-artifacts: with it
    alpha = MlflowClient(tracking_uri=uri(tenant_server, ALPHA))
    exp = alpha.create_experiment(f"secret-arts-{uid}")
    run = alpha.create_run(exp)
    rid = run.info.run_id
    (tmp_path / "secret.txt").write_text("alpha-secret-payload")
    alpha.log_artifact(rid, str(tmp_path / "secret.txt"), "private")
    assert [f.path for f in alpha.list_artifacts(rid, "private")] == ["private/secret.txt"]

    # Beta's developer through beta's URI, naming alpha's run and experiment.
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", TOKENS["beta_dev"])
    mlflow.set_tracking_uri(uri(tenant_server, BETA))
    beta = MlflowClient(tracking_uri=uri(tenant_server, BETA))
    for call in (lambda: beta.list_artifacts(rid),
                 lambda: beta.download_artifacts(rid, "private", str(tmp_path)),
                 lambda: beta.log_artifact(rid, str(tmp_path / "secret.txt"))):
        # (the client may reuse the artifact location it cached for the run:
        # that is alpha's URI, where beta's token has no access either)
        with pytest.raises((MlflowException, requests.HTTPError)) as e:
            call()
        assert "RESOURCE_DOES_NOT_EXIST" in str(e.value) and "404" in str(e.value) \
            or getattr(e.value, "error_code", "") == "RESOURCE_DOES_NOT_EXIST"
        assert "alpha-secret-payload" not in str(e.value)

    # The raw artifact routes, through beta's URI and (non-member) through alpha's.
    hb = {"Authorization": "Bearer " + TOKENS["beta_dev"]}
    rel = f"{exp}/{rid}/artifacts/private"
    for base in (uri(tenant_server, BETA), uri(tenant_server, ALPHA)):
        api = base.rstrip("/") + "/api/2.0/mlflow-artifacts"
        for method, url, kw in (
            ("GET", f"{api}/artifacts/{rel}/secret.txt", {}),
            ("PUT", f"{api}/artifacts/{rel}/secret.txt", {"data": b"overwrite"}),
            ("DELETE", f"{api}/artifacts/{rel}/secret.txt", {}),
            ("GET", f"{api}/artifacts", {"params": {"path": rel}}),
            ("POST", f"{api}/mpu/create/{rel}", {"json": {"path": "f", "num_parts": 1}}),
            ("GET", base.rstrip("/") + "/api/2.0/mlflow/artifacts/list", {"params": {"run_id": rid}}),
            ("GET", base.rstrip("/") + "/get-artifact", {"params": {"run_id": rid, "path": "private/secret.txt"}}),
        ):
            r = requests.request(method, url, headers=hb, timeout=30, **kw)
            assert r.status_code == 404, (method, url, r.status_code, r.text)
            assert "alpha-secret-payload" not in r.text
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", TOKENS["dev"])
    mlflow.set_tracking_uri(uri(tenant_server, ALPHA))
    (tmp_path / "check").mkdir()
    got = alpha.download_artifacts(rid, "private/secret.txt", str(tmp_path / "check"))
    assert open(got).read() == "alpha-secret-payload"


@pytest.mark.skipif(not OURS, reason="projects are ours")
def test_traversal_fails_on_every_artifact_route(tenant_server, monkeypatch, tmp_path, uid):
    # A beta experiment holds the target; alpha's developer tries to reach it.
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", TOKENS["beta_dev"])
    mlflow.set_tracking_uri(uri(tenant_server, BETA))  # 2.x resolves mlflow-artifacts: with it
    beta = MlflowClient(tracking_uri=uri(tenant_server, BETA))
    bexp = beta.create_experiment(f"target-{uid}")
    brun = beta.create_run(bexp)
    beta.log_text(brun.info.run_id, "beta-secret-payload", "t.txt")

    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", TOKENS["dev"])
    alpha = MlflowClient(tracking_uri=uri(tenant_server, ALPHA))
    exp = alpha.create_experiment(f"trav-{uid}")
    rid = alpha.create_run(exp).info.run_id
    target = f"{bexp}/{brun.info.run_id}/artifacts/t.txt"
    h = {"Authorization": "Bearer " + TOKENS["dev"]}
    base = uri(tenant_server, ALPHA).rstrip("/")
    api = base + "/api/2.0/mlflow-artifacts"
    spellings = [f"{exp}/../{target}", f"{exp}/%2e%2e/{target}", f"{exp}/%2E%2E%2F{urllib.parse.quote(target, safe='')}",
                 f"{exp}/..%5C{target}", "%2F" + urllib.parse.quote(f"{target}", safe=""), f"{exp}//{target}"]
    for sp in spellings:
        for method in ("GET", "PUT", "DELETE"):
            r = requests.request(method, f"{api}/artifacts/{sp}", headers=h, data=b"planted", timeout=30)
            assert r.status_code >= 400, (method, sp, r.status_code, r.text)
            assert "beta-secret-payload" not in r.text
        for op in ("create", "complete", "abort"):
            r = requests.post(f"{api}/mpu/{op}/{sp}", headers=h, timeout=30,
                              json={"path": "f", "num_parts": 1, "upload_id": "00", "parts": [{"part_number": 1, "etag": "x"}]})
            assert r.status_code >= 400, (op, sp, r.status_code, r.text)
    for q in ("../" + target, f"{exp}/../{bexp}", "/" + target, f"{exp}\\..\\{bexp}"):
        for url, params in ((f"{api}/artifacts", {"path": q}),
                            (base + "/api/2.0/mlflow/artifacts/list", {"run_id": rid, "path": q}),
                            (base + "/get-artifact", {"run_id": rid, "path": q})):
            r = requests.get(url, params=params, headers=h, timeout=30)
            assert r.status_code >= 400, (url, q, r.status_code, r.text)
            assert "beta-secret-payload" not in r.text
        r = requests.post(base + "/ajax-api/2.0/mlflow/upload-artifact", params={"run_uuid": rid, "path": q},
                          data=b"planted", headers=h, timeout=30)
        assert r.status_code >= 400, (q, r.status_code, r.text)
    # The mpu file name is a base name only.
    r = requests.post(f"{api}/mpu/create/{exp}/{rid}/artifacts", headers=h, timeout=30,
                      json={"path": "..", "num_parts": 1})
    assert r.status_code == 400
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", TOKENS["beta_dev"])
    mlflow.set_tracking_uri(uri(tenant_server, BETA))
    (tmp_path / "c").mkdir()
    assert beta.download_artifacts(brun.info.run_id, "t.txt", str(tmp_path / "c"))
    assert open(tmp_path / "c" / "t.txt").read() == "beta-secret-payload"


@pytest.mark.skipif(not OURS, reason="local multipart URLs are ours")
def test_multipart_upload_through_the_client(mlflow_env, client, tmp_path, uid, monkeypatch):
    monkeypatch.setenv("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD", "true")
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE", str(1 << 20))
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE", str(5 << 20))
    big = tmp_path / "big.bin"
    chunk = os.urandom(1 << 20)
    with open(big, "wb") as f:
        for _ in range(12):
            f.write(chunk)
        f.write(b"tail")
    exp = client.create_experiment(f"mpu-{uid}")
    run = client.create_run(exp)
    client.log_artifact(run.info.run_id, str(big), "large")
    (tmp_path / "dl").mkdir()
    got = client.download_artifacts(run.info.run_id, "large/big.bin", str(tmp_path / "dl"))
    assert os.path.getsize(got) == 12 * (1 << 20) + 4
    assert open(got, "rb").read() == open(big, "rb").read()
