#!/usr/bin/env bash
# The one command that runs every test:
#
#   scripts/test.sh
#
# 1. gofmt (must list nothing) and go vet;
# 2. starts a throw-away PostgreSQL (scripts/pg-start.sh) and exports
#    MLFLOW_SHARINGHUB_TEST_PG, unless it is already set. When CI=true a
#    PostgreSQL that cannot be started is a failure; elsewhere a warning;
# 3. go test -race ./... (the store suite runs on SQLite, and on PostgreSQL);
# 4. builds the server once, sets up two virtualenvs it owns (.venv/mlflow3
#    with mlflow 3.18, .venv/mlflow2 with mlflow 2.14; reused once complete)
#    and runs the end-to-end suite (e2e/) with the real mlflow client of each.
#
# Every step runs even if an earlier one failed; the exit status is non-zero
# if any step failed, and a summary is printed at the end. On a fresh Debian
# machine run it as root: missing system packages are installed with apt-get.
#
# Environment:
#   MLFLOW_SHARINGHUB_TEST_PG  PostgreSQL DSN to use instead of starting one.
#   CI=true                    PostgreSQL and every test suite are mandatory.
#   PYTHON                     Python used to create the virtualenvs (python3).
#   E2E_PYTEST_ARGS            Extra pytest arguments (e.g. "-k search -x").
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

ci=false
[[ "${CI:-}" == "true" ]] && ci=true
python="${PYTHON:-python3}"
venvs="$root/.venv"

# ------------------------------------------------------------------------------
# Bookkeeping

results=()
failed=0
say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
record() { # record STATUS NAME SECONDS [NOTE]
  local status="$1" name="$2" secs="$3" note="${4:-}"
  results+=("$(printf '%-5s %-40s %5ss %s' "$status" "$name" "$secs" "$note")")
  [[ "$status" == FAIL ]] && failed=1
  return 0
}
step() { # step NAME CMD...: runs CMD, records PASS/FAIL, returns its status
  local name="$1"; shift
  say "$name"
  local t0=$SECONDS rc=0
  "$@" || rc=$?
  if [[ $rc == 0 ]]; then
    record PASS "$name" $((SECONDS - t0))
  else
    record FAIL "$name" $((SECONDS - t0)) "(exit $rc)"
  fi
  return $rc
}

apt_updated=false
apt_install() { # apt_install PKG...: only as root, on Debian
  if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null; then
    echo "test.sh: missing $*; install it (apt-get install $*)" >&2
    return 1
  fi
  if ! $apt_updated; then
    apt-get update -qq >&2 && apt_updated=true
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

# ------------------------------------------------------------------------------
# System prerequisites

# Go: the release go.mod asks for, from go.dev (Debian's golang-go is too old to
# even read go.mod), into /usr/local/go.
install_go() {
  local v arch
  v="$(awk '$1 == "toolchain" { sub(/^go/, "", $2); t = $2 } $1 == "go" { g = $2 }
            END { print (t != "" ? t : g) }' go.mod)"
  case "$(uname -m)" in
    x86_64) arch=amd64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "test.sh: install Go $v for $(uname -m) by hand" >&2; return 1 ;;
  esac
  if [[ "$(id -u)" != 0 ]]; then
    echo "test.sh: Go is missing: install Go $v (https://go.dev/dl/)" >&2
    return 1
  fi
  command -v curl >/dev/null || apt_install curl ca-certificates || return 1
  echo "installing Go $v into /usr/local/go"
  rm -rf /usr/local/go &&
    curl -fsSL "https://go.dev/dl/go$v.linux-$arch.tar.gz" | tar -C /usr/local -xz
}

prereqs() {
  local ok=0
  if [[ ! -e /etc/ssl/certs/ca-certificates.crt ]] && command -v apt-get >/dev/null; then
    apt_install ca-certificates || ok=1
  fi
  if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then
    export PATH="/usr/local/go/bin:$PATH"
  fi
  if ! command -v go >/dev/null; then
    install_go && export PATH="/usr/local/go/bin:$PATH" || ok=1
  fi
  # go test -race needs cgo, hence a C compiler.
  if ! command -v gcc >/dev/null && ! command -v cc >/dev/null; then
    apt_install gcc libc6-dev || ok=1
  fi
  if ! command -v "$python" >/dev/null; then
    apt_install python3 python3-venv python3-pip || ok=1
  fi
  if ! "$python" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    apt_install python3-venv || ok=1
  fi
  command -v go >/dev/null && go version
  command -v "$python" >/dev/null && "$python" --version
  return $ok
}

# ------------------------------------------------------------------------------
# Go checks

gofmt_check() {
  local out
  out="$(find . -name '*.go' -not -path './.venv/*' -not -path './.git/*' -print0 \
    | xargs -0 -r gofmt -l)" || return 1
  if [[ -n "$out" ]]; then
    echo "gofmt: these files need formatting (run gofmt -w):" >&2
    echo "$out" >&2
    return 1
  fi
}

start_pg() {
  if [[ -n "${MLFLOW_SHARINGHUB_TEST_PG:-}" ]]; then
    echo "using MLFLOW_SHARINGHUB_TEST_PG from the environment"
    record PASS "postgresql (given)" 0
    return 0
  fi
  say "postgresql"
  local t0=$SECONDS dsn
  if dsn="$("$root/scripts/pg-start.sh")" && [[ -n "$dsn" ]]; then
    export MLFLOW_SHARINGHUB_TEST_PG="$dsn"
    echo "MLFLOW_SHARINGHUB_TEST_PG=$dsn"
    record PASS "postgresql" $((SECONDS - t0))
  elif $ci; then
    echo "test.sh: PostgreSQL could not be started; it is mandatory in CI" >&2
    record FAIL "postgresql" $((SECONDS - t0)) "(mandatory in CI)"
  else
    echo "test.sh: WARNING: PostgreSQL could not be started: the PostgreSQL store" \
      "and end-to-end tests will NOT run (they are mandatory in CI)" >&2
    record WARN "postgresql" $((SECONDS - t0)) "(not started: PostgreSQL tests skipped)"
  fi
}

# ------------------------------------------------------------------------------
# Virtualenvs (owned by this script; reused once a marker says they are complete)

MLFLOW3_RECIPE='mlflow 3.18 | try: mlflow==3.18.* pytest pandas scikit-learn psycopg2-binary |
fallback: mlflow==3.17.2 pytest pandas scikit-learn psycopg2-binary python-multipart<1,>=0.0.18
then --no-deps mlflow-skinny==3.18.0 mlflow==3.18.0 | v1'
MLFLOW2_RECIPE='mlflow 2.14 | mlflow==2.14.* pytest pandas numpy<2 scikit-learn psycopg2-binary | v1'

install_mlflow3() { # install_mlflow3 VENV
  local pip="$1/bin/pip"
  "$pip" install -q --upgrade pip
  # mlflow 3.18.0 pins mlflow-tracing==3.18.0, which is not on PyPI: when the
  # plain install cannot resolve, install 3.17.2 with its dependencies and put
  # 3.18.0 on top (pip then warns about mlflow-tracing 3.17.2; harmless).
  if "$pip" install -q "mlflow==3.18.*" pytest pandas scikit-learn psycopg2-binary; then
    return 0
  fi
  echo "test.sh: mlflow==3.18.* does not resolve; using the 3.17.2 + 3.18.0 recipe"
  "$pip" install -q "mlflow==3.17.2" pytest pandas scikit-learn psycopg2-binary \
    "python-multipart<1,>=0.0.18" &&
    "$pip" install -q --no-deps --force-reinstall "mlflow-skinny==3.18.0" "mlflow==3.18.0"
}

install_mlflow2() { # install_mlflow2 VENV
  local pip="$1/bin/pip"
  "$pip" install -q --upgrade pip &&
    "$pip" install -q "mlflow==2.14.*" pytest pandas "numpy<2" scikit-learn psycopg2-binary
}

setup_venv() { # setup_venv NAME RECIPE INSTALL_FN VERSION_PREFIX
  local name="$1" recipe="$2" install="$3" want="$4"
  local dir="$venvs/$name" marker="$venvs/$name/.complete" log="$venvs/$name.log"
  if [[ -f "$marker" && "$(cat "$marker")" == "$recipe" && -x "$dir/bin/python" ]]; then
    echo "reusing $dir"
  else
    echo "creating $dir (log: $log)"
    rm -rf "$dir"
    mkdir -p "$venvs"
    if ! { "$python" -m venv "$dir" && "$install" "$dir"; } >"$log" 2>&1; then
      tail -n 40 "$log" >&2
      echo "test.sh: installing $name failed (full log: $log)" >&2
      return 1
    fi
  fi
  local got
  got="$(MLFLOW_DISABLE_TELEMETRY=true "$dir/bin/python" -W ignore -c \
    'import mlflow, pytest, pandas; print(mlflow.__version__)' 2>/dev/null)" || {
    echo "test.sh: $dir cannot import mlflow/pytest/pandas" >&2
    rm -f "$marker"
    return 1
  }
  if [[ "$got" != "$want"* ]]; then
    echo "test.sh: $dir has mlflow $got, want $want*" >&2
    rm -f "$marker"
    return 1
  fi
  echo "$name: mlflow $got"
  printf '%s' "$recipe" >"$marker"
}

# ------------------------------------------------------------------------------
# End-to-end suite

build_dir="$(mktemp -d)"
trap 'rm -rf "$build_dir"' EXIT

build_server() {
  go build -o "$build_dir/mlflow-sharinghub" ./cmd/mlflow-sharinghub &&
    export MLFLOW_SHARINGHUB_BIN="$build_dir/mlflow-sharinghub"
}

run_e2e() { # run_e2e NAME
  local py="$venvs/$1/bin/python" rc=0
  # shellcheck disable=SC2086 # E2E_PYTEST_ARGS is split on purpose
  (cd "$root/e2e" && "$py" -m pytest -q ${E2E_PYTEST_ARGS:-}) || rc=$?
  if [[ $rc == 5 ]]; then
    echo "test.sh: pytest collected no tests: that is a failure" >&2
  fi
  return $rc
}

# ------------------------------------------------------------------------------
# S3 double for the artifact store suite (internal/artifacts TestS3Conformance):
# moto's standalone server in its own virtualenv, .venv/moto, unless one is on
# PATH or named by MLFLOW_SHARINGHUB_MOTO. With CI=true the suite fails without it.

setup_moto() {
  if [[ -n "${MLFLOW_SHARINGHUB_MOTO:-}" ]]; then
    echo "using $MLFLOW_SHARINGHUB_MOTO"; return 0
  fi
  local dir="$venvs/moto"
  if [[ ! -x "$dir/bin/moto_server" ]]; then
    echo "creating $dir (log: $venvs/moto.log)"
    mkdir -p "$venvs"
    if ! { "$python" -m venv "$dir" && "$dir/bin/pip" install -q "moto[server]"; } >"$venvs/moto.log" 2>&1; then
      tail -n 20 "$venvs/moto.log" >&2
      rm -rf "$dir"
      return 1
    fi
  fi
  export MLFLOW_SHARINGHUB_MOTO="$dir/bin/moto_server"
  echo "moto: $MLFLOW_SHARINGHUB_MOTO"
}

# ------------------------------------------------------------------------------

t_start=$SECONDS
step "prerequisites" prereqs
step "gofmt -l" gofmt_check
step "go vet ./..." go vet ./...
start_pg
step "moto S3 server (.venv/moto)" setup_moto
step "go test -race ./..." go test -race -count=1 ./...

built=false
step "go build ./cmd/mlflow-sharinghub" build_server && built=true

venv3=false venv2=false
step "virtualenv .venv/mlflow3 (mlflow 3.18)" \
  setup_venv mlflow3 "$MLFLOW3_RECIPE" install_mlflow3 3.18. && venv3=true
step "virtualenv .venv/mlflow2 (mlflow 2.14)" \
  setup_venv mlflow2 "$MLFLOW2_RECIPE" install_mlflow2 2.14. && venv2=true

for v in "mlflow3 3.18 $venv3" "mlflow2 2.14 $venv2"; do
  read -r name ver ok <<<"$v"
  if $ok && $built; then
    step "e2e with the mlflow $ver client" run_e2e "$name"
  else
    record FAIL "e2e with the mlflow $ver client" 0 "(not run: setup failed)"
  fi
done

say "summary ($((SECONDS - t_start))s)"
for r in "${results[@]}"; do
  echo "  $r"
done
if [[ -z "${MLFLOW_SHARINGHUB_TEST_PG:-}" ]]; then
  echo "  NOTE  PostgreSQL was not available: its store and e2e tests did not run"
fi
if [[ $failed != 0 ]]; then
  echo "FAILED"
  exit 1
fi
echo "OK"
