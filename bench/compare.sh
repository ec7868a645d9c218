#!/usr/bin/env bash
# Benchmarks mlflow-sharinghub against the official MLflow tracking server, in
# the same run and on the same machine, and prints the ratios ours/mlflow.
#
# Both servers get a fresh SQLite database in a temporary directory and listen
# on free loopback ports. bench/loadgen sets up the same data set on each, then
# measures every workload on one server after the other (never both at once),
# alternating which goes first. See bench/README.md.
#
# Usage: bench/compare.sh [options]
#   -d, --duration DUR      measuring time per workload and server (env BENCH_DURATION, default 8s)
#   -w, --warmup DUR        unmeasured warm-up per workload and server (env BENCH_WARMUP, default 1s)
#   -c, --concurrency N     concurrent clients (env BENCH_CONCURRENCY, default 4)
#   -r, --runs N            runs in the read experiment (env BENCH_RUNS, default 200)
#   -W, --workloads LIST    comma-separated workloads or "all" (env BENCH_WORKLOADS, default all)
#       --mlflow-workers N  uvicorn workers of mlflow server (env BENCH_MLFLOW_WORKERS, default 1)
#   -o, --out DIR           keep the JSON results, the tables and both server logs in DIR (env BENCH_OUT)
#   -k, --keep              keep the temporary directory (databases, logs)
#   -h, --help
# Environment: MLFLOW_PY names the Python that has mlflow installed (default:
# /work/main/.venv/mlflow3/bin/python, then /work/venvs/mlflow3/bin/python).
# Exit status: 0 when every workload ran without errors on both servers,
# 1 when some request failed or a correctness check failed (the table says which),
# 2 when the benchmark could not run.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DURATION=${BENCH_DURATION:-8s}
WARMUP=${BENCH_WARMUP:-1s}
CONCURRENCY=${BENCH_CONCURRENCY:-4}
RUNS=${BENCH_RUNS:-200}
WORKLOADS=${BENCH_WORKLOADS:-all}
MLFLOW_WORKERS=${BENCH_MLFLOW_WORKERS:-1}
OUT=${BENCH_OUT:-}
KEEP=0
# Seconds to wait after both servers answer /health: mlflow server's job
# runner keeps importing in child processes for a few seconds after that.
SETTLE=${BENCH_SETTLE:-5}

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
die() { echo "compare.sh: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
	case "$1" in
	-d | --duration) DURATION=${2:?}; shift 2 ;;
	-w | --warmup) WARMUP=${2:?}; shift 2 ;;
	-c | --concurrency) CONCURRENCY=${2:?}; shift 2 ;;
	-r | --runs) RUNS=${2:?}; shift 2 ;;
	-W | --workloads) WORKLOADS=${2:?}; shift 2 ;;
	--mlflow-workers) MLFLOW_WORKERS=${2:?}; shift 2 ;;
	-o | --out) OUT=${2:?}; shift 2 ;;
	-k | --keep) KEEP=1; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; die "unknown option $1" ;;
	esac
done

# --- the Python that runs the official server
PY=${MLFLOW_PY:-}
if [ -z "$PY" ]; then
	for cand in "$REPO/.venv/mlflow3/bin/python" /work/main/.venv/mlflow3/bin/python /work/venvs/mlflow3/bin/python; do
		if [ -x "$cand" ]; then PY=$cand; break; fi
	done
fi
[ -n "$PY" ] && [ -x "$PY" ] || die "no Python with mlflow found: set MLFLOW_PY"
MLFLOW_VERSION=$("$PY" -c 'import mlflow; print(mlflow.__version__)' 2>/dev/null) ||
	die "$PY cannot import mlflow: set MLFLOW_PY"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/mlflow-bench.XXXXXX")
OURS_PID=""
MLFLOW_PID=""

# alive PID [group]: whether the process (or any process of its group) is
# still running; zombies do not count (the server is our child until reaped).
alive() {
	if [ -n "${2:-}" ]; then
		ps -o stat= -g "$1" 2>/dev/null | grep -qv '^Z'
	else
		ps -o stat= -p "$1" 2>/dev/null | grep -qv '^Z'
	fi
}

# stop PID [group]: SIGTERM (to the process group with "group"), then SIGKILL
# after 20 s. Only processes this script started are signalled: the pid is
# checked to still lead its own process group (setsid below makes it so).
stop() {
	local pid=$1 group=${2:-}
	[ -n "$pid" ] || return 0
	if alive "$pid" "$group"; then
		local target=$pid
		if [ -n "$group" ] && [ "$(ps -o pgid= -p "$pid" | tr -d ' ')" = "$pid" ]; then
			target="-$pid"
		else
			group=""
		fi
		kill -TERM -- "$target" 2>/dev/null || true
		local i
		for i in $(seq 1 100); do
			alive "$pid" "$group" || break
			sleep 0.2
		done
		if alive "$pid" "$group"; then
			echo "compare.sh: pid $pid did not stop after 20s, sending SIGKILL" >&2
			kill -KILL -- "$target" 2>/dev/null || true
		fi
	fi
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stop "$OURS_PID"
	stop "$MLFLOW_PID" group
	if [ -n "$OUT" ] && [ -d "$TMP" ]; then
		mkdir -p "$OUT"
		cp "$TMP"/ours.log "$TMP"/mlflow.log "$OUT"/ 2>/dev/null || true
	fi
	if [ "$KEEP" = 1 ]; then
		echo "compare.sh: kept $TMP" >&2
	else
		rm -rf "$TMP"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "== building (in $TMP)"
(cd "$REPO" && go build -o "$TMP/mlflow-sharinghub" ./cmd/mlflow-sharinghub) || die "building ./cmd/mlflow-sharinghub failed"
(cd "$REPO" && go build -o "$TMP/loadgen" ./bench/loadgen) || die "building ./bench/loadgen failed"
LG="$TMP/loadgen"

mkdir -p "$TMP/ours" "$TMP/mlflow"
OURS_PORT=$("$LG" freeport)
MLFLOW_PORT=$("$LG" freeport)
while [ "$MLFLOW_PORT" = "$OURS_PORT" ]; do MLFLOW_PORT=$("$LG" freeport); done
OURS_URL="http://127.0.0.1:$OURS_PORT"
MLFLOW_URL="http://127.0.0.1:$MLFLOW_PORT"

# Ours serves each project under /<project path>/tracking/ and wants a token:
# give it a static projects file with one project and a throw-away token (an
# older binary without --projects-file serves the API at the root, no token).
OURS_ARGS=()
OURS_API=$OURS_URL
OURS_SCOPE="root URL, no authentication"
if "$TMP/mlflow-sharinghub" server --help 2>&1 | grep -q -- '--projects-file'; then
	BENCH_OURS_TOKEN="bench-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
	export BENCH_OURS_TOKEN
	cat >"$TMP/ours/projects.json" <<JSON
{
  "projects": [{"id": 1, "path": "bench/project", "name": "Benchmark", "visibility": "private"}],
  "users": [{"username": "bench", "token": "$BENCH_OURS_TOKEN"}],
  "memberships": [{"user": "bench", "project": "bench/project", "role": "Owner"}]
}
JSON
	OURS_ARGS=(--projects-file "$TMP/ours/projects.json")
	OURS_API="$OURS_URL/bench/project/tracking"
	OURS_SCOPE="project bench/project (/bench/project/tracking/), Bearer token of an Owner"
	LG_AUTH=(-token-env ours=BENCH_OURS_TOKEN)
else
	LG_AUTH=()
fi

# setsid: each server leads its own process group, so that stop() reaches
# the workers mlflow server forks (uvicorn, job runner) and nothing else.
echo "== starting mlflow-sharinghub on $OURS_URL"
(cd "$TMP/ours" && exec setsid "$TMP/mlflow-sharinghub" server --host 127.0.0.1 --port "$OURS_PORT" \
	--backend-store-uri "sqlite:///$TMP/ours/mlflow.db" "${OURS_ARGS[@]}" >"$TMP/ours.log" 2>&1 </dev/null) &
OURS_PID=$!

echo "== starting mlflow server $MLFLOW_VERSION ($PY, --workers $MLFLOW_WORKERS) on $MLFLOW_URL"
(cd "$TMP/mlflow" && MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true exec setsid "$PY" -m mlflow server \
	--host 127.0.0.1 --port "$MLFLOW_PORT" --backend-store-uri "sqlite:///$TMP/mlflow/mlflow.db" \
	--workers "$MLFLOW_WORKERS" >"$TMP/mlflow.log" 2>&1 </dev/null) &
MLFLOW_PID=$!

# wait_healthy NAME URL PID LOG: until URL/health answers OK; fails at once
# if the server exits.
wait_healthy() {
	local name=$1 url=$2 pid=$3 log=$4 i
	for i in $(seq 1 120); do
		if ! alive "$pid" group; then
			tail -n 30 "$log" >&2
			die "$name exited before it answered $url/health"
		fi
		"$LG" wait -url "$url" -timeout 1s 2>/dev/null && return 0
	done
	tail -n 30 "$log" >&2
	die "$name did not answer $url/health with OK in about 2 minutes"
}
wait_healthy mlflow-sharinghub "$OURS_URL" "$OURS_PID" "$TMP/ours.log"
wait_healthy "mlflow server" "$MLFLOW_URL" "$MLFLOW_PID" "$TMP/mlflow.log"
sleep "$SETTLE"

GIT_REV=$(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo "no commit")
if [ -n "$(cd "$REPO" && git status --porcelain 2>/dev/null | head -n 1)" ]; then GIT_REV="$GIT_REV (dirty tree)"; fi
echo "== $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), $(go version | cut -d' ' -f3), repo $GIT_REV"
echo "== ours: mlflow-sharinghub, SQLite, $OURS_SCOPE; reference: mlflow server $MLFLOW_VERSION, SQLite, --workers $MLFLOW_WORKERS"
echo "== concurrency $CONCURRENCY, $DURATION (+$WARMUP warm-up) per workload and server, $RUNS runs, workloads: $WORKLOADS"
echo

set +e
"$LG" -target "ours=$OURS_API" -target "mlflow=$MLFLOW_URL" "${LG_AUTH[@]}" -workloads "$WORKLOADS" \
	-concurrency "$CONCURRENCY" -duration "$DURATION" -warmup "$WARMUP" -runs "$RUNS" \
	-o "$TMP/results.json" | tee "$TMP/report.txt"
RC=${PIPESTATUS[0]}
set -e
[ -f "$TMP/results.json" ] && "$LG" compare -markdown "$TMP/results.json" >"$TMP/compare.md" || true

if [ -n "$OUT" ]; then
	mkdir -p "$OUT"
	cp "$TMP/report.txt" "$OUT/"
	[ -f "$TMP/results.json" ] && cp "$TMP/results.json" "$TMP/compare.md" "$OUT/"
	echo "== results in $OUT"
fi
exit "$RC"
