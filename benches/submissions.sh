#!/usr/bin/env bash
# Question submissions with participants' codes, closed loop, for one or more builds in turn,
# beside the bare baselines (one row per request; one writer thread committing queued rows),
# all in one run (the machine is shared: compare only within a run).
#
#   benches/submissions.sh path/to/doithoai [path/to/another/doithoai ...]
#   BACKEND=postgres benches/submissions.sh …
#
# The bare baselines are examples/bare_baseline (EXAMPLES, next to the first build by
# default). Each build gets a new database of BACKEND (sqlite by default) with an open
# dialogue and PEOPLE invitees (benches/common.sh); then wrk -c64 submits for DURATION, with
# the same script as questions.sh, and examples/loadgen submits at a steady RATE for
# SECONDS_STEADY. Afterwards: the questions stored (at least the answers 201) and the
# server errors logged.
# Environment: BACKEND [sqlite], PORT [8103], PEOPLE [3000], DURATION [8s], RATE [5000],
# SECONDS_STEADY [5], ADMIN_URL [postgres://postgres@127.0.0.1:5432/postgres],
# PROFILE [set: perf record each build's closed loop into perf-submit-N.data, with PERF_ARGS
# (-g; --call-graph dwarf for call stacks through code built without frame pointers)],
# THREADS [set: after each closed loop, each server thread's share of a core, running and
# waiting for a core, and how busy the machine was].
# Needs wrk, curl, python3 (psql for PostgreSQL).
set -euo pipefail
[[ $# -ge 1 ]] || { sed -n 2,21p "$0"; exit 1; }
BACKEND="${BACKEND:-sqlite}"
PORT="${PORT:-8103}"
PEOPLE="${PEOPLE:-3000}"
DURATION="${DURATION:-8s}"
RATE="${RATE:-5000}"
SECONDS_STEADY="${SECONDS_STEADY:-5}"
ADMIN_URL="${ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
EXAMPLES="${EXAMPLES:-$(dirname "$1")/examples}"
for file in "$EXAMPLES/bare_baseline" "$EXAMPLES/loadgen"; do
    [[ -x "$file" ]] || { echo "error: $file missing; build: cargo build --release --example bare_baseline --example loadgen, or set EXAMPLES" >&2; exit 1; }
done
# shellcheck source=benches/common.sh
source "$(dirname "$0")/common.sh"

submit_script "$WORK/submit.lua"
cat >"$WORK/bare.lua" <<LUA
$TALLY
$BARE_REQUEST
LUA

run_wrk() { # script, url, then the script's arguments
    if [[ -n "${THREADS:-}" && -z "${TIMED:-}" ]]; then TIMED=1 with_thread_times run_wrk "$@"; return; fi
    local script="$1" url="$2"; shift 2
    wrk -t2 -c64 -d"$DURATION" --latency -s "$script" "$url" -- "$@" 2>&1 |
        grep -E 'Requests/sec|^ +(50|99)%|statuses|Socket errors' | sed 's/^/   /'
}

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%FT%TZ); $BACKEND"
for mode in insert group; do
    url="$(new_database "$BACKEND" "bare_$mode")"
    "$EXAMPLES/bare_baseline" "$mode" "$url" "127.0.0.1:$PORT" >"$WORK/bare-$mode.log" 2>&1 &
    SERVER_PID=$!
    wait_up "$BASE/hello"
    echo "-- bare $mode: POST one row"
    run_wrk "$WORK/bare.lua" "$BASE/rows"
    stop_server
done
n=0
for BIN in "$@"; do
    n=$((n + 1))
    start_service "$BACKEND" "submit_$n"
    echo "-- $BIN: submit, closed loop"
    if [[ -n "${PROFILE:-}" ]]; then
        perf record -F 997 ${PERF_ARGS:--g} -p "$SERVER_PID" -o "perf-submit-$n.data" >/dev/null 2>&1 &
        PERF_PID=$!
        sleep 1
    fi
    run_wrk "$WORK/submit.lua" "$BASE/api/v1/dialogues/$ID/questions" "$WORK/codes.txt"
    if [[ -n "${PROFILE:-}" ]]; then kill -INT "$PERF_PID"; wait "$PERF_PID" || true; fi
    echo "-- $BIN: submit at a steady $RATE/s for ${SECONDS_STEADY}s"
    echo "   $("$EXAMPLES/loadgen" submit "$RATE" "$SECONDS_STEADY" "$BASE" "$ID" "$WORK/codes.txt" 0)"
    echo "   questions stored: $(sql "$URL" "SELECT count(*) FROM questions"); server errors logged: $(grep -c ' ERROR ' "$WORK/server-$BACKEND-submit_$n.log" || true); memory: $(server_memory)"
    grep -m3 ' ERROR ' "$WORK/server-$BACKEND-submit_$n.log" | cut -c1-400 | sed 's/^/   /' || true
    stop_server
done
