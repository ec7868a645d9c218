"""End-to-end harness: the real ``mlflow`` Python client against the real binary.

What it does:

* builds ``./cmd/mlflow-sharinghub`` once per session (or uses ``$MLFLOW_SHARINGHUB_BIN``);
* starts it on a free port with a fresh database: a temporary SQLite file always and,
  when ``MLFLOW_SHARINGHUB_TEST_PG`` holds a PostgreSQL DSN, a freshly created PostgreSQL
  database as a second ``backend`` parameter, so every test runs on both;
* waits for ``/health`` (60 s at most), stops the server by its pid at teardown and adds the
  server's log to the report of every failing test;
* exposes the tracking URI (and any client environment such as ``MLFLOW_TRACKING_TOKEN``)
  from ONE place: :func:`tracking_for`. On our server that is a project's tracking URI,
  ``http://host/e2e/suite/tracking/``, with a Developer token from a static projects file;
  :class:`Tracking` also says how that project stores experiments (name suffix
  `` (7)``, ``project`` tag), so tests assert the stored values.

Developer switch: ``MLFLOW_SHARINGHUB_E2E_SERVER=mlflow`` runs the same suite against the
official ``mlflow server`` of the current virtualenv instead of our binary. The assertions
encode MLflow's behaviour, so the suite must pass there too; use it to check an expectation.
``MLFLOW_SHARINGHUB_E2E_MLFLOW_PYTHON`` names the Python whose ``mlflow server`` to run
(default: this one), e.g. to check the 2.14 client against the 3.18 server.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest

# Client settings for every test, set before mlflow reads them. Retries are kept low so
# that a server answering 5xx fails a test in seconds, not after ~4 minutes of retries
# (the client retries 5xx, POSTs included). One retry keeps one redirect allowed.
for _k, _v in {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "0",
    "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "60",
    "GIT_PYTHON_REFRESH": "quiet",
}.items():
    os.environ.setdefault(_k, _v)
# Never let an outer environment point the client somewhere else.
for _k in ("MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME",
           "MLFLOW_TRACKING_PASSWORD", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_EXPERIMENT_ID",
           "MLFLOW_RUN_ID"):
    os.environ.pop(_k, None)

import mlflow  # noqa: E402  (after the environment above)
from mlflow import MlflowClient  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parent.parent
START_TIMEOUT = float(os.environ.get("MLFLOW_SHARINGHUB_E2E_START_TIMEOUT", "60"))
STOP_TIMEOUT = 20.0
PG_ENV = "MLFLOW_SHARINGHUB_TEST_PG"

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get(PG_ENV) else [])


# ---------------------------------------------------------------------------------------
# Processes


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_ALL_SERVERS: list["Server"] = []


class Server:
    """A server process we started: ours ("sharinghub") or the official one ("mlflow")."""

    def __init__(self, kind: str, argv: list[str], port: int, log_path: pathlib.Path,
                 env: dict[str, str] | None = None, cwd: pathlib.Path | None = None):
        self.kind = kind
        self.argv = argv
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self.env = env
        self.cwd = cwd
        self.proc: subprocess.Popen | None = None
        _ALL_SERVERS.append(self)

    def __repr__(self) -> str:
        return f"<{self.kind} server {self.url}>"

    def start(self) -> "Server":
        log = open(self.log_path, "ab")
        log.write(f"$ {' '.join(self.argv)}\n".encode())
        log.flush()
        # A new session makes the server the leader of its own process group, so stop()
        # reaches the workers it forks (uvicorn) and nothing else.
        self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=self.env,
                                     cwd=self.cwd, start_new_session=True)
        log.close()
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        last = ""
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self} exited with {self.proc.returncode} before it was "
                                   f"healthy; log:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as r:
                    body = r.read().decode(errors="replace").strip()
                    if r.status == 200 and body == "OK":
                        return
                    last = f"{r.status} {body!r}"
            except (urllib.error.URLError, OSError) as e:
                last = repr(e)
            time.sleep(0.2)
        raise RuntimeError(f"{self} not healthy after {START_TIMEOUT:.0f}s (last: {last}); "
                           f"log:\n{self.log_tail()}")

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        """Stops the process group of the process we started (by its pid)."""
        if self.proc is None:
            return
        pid = self.proc.pid
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
                self.proc.wait(STOP_TIMEOUT)
        # Workers (uvicorn) may outlive their parent for a moment: make sure none is left.
        deadline = time.monotonic() + STOP_TIMEOUT
        while _group_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _group_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        # The port must be free again before anyone reuses the database.
        while not _port_free(self.port) and time.monotonic() < deadline:
            time.sleep(0.1)

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except FileNotFoundError:
            return 0

    def log_text(self, offset: int = 0) -> str:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 200, offset: int = 0) -> str:
        return "\n".join(self.log_text(offset).splitlines()[-lines:])


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def _server_env() -> dict[str, str]:
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("MLFLOW_TRACKING_") or k in ("MLFLOW_EXPERIMENT_NAME", "MLFLOW_RUN_ID"):
            env.pop(k)
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    return env


def start_sharinghub(binary: str, db: "Database", workdir: pathlib.Path) -> Server:
    port = free_port()
    art = workdir / f"artifacts-{port}"
    art.mkdir(parents=True, exist_ok=True)
    argv = [binary, "server", "--host", "127.0.0.1", "--port", str(port),
            "--backend-store-uri", db.uri,
            "--default-artifact-root", "mlflow-artifacts:/",
            "--artifacts-destination", str(art)]
    env = _server_env()
    env.update(sharinghub_env(workdir))
    return Server("sharinghub", argv, port, workdir / f"sharinghub-{port}.log",
                  env=env, cwd=workdir).start()


def start_mlflow(db: "Database", workdir: pathlib.Path) -> Server:
    """Starts the official ``mlflow server`` of this virtualenv on db."""
    port = free_port()
    art = workdir / f"artifacts-{port}"
    art.mkdir(parents=True, exist_ok=True)
    env = _server_env()
    # No huey job consumers (GenAI scorer jobs): a dozen processes we do not need.
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
    python = os.environ.get("MLFLOW_SHARINGHUB_E2E_MLFLOW_PYTHON") or sys.executable
    argv = [python, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
            "--workers", "1", "--backend-store-uri", db.mlflow_uri,
            "--default-artifact-root", "mlflow-artifacts:/",
            "--artifacts-destination", str(art)]
    return Server("mlflow", argv, port, workdir / f"mlflow-{port}.log",
                  env=env, cwd=workdir).start()


# ---------------------------------------------------------------------------------------
# Databases


@dataclasses.dataclass
class Database:
    backend: str
    uri: str  # for our server
    mlflow_uri: str  # for `mlflow server` (SQLAlchemy form)
    _drop: object = None

    def drop(self) -> None:
        if self._drop:
            self._drop()


def _pg_dsn() -> str:
    dsn = os.environ.get(PG_ENV, "")
    if not dsn:
        pytest.fail(f"{PG_ENV} is not set")
    return dsn


def _pg_connect(dsn: str):
    try:
        import psycopg2
    except ImportError:  # the test script installs it; a missing driver must not skip PG
        pytest.fail(f"{PG_ENV} is set but psycopg2 is not installed in {sys.executable}")
    try:
        conn = psycopg2.connect(dsn, connect_timeout=10)
    except Exception as e:  # noqa: BLE001
        pytest.fail(f"cannot connect to PostgreSQL at {PG_ENV}: {e}")
    conn.autocommit = True
    return conn


def _with_dbname(dsn: str, name: str) -> str:
    u = urllib.parse.urlsplit(dsn)
    return urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + name, u.query, u.fragment))


def new_database(backend: str, workdir: pathlib.Path) -> Database:
    """A fresh, empty database on backend."""
    if backend == "sqlite":
        path = workdir / f"mlflow-{uuid.uuid4().hex[:8]}.db"
        uri = f"sqlite:///{path}"  # path is absolute: sqlite:////abs/path.db
        return Database("sqlite", uri, uri)
    if backend == "postgresql":
        base = _pg_dsn()
        name = f"e2e_{uuid.uuid4().hex[:12]}"
        conn = _pg_connect(base)
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        conn.close()
        uri = _with_dbname(base, name)
        if uri.startswith("postgres://"):
            uri = "postgresql://" + uri[len("postgres://"):]
        mlflow_uri = "postgresql+psycopg2://" + uri[len("postgresql://"):]

        def drop() -> None:
            c = _pg_connect(base)
            with c.cursor() as cur:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            c.close()

        return Database("postgresql", uri, mlflow_uri, drop)
    raise ValueError(backend)


# ---------------------------------------------------------------------------------------
# The tracking URI: ONE place


@dataclasses.dataclass
class Tracking:
    """What a client needs to talk to a server, and how that server scopes what it stores.

    uri, env: the tracking URI and the client environment (e.g. MLFLOW_TRACKING_TOKEN).
    suffix, owner_tags: what a project-scoped server adds to the experiments it creates
    (name suffix " (<project id>)", ownership tag); empty for a plain MLflow server.
    sees_default: whether experiment "0" ("Default") is visible through this URI.
    """

    uri: str
    env: dict[str, str]
    suffix: str = ""
    owner_tags: dict[str, str] = dataclasses.field(default_factory=dict)
    sees_default: bool = True

    def client(self) -> MlflowClient:
        return MlflowClient(tracking_uri=self.uri)

    def headers(self) -> dict[str, str]:
        h = {}
        if self.env.get("MLFLOW_TRACKING_TOKEN"):
            h["Authorization"] = "Bearer " + self.env["MLFLOW_TRACKING_TOKEN"]
        return h

    def exp_name(self, name: str) -> str:
        """The stored (and returned) name of an experiment created as name."""
        return name + self.suffix

    def exp_tags(self, tags: dict[str, str]) -> dict[str, str]:
        """The tags of an experiment created with tags."""
        return {**tags, **self.owner_tags}


# The project the suite works in on our server, from a static projects file
# (--projects-file): a Developer (create, read, update, delete) with a token.
E2E_PROJECT_ID = 7
E2E_PROJECT_PATH = "e2e/suite"
E2E_TOKEN = "e2e-developer-token"
PROJECTS_FILE = {
    "projects": [{"id": E2E_PROJECT_ID, "path": E2E_PROJECT_PATH, "visibility": "private"}],
    "users": [{"username": "e2e", "token": E2E_TOKEN}],
    "memberships": [{"user": "e2e", "project": E2E_PROJECT_PATH, "role": "Developer"}],
}


def sharinghub_env(workdir: pathlib.Path) -> dict[str, str]:
    """Environment that gives our server its projects and roles (goes with tracking_for).

    Set through the environment rather than flags, so that a binary that does not know
    the setting still starts.
    """
    path = workdir / "projects.json"
    if not path.exists():
        path.write_text(json.dumps(PROJECTS_FILE, indent=2))
    return {"MLFLOW_SHARINGHUB_PROJECTS_FILE": str(path)}


def tracking_for(server: Server) -> Tracking:
    """THE tracking URI and client environment of a server: the one place to change.

    Ours: the project's tracking URI (http://host/<project path>/tracking/) with a token.
    The official mlflow server: its root.
    """
    return tracking_for_kind(server.kind, server.url)


def tracking_for_kind(kind: str, url: str) -> Tracking:
    if kind == "mlflow":
        return Tracking(uri=url, env={})
    return Tracking(uri=f"{url}/{E2E_PROJECT_PATH}/tracking/",
                    env={"MLFLOW_TRACKING_TOKEN": E2E_TOKEN},
                    suffix=f" ({E2E_PROJECT_ID})",
                    owner_tags={"project": E2E_PROJECT_PATH},
                    sees_default=False)


@contextlib.contextmanager
def use_tracking(tracking: Tracking):
    """Points the fluent API and the environment at tracking for the duration."""
    saved = {k: os.environ.get(k) for k in ["MLFLOW_TRACKING_URI", *tracking.env]}
    os.environ["MLFLOW_TRACKING_URI"] = tracking.uri
    os.environ.update(tracking.env)
    mlflow.set_tracking_uri(tracking.uri)
    try:
        yield tracking
    finally:
        while mlflow.active_run() is not None:
            mlflow.end_run()
        _reset_active_experiment()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _reset_active_experiment() -> None:
    fluent = mlflow.tracking.fluent
    if hasattr(fluent, "_active_experiment_id"):
        fluent._active_experiment_id = None


class Rest:
    """Raw REST calls for what the client hides (paging knobs, limits, wire shapes)."""

    def __init__(self, tracking: Tracking):
        import requests

        self.base = tracking.uri.rstrip("/")
        self.session = requests.Session()
        self.session.headers.update(tracking.headers())

    def get(self, path: str, params=None, prefix: str = "/api/2.0/mlflow"):
        r = self.session.get(self.base + prefix + path, params=params, timeout=60)
        return r.status_code, _json(r)

    def post(self, path: str, body=None, prefix: str = "/api/2.0/mlflow"):
        r = self.session.post(self.base + prefix + path, json=body if body is not None else {},
                              timeout=60)
        return r.status_code, _json(r)


def _json(r):
    try:
        return r.json()
    except ValueError:
        return {"_raw": r.text}


# ---------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="session")
def workdir(tmp_path_factory) -> pathlib.Path:
    return tmp_path_factory.mktemp("e2e")


@pytest.fixture(scope="session")
def sharinghub_bin(tmp_path_factory) -> str:
    """Our binary: $MLFLOW_SHARINGHUB_BIN, or built once for the session."""
    env_bin = os.environ.get("MLFLOW_SHARINGHUB_BIN")
    if env_bin:
        if not os.access(env_bin, os.X_OK):
            pytest.fail(f"MLFLOW_SHARINGHUB_BIN={env_bin} is not an executable")
        return env_bin
    go = shutil.which("go")
    if go is None:
        pytest.fail("go is not on PATH and MLFLOW_SHARINGHUB_BIN is not set")
    out = tmp_path_factory.mktemp("bin") / "mlflow-sharinghub"
    p = subprocess.run([go, "build", "-o", str(out), "./cmd/mlflow-sharinghub"], cwd=REPO,
                       capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        pytest.fail(f"go build ./cmd/mlflow-sharinghub failed:\n{p.stdout}{p.stderr}")
    return str(out)


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request) -> str:
    return request.param


def _reference_mode() -> bool:
    return os.environ.get("MLFLOW_SHARINGHUB_E2E_SERVER", "") == "mlflow"


@pytest.fixture(scope="session")
def start_ours(request, workdir):
    """Starts the server under test on a database: our binary (or, in reference mode,
    the official mlflow server)."""
    if _reference_mode():
        def start(db):
            return start_mlflow(db, workdir)
        start.kind = "mlflow"
    else:
        binary = request.getfixturevalue("sharinghub_bin")

        def start(db):
            return start_sharinghub(binary, db, workdir)
        start.kind = "sharinghub"
    return start


@pytest.fixture(scope="session")
def server(start_ours, backend, workdir):
    """A running server on a fresh database of the session's backend."""
    db = new_database(backend, workdir)
    srv = start_ours(db)
    yield srv
    srv.stop()
    db.drop()


@pytest.fixture(scope="session")
def tracking(server) -> Tracking:
    return tracking_for(server)


@pytest.fixture
def mlflow_env(tracking):
    """Points the fluent API at the session server; ends leftover runs afterwards."""
    with use_tracking(tracking) as t:
        yield t


@pytest.fixture
def client(tracking, mlflow_env) -> MlflowClient:
    return tracking.client()


@pytest.fixture(scope="session")
def rest(tracking) -> Rest:
    return Rest(tracking)


@pytest.fixture
def uid() -> str:
    """A short unique suffix: the session database is shared between tests."""
    return uuid.uuid4().hex[:10]


# ---------------------------------------------------------------------------------------
# Server logs in the report of failing tests


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    item._e2e_log_marks = {id(s): s.log_size() for s in _ALL_SERVERS}
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if not rep.failed:
        return
    marks = getattr(item, "_e2e_log_marks", {})
    for s in _ALL_SERVERS:
        start = marks.get(id(s), 0)
        if s.log_size() > start:
            rep.sections.append((f"{s.kind} server log ({s.url}, {rep.when})",
                                 s.log_tail(300, offset=start)))
        marks[id(s)] = s.log_size()  # do not repeat it for the teardown report


def pytest_configure(config):
    # CI must not skip what matters: the PostgreSQL variant is mandatory there.
    if os.environ.get("CI") == "true" and not os.environ.get(PG_ENV):
        raise pytest.UsageError(f"CI=true but {PG_ENV} is not set: the PostgreSQL "
                                "end-to-end tests are mandatory in CI")


def pytest_report_header(config):
    mode = "official mlflow server (reference mode)" if _reference_mode() else "mlflow-sharinghub"
    return [f"mlflow client {mlflow.__version__}; server under test: {mode}; "
            f"backends: {', '.join(BACKENDS)}"]


def pytest_sessionfinish(session, exitstatus):
    # Belt and braces: never leave a server behind, whatever happened.
    for s in _ALL_SERVERS:
        with contextlib.suppress(Exception):
            s.stop()
