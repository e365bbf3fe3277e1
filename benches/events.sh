#!/usr/bin/env bash
# How long an event takes to cross from one instance to another on PostgreSQL: from a
# commit on the first `Db` to the second's bus (examples/event_latency.rs).
#
#   cargo build --release --example event_latency
#   benches/events.sh [path/to/event_latency]
#
# Settings (environment): PG (postgres://postgres@127.0.0.1:5432), COUNT (2000 events),
# GAP_MS (5: the pause between two commits). Creates a database of its own and drops it.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/release/examples/event_latency}
[ -x "$BIN" ] || { echo "missing $BIN: run 'cargo build --release --example event_latency'" >&2; exit 1; }
PG=${PG:-postgres://postgres@127.0.0.1:5432}
NAME="doithoai_bench_events_$$"
psql -q "$PG/postgres" -c "CREATE DATABASE $NAME"
trap 'psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $NAME WITH (FORCE)"' EXIT
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
DOITHOAI_LOG=warn DATABASE_URL="$PG/$NAME" "$BIN"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
