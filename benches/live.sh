#!/usr/bin/env bash
# The live stream under load: 5,000 stream clients on one instance, a change of the
# projector's question timed at every client, and the vote lag while votes arrive at
# 5,000/s.
#
#   benches/live.sh                       # SQLite
#   BACKEND=postgres benches/live.sh
#
# Build first (release): cargo build --release --bin doithoai --example loadgen --example sse_fanout
#
# Steps: the service on a new database with PEOPLE invitees; 1,000 questions submitted and
# approved (in the database); the dialogue under way; then examples/sse_fanout.rs opens
# CLIENTS streams, puts another question on screen ROUNDS times and times each client's
# `current_question` event; then, while examples/loadgen.rs votes at VOTE_RATE/s on the
# other questions, casts 20 votes on a probe question and times each client's `votes`
# event showing it. Prints the server's peak memory.
#
# The probe question is on screen during the vote phase (its count goes out first); with
# PROBE=queue it stays in the queue among the thousand whose counts change, and waits its turn
# unless the clients name it as a question they show (WATCH=1: `?votes=`, as pages do).
#
# Environment (defaults): BACKEND [sqlite], TWO_INSTANCES [0], PROBE [screen], WATCH [0], CLIENTS [5000], ROUNDS [5], VOTE_RATE [5000],
# PORT [8095], PEOPLE [5000], ADMIN_URL [postgres://postgres@127.0.0.1:5432/postgres].
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${BIN:-$ROOT/target/release/doithoai}"
EXAMPLES="${EXAMPLES:-$(dirname "$BIN")/examples}"
BACKEND="${BACKEND:-sqlite}"
PORT="${PORT:-8095}"
CLIENTS="${CLIENTS:-5000}"
ROUNDS="${ROUNDS:-5}"
VOTE_RATE="${VOTE_RATE:-5000}"
PEOPLE="${PEOPLE:-5000}"
ADMIN_URL="${ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

for file in "$BIN" "$EXAMPLES/loadgen" "$EXAMPLES/sse_fanout"; do
    [[ -x "$file" ]] || { echo "error: $file missing; build: cargo build --release --bin doithoai --example loadgen --example sse_fanout" >&2; exit 1; }
done
# Each stream is a socket on both ends.
ulimit -n "$(ulimit -Hn)"

# shellcheck source=benches/common.sh
source "$(dirname "$0")/common.sh"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%FT%TZ); $BACKEND"
export DOITHOAI_LIVE_MAX_CLIENTS=$((CLIENTS + 100))
start_service "$BACKEND" live
"$EXAMPLES/loadgen" submit 1000 1 "$BASE" "$ID" "$WORK/codes.txt" 0 >/dev/null
sql "$URL" "UPDATE questions SET status = 'approved' WHERE dialogue_id = '$ID'" >/dev/null
sql "$URL" "SELECT id FROM questions WHERE dialogue_id = '$ID' ORDER BY id" >"$WORK/all.txt"
# Three for the fan-out (two to switch between, the last as the vote probe); the rest
# take the background votes.
head -n 3 "$WORK/all.txt" >"$WORK/screen.txt"
tail -n +4 "$WORK/all.txt" >"$WORK/voted.txt"
curl -fs -o /dev/null -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d '{"status":"in_progress"}' "$BASE/api/v1/dialogues/$ID/status"
echo "   $(wc -l <"$WORK/all.txt") approved questions; the dialogue is under way"
echo "   server before: $(server_memory)"
# TWO_INSTANCES=1 (PostgreSQL): a second instance on PORT+1 serves the streams, while the
# changes and votes go to the first; every time then includes the crossing.
if [[ "${TWO_INSTANCES:-0}" == 1 ]]; then
    [[ "$BACKEND" == postgres ]] || { echo "error: TWO_INSTANCES needs BACKEND=postgres" >&2; exit 1; }
    DOITHOAI_BIND="127.0.0.1:$((PORT + 1))" "$BIN" serve >"$WORK/server-second.log" 2>&1 &
    SECOND_PID=$!
    trap 'kill "$SECOND_PID" 2>/dev/null || true; cleanup' EXIT
    wait_up "http://127.0.0.1:$((PORT + 1))/healthz"
    export STREAM_BASE="http://127.0.0.1:$((PORT + 1))"
    echo "   streams on a second instance: $STREAM_BASE"
fi

# The background votes run during the vote phase only (sse_fanout starts them), for long
# enough to cover it; the 20 probe votes take about 6 s.
BACKGROUND="'$EXAMPLES/loadgen' vote $VOTE_RATE 10 '$BASE' '$WORK/voted.txt' '$WORK/codes.txt' 0 >'$WORK/votes.txt'" \
    "$EXAMPLES/sse_fanout" "$BASE" "$ID" "$TOKEN" "$WORK/screen.txt" "$CLIENTS" "$ROUNDS" \
    "$WORK/codes.txt" 20
echo "   background votes: $(cat "$WORK/votes.txt" 2>/dev/null || echo 'stopped early')"
echo "   server after: $(server_memory)"
if [[ -n "${SECOND_PID:-}" ]]; then
    echo "   second instance (the streams' server): $(grep -E 'VmHWM|VmRSS' "/proc/$SECOND_PID/status" | tr -s ' \t' ' ' | paste -sd ' ')"
fi
echo "   server errors logged: $(grep -c ' ERROR ' "$WORK/server-$BACKEND-live.log" || true)"
