#!/usr/bin/env bash
# Votes from many participants, closed loop, for one or more builds in turn (compare builds
# within one run: the machine is shared).
#
#   benches/votes.sh path/to/doithoai [path/to/another/doithoai ...]
#   BACKEND=sqlite benches/votes.sh …
#
# Each build gets a new database of BACKEND (postgres by default), an open dialogue with
# PEOPLE invitees (benches/common.sh) and 40 approved questions; then wrk -c64 votes for
# DURATION, each request a distinct (person, question) pair as in questions.sh. Afterwards
# it prints the votes stored, the sum of the questions' counts (they must be equal) and
# the server errors logged.
# Environment: BACKEND [postgres], PORT [8102], PEOPLE [3000], DURATION [8s],
# ADMIN_URL [postgres://postgres@127.0.0.1:5432/postgres]. Needs wrk, curl, python3, psql.
set -euo pipefail
[[ $# -ge 1 ]] || { sed -n 2,14p "$0"; exit 1; }
BACKEND="${BACKEND:-postgres}"
PORT="${PORT:-8102}"
PEOPLE="${PEOPLE:-3000}"
DURATION="${DURATION:-8s}"
ADMIN_URL="${ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
# shellcheck source=benches/common.sh
source "$(dirname "$0")/common.sh"

vote_script "$WORK/vote.lua"

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%FT%TZ); $BACKEND"
n=0
for BIN in "$@"; do
    n=$((n + 1))
    start_service "$BACKEND" "votes_$n"
    for i in $(seq 1 40); do
        code="$(sed -n "${i}p" "$WORK/codes.txt")"
        curl -fs -o /dev/null -H 'Content-Type: application/json' -H "Authorization: Bearer $code" \
            -d "{\"body\":\"Câu hỏi số $i: xin hỏi thủ tục vay vốn học nghề cho người đã chấp hành xong án phạt tù?\",\"topic\":\"employment\"}" \
            "$BASE/api/v1/dialogues/$ID/questions"
    done
    sql "$URL" "UPDATE questions SET status = 'approved'" >/dev/null
    sql "$URL" "SELECT id FROM questions" >"$WORK/questions.txt"
    echo "-- $BIN"
    wrk -t2 -c64 -d"$DURATION" --latency -s "$WORK/vote.lua" "$BASE/" -- "$WORK/codes.txt" "$WORK/questions.txt" 2>&1 |
        grep -E 'Requests/sec|^ +99%|statuses|Socket errors' | sed 's/^/   /'
    echo "   votes stored: $(sql "$URL" "SELECT count(*) FROM votes"); sum of counts: $(sql "$URL" "SELECT coalesce(sum(vote_count), 0) FROM questions"); server errors logged: $(grep -c ' ERROR ' "$WORK/server-$BACKEND-votes_$n.log" || true)"
    stop_server
done
