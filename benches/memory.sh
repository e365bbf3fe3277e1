#!/usr/bin/env bash
# The server's resident memory through a day's work, for one or more builds in turn:
# after start-up and a staff login (benches/common.sh: an open dialogue, PEOPLE invitees),
# after DURATION of submissions at 64 connections, then after three more logins (argon2
# holds its memory while it runs). Prints VmRSS (now) and VmHWM (the peak so far) at each
# step, and how long each login took.
#
#   benches/memory.sh path/to/doithoai [path/to/another/doithoai ...]
#
# Environment: BACKEND [sqlite], PORT [8104], PEOPLE [2000], DURATION [5s],
# ADMIN_URL [postgres://postgres@127.0.0.1:5432/postgres]. Needs wrk, curl, python3.
set -euo pipefail
[[ $# -ge 1 ]] || { sed -n 2,11p "$0"; exit 1; }
BACKEND="${BACKEND:-sqlite}"
PORT="${PORT:-8104}"
PEOPLE="${PEOPLE:-2000}"
DURATION="${DURATION:-5s}"
ADMIN_URL="${ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
# shellcheck source=benches/common.sh
source "$(dirname "$0")/common.sh"

submit_script "$WORK/submit.lua"

login_seconds() {
    curl -fs -o /dev/null -w '%{time_total}' -H 'Content-Type: application/json' \
        -d '{"email":"bench@example.vn","password":"mat-khau-do-hieu-nang"}' "$BASE/api/v1/auth/login"
}

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%FT%TZ); $BACKEND"
n=0
for BIN in "$@"; do
    n=$((n + 1))
    start_service "$BACKEND" "memory_$n"
    echo "-- $BIN"
    echo "   started, one login, $PEOPLE invitees imported: $(server_memory)"
    wrk -t2 -c64 -d"$DURATION" -s "$WORK/submit.lua" "$BASE/api/v1/dialogues/$ID/questions" -- "$WORK/codes.txt" |
        grep -E 'Requests/sec' | sed 's/^ */   submissions: /'
    echo "   after the submissions: $(server_memory)"
    echo "   three logins: $(login_seconds) s, $(login_seconds) s, $(login_seconds) s"
    echo "   after them: $(server_memory)"
    stop_server
done
