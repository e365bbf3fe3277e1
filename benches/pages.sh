#!/usr/bin/env bash
# The two public pages people open on the day, for one or more builds side by side, with
# the bare "hello" before and after them (the machine is shared: compare within a run).
#
#   benches/pages.sh path/to/doithoai [path/to/another/doithoai ...]
#
# Each build gets a new SQLite database, an open dialogue and PEOPLE invitees
# (benches/common.sh), then wrk -c64 on /d/{id} and /d/{id}/questions with a browser cookie
# and a browser's Accept-Encoding (the queue page also without it).
# Environment: PORT [8097], PEOPLE [200], DURATION [8s]. Needs wrk, curl, python3 and the
# release example bare_baseline (beside the first build, in EXAMPLES or under
# CARGO_TARGET_DIR).
set -euo pipefail
[[ $# -ge 1 ]] || { sed -n 2,10p "$0"; exit 1; }
PORT="${PORT:-8097}"
PEOPLE="${PEOPLE:-200}"
DURATION="${DURATION:-8s}"
ADMIN_URL="${ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
EXAMPLES="${EXAMPLES:-$(dirname "$1")/examples}"
[[ -x "$EXAMPLES/bare_baseline" ]] || EXAMPLES="${CARGO_TARGET_DIR:-target}/release/examples"
[[ -x "$EXAMPLES/bare_baseline" ]] || {
    echo "error: no bare_baseline: cargo build --release --example bare_baseline, or set EXAMPLES" >&2
    exit 1
}
# shellcheck source=benches/common.sh
source "$(dirname "$0")/common.sh"

# What a phone's browser sends: the pages go gzipped to it (the hello ignores it).
GZIP="Accept-Encoding: gzip, deflate, br"
run() { # label, then wrk arguments
    echo "-- $1"; shift
    wrk -t2 -c64 -d"$DURATION" --latency "$@" 2>&1 |
        grep -E 'Requests/sec|^ +99%|Non-2xx|Socket errors' | sed 's/^/   /'
}
hello() {
    "$EXAMPLES/bare_baseline" hello "$(new_database sqlite "hello_$1")" "127.0.0.1:$PORT" >/dev/null 2>&1 &
    SERVER_PID=$!
    wait_up "$BASE/hello"
    run "bare hello" -H "$GZIP" "$BASE/hello"
    stop_server
}

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%FT%TZ)"
hello before
n=0
for BIN in "$@"; do
    n=$((n + 1))
    start_service sqlite "pages_$n"
    cookie="doithoai_browser=bench0123456789abcdef0123456789abcdef"
    run "$BIN: the dialogue's public page" -H "Cookie: $cookie" -H "$GZIP" "$BASE/d/$ID"
    run "$BIN: the public queue page" -H "Cookie: $cookie" -H "$GZIP" "$BASE/d/$ID/questions"
    run "$BIN: the public queue page, not compressed" -H "Cookie: $cookie" "$BASE/d/$ID/questions"
    echo "   server memory: $(server_memory)"
    stop_server
done
hello after
