#!/usr/bin/env bash
# Questions and votes under load, beside the bare baselines, on SQLite and PostgreSQL.
#
#   benches/questions.sh                 # both databases
#   BACKENDS=sqlite benches/questions.sh # one
#
# Build first (release): cargo build --release --bin doithoai --example bare_baseline --example loadgen
#
# For each database, in one run (the machine is shared: compare only within a run):
#   1. bare baselines (examples/bare_baseline.rs): "insert" (one row per request, one
#      transaction each), "group" (one writer thread committing up to 256 queued rows),
#      "hello"; wrk -c64 on each;
#   2. the service: 5,000 invitees imported, then
#      - submissions with participants' codes, closed loop at 64 connections (wrk);
#      - submissions at a steady 5,000/s (examples/loadgen.rs, latency from when due);
#      - 5,000 questions approved; votes closed loop (wrk), then a steady 5,000/s;
#      - the public queue JSON (top 50 by votes) while votes arrive at 1,000/s;
#      - the public pages (HTML): /d/{id} and /d/{id}/questions, with a browser cookie and
#        a browser's Accept-Encoding (the pages go gzipped), the queue page also without it;
#      - afterwards: votes stored = votes answered 200 = sum of the questions' counts;
#        server errors logged; the server's peak resident memory (VmHWM).
#
# Environment (defaults in brackets): BACKENDS [sqlite postgres], PORT [8096], DURATION [10s],
# CONNECTIONS [64], ADMIN_URL [postgres://postgres@127.0.0.1:5432/postgres], PEOPLE [5000],
# PROFILE [none; submit, vote or page: perf record the server during that run], PERF_OUT.
# Needs: wrk, curl, python3, psql (for PostgreSQL).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# What a phone's browser sends; the bare hello gets it too and ignores it.
GZIP="Accept-Encoding: gzip, deflate, br"
BIN="${BIN:-$ROOT/target/release/doithoai}"
EXAMPLES="${EXAMPLES:-$(dirname "$BIN")/examples}"
BACKENDS="${BACKENDS:-sqlite postgres}"
PORT="${PORT:-8096}"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-64}"
ADMIN_URL="${ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
PEOPLE="${PEOPLE:-5000}"
SECONDS_STEADY="${SECONDS_STEADY:-10}"

for tool in wrk curl python3; do
    command -v "$tool" >/dev/null || { echo "error: $tool is not installed" >&2; exit 1; }
done
for file in "$BIN" "$EXAMPLES/bare_baseline" "$EXAMPLES/loadgen"; do
    [[ -x "$file" ]] || { echo "error: $file missing; build: cargo build --release --bin doithoai --example bare_baseline --example loadgen" >&2; exit 1; }
done

# shellcheck source=benches/common.sh
source "$(dirname "$0")/common.sh"

# ------------------------------------------------------------------ wrk scripts


cat >"$WORK/bare.lua" <<LUA
$TALLY
$BARE_REQUEST
LUA

submit_script "$WORK/submit.lua"
vote_script "$WORK/vote.lua"

cat >"$WORK/get.lua" <<LUA
$TALLY
LUA

wrk_run() { # label, then wrk arguments
    local label="$1"; shift
    echo "-- $label"
    wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "$@" 2>&1 |
        grep -E 'Requests/sec|Latency  |^ +(50|99)%|statuses|Non-2xx|Socket errors' | sed 's/^/   /'
}

# With PROFILE=submit, vote or page (the dialogue's public page), the server is sampled by
# `perf record -g` during that closed-loop run, into PERF_OUT (perf-PROFILE.data here).
profile_start() { # what
    [[ "${PROFILE:-}" == "$1" ]] || return 0
    perf record -F 997 -g -p "$SERVER_PID" -o "${PERF_OUT:-perf-$1.data}" >/dev/null 2>&1 &
    PERF_PID=$!
    sleep 1
}
profile_stop() {
    [[ -n "${PERF_PID:-}" ]] || return 0
    kill -INT "$PERF_PID"; wait "$PERF_PID" || true; PERF_PID=""
}

# ------------------------------------------------------------------ one database

bare_baselines() {
    local backend="$1" mode url
    for mode in insert group; do
        url="$(new_database "$backend" "bare_$mode")"
        "$EXAMPLES/bare_baseline" "$mode" "$url" "127.0.0.1:$PORT" >"$WORK/bare-$mode.log" 2>&1 &
        SERVER_PID=$!
        wait_up "$BASE/hello"
        wrk_run "bare $mode: POST one row" -s "$WORK/bare.lua" "$BASE/rows"
        stop_server
    done
    url="$(new_database "$backend" "bare_hello")"
    "$EXAMPLES/bare_baseline" hello "$url" "127.0.0.1:$PORT" >"$WORK/bare-hello.log" 2>&1 &
    SERVER_PID=$!
    wait_up "$BASE/hello"
    wrk_run "bare hello" -H "$GZIP" "$BASE/hello"
    stop_server
}

service() {
    local backend="$1" url token id api
    start_service "$backend" questions
    url="$URL" token="$TOKEN" id="$ID" api="$BASE/api/v1"
    profile_start submit
    wrk_run "submit a question (participant code), closed loop" -s "$WORK/submit.lua" \
        "$api/dialogues/$id/questions" -- "$WORK/codes.txt"
    profile_stop
    echo "-- submit a question at a steady 5,000/s for ${SECONDS_STEADY}s"
    echo "   $("$EXAMPLES/loadgen" submit 5000 "$SECONDS_STEADY" "$BASE" "$id" "$WORK/codes.txt" 0)"

    # 5,000 approved questions for the queue and the votes (set in the database: moderating
    # is not what is measured here).
    sql "$url" "UPDATE questions SET status = 'approved' WHERE id IN (SELECT id FROM questions WHERE dialogue_id = '$id' ORDER BY id LIMIT 5000)" >/dev/null
    sql "$url" "SELECT id FROM questions WHERE dialogue_id = '$id' AND status = 'approved'" >"$WORK/questions.txt"
    echo "   $(wc -l <"$WORK/questions.txt") approved questions"

    local before after
    profile_start vote
    wrk_run "vote, closed loop" -s "$WORK/vote.lua" "$BASE/" -- "$WORK/codes.txt" "$WORK/questions.txt" | tee "$WORK/votes-closed.txt"
    profile_stop
    echo "-- vote at a steady 5,000/s for ${SECONDS_STEADY}s"
    echo "   $("$EXAMPLES/loadgen" vote 5000 "$SECONDS_STEADY" "$BASE" "$WORK/questions.txt" "$WORK/codes.txt" 0)" | tee "$WORK/votes-steady.txt"

    echo "-- the public queue (top 50 by votes) while votes arrive at 1,000/s"
    "$EXAMPLES/loadgen" vote 1000 14 "$BASE" "$WORK/questions.txt" "$WORK/codes.txt" 100000 >"$WORK/votes-background.txt" &
    local voter=$!
    sleep 2
    wrk_run "GET the public queue JSON" -s "$WORK/get.lua" "$api/dialogues/$id/questions?sort=votes&per_page=50"
    wait "$voter"
    echo "   background votes: $(cat "$WORK/votes-background.txt")"

    local cookie="doithoai_browser=bench0123456789abcdef0123456789abcdef"
    profile_start page
    wrk_run "GET the dialogue's public page (HTML)" -H "Cookie: $cookie" -H "$GZIP" "$BASE/d/$id"
    profile_stop
    wrk_run "GET the public queue page (HTML)" -H "Cookie: $cookie" -H "$GZIP" "$BASE/d/$id/questions"
    wrk_run "GET the public queue page (HTML), not compressed" -H "Cookie: $cookie" "$BASE/d/$id/questions"

    echo "-- afterwards"
    local answered stored counted
    answered=$(cat "$WORK/votes-closed.txt" "$WORK/votes-steady.txt" "$WORK/votes-background.txt" |
        grep -oE '200[x×][0-9]+' | grep -oE '[0-9]+$' | awk '{ s += $1 } END { print s }')
    stored="$(sql "$url" "SELECT count(*) FROM votes")"
    counted="$(sql "$url" "SELECT coalesce(sum(vote_count), 0) FROM questions")"
    # Every vote answered 200 is stored (a request the client gave up on may be stored too),
    # and the stored counts equal the stored votes.
    echo "   votes answered 200: $answered; stored: $stored; sum of counts: $counted"
    if (( stored >= answered )) && [[ "$stored" == "$counted" ]]; then
        echo "   votes: none lost, none counted twice"
    else
        echo "   VOTES DO NOT ADD UP"
    fi
    echo "   questions stored: $(sql "$url" "SELECT count(*) FROM questions")"
    echo "   server errors logged: $(grep -c ' ERROR ' "$WORK/server-$backend-questions.log" || true)"
    echo "   server memory: $(server_memory)"
    stop_server
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%FT%TZ)"
for backend in $BACKENDS; do
    echo "======== $backend"
    bare_baselines "$backend"
    service "$backend"
done
