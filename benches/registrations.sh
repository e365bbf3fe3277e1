#!/usr/bin/env bash
# Self-registrations per second under 64 parallel clients, on PostgreSQL (or SQLite), with
# every request a different person. Checks afterwards that the seats equal the capacity and
# nobody is twice on the list.
#
#   benches/registrations.sh [BINARY ...]
#
# Each BINARY (default target/release/doithoai; build it first with `cargo build --release`)
# gets its own fresh database and the same load, one after the other, so an older build can
# be measured beside a newer one in one run:
#
#   benches/registrations.sh /tmp/doithoai-before target/release/doithoai
#
# Environment (defaults in brackets):
#   ADMIN_URL [postgres://postgres@127.0.0.1:5432/postgres]  where to create the databases;
#                          `sqlite` instead uses a SQLite file
#   PORT [8098]  CONNECTIONS [64]  THREADS [2]  DURATION [15s]  CAPACITY [500]  POOL [16]
#
# Requires: wrk, curl, psql (for PostgreSQL). The databases and files are removed on exit.
set -euo pipefail

ADMIN_URL="${ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
PORT="${PORT:-8098}"
CONNECTIONS="${CONNECTIONS:-64}"
THREADS="${THREADS:-2}"
DURATION="${DURATION:-15s}"
CAPACITY="${CAPACITY:-500}"
BINARIES=("$@")
[[ ${#BINARIES[@]} -gt 0 ]] || BINARIES=("$(dirname "$0")/../target/release/doithoai")

for tool in wrk curl; do
    command -v "$tool" >/dev/null || { echo "error: $tool is not installed" >&2; exit 1; }
done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/doithoai-registrations.XXXXXX")"
SERVER_PID=""
DATABASES=()
cleanup() {
    if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    for db in "${DATABASES[@]}"; do
        psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

# Every request a new person: a name and a phone number from the thread and a counter.
cat >"$WORK/register.lua" <<'LUA'
local threads = {}
local counter = 0
local id = 0
local statuses = {}
function setup(thread)
    thread:set("id", #threads)
    table.insert(threads, thread)
end
function init(args)
    id = tonumber(wrk.thread:get("id"))
end
function request()
    counter = counter + 1
    local n = id * 10000000 + counter
    local body = string.format(
        '{"full_name":"Người Thử %d","phone":"09%08d","category":"other","consent":true}', n, n)
    -- A different client address per request (through the trusted proxy header), so the
    -- per-address limit of older builds, which have no setting for it, does not decide.
    local from = string.format("10.%d.%d.%d", id % 250, math.floor(counter / 250) % 250, counter % 250)
    return wrk.format("POST", wrk.path,
        {["Content-Type"] = "application/json", ["X-Forwarded-For"] = from}, body)
end
function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
    local total = {}
    for _, thread in ipairs(threads) do
        local s = thread:get("statuses")
        for code, n in pairs(s) do total[code] = (total[code] or 0) + n end
    end
    local parts = {}
    for code, n in pairs(total) do table.insert(parts, code .. "×" .. n) end
    table.sort(parts)
    io.write("statuses: " .. table.concat(parts, " ") .. "\n")
end
function teardown() end
LUA
# wrk keeps each thread's Lua state apart; copy the tally to where done() can read it.
sed -i 's/^function response(status, headers, body)$/function response(status, headers, body)\n    wrk.thread:set("statuses", statuses)/' "$WORK/register.lua"

run_one() {
    local bin="$1" n="$2" url
    bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
    if [[ "$ADMIN_URL" == sqlite ]]; then
        url="sqlite://$WORK/bench-$n.db"
    else
        local db="doithoai_bench_$$_$n"
        psql -q "$ADMIN_URL" -c "CREATE DATABASE $db" >/dev/null
        DATABASES+=("$db")
        url="${ADMIN_URL%/*}/$db"
    fi
    export DATABASE_URL="$url" DOITHOAI_BIND="127.0.0.1:$PORT" DOITHOAI_LOG=warn \
        DOITHOAI_MAIL_DIR="$WORK/mail-$n" DOITHOAI_DB_POOL_SIZE="${POOL:-16}" DOITHOAI_TRUSTED_PROXY=127.0.0.1 \
        DOITHOAI_REGISTRATIONS_PER_ADDRESS_PER_MINUTE=1000000 \
        DOITHOAI_REGISTRATIONS_PER_DIALOGUE_PER_MINUTE=1000000 \
        DOITHOAI_REGISTRATIONS_PER_MINUTE=1000000 DOITHOAI_WAITLIST_LIMIT=100000
    "$bin" user create --email bench@example.vn --name "Người đo" --role organizer \
        --password "mat-khau-do-hieu-nang" >/dev/null
    "$bin" serve >"$WORK/server-$n.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
    local base="http://127.0.0.1:$PORT/api/v1" token id
    token="$(curl -fs -H 'Content-Type: application/json' \
        -d '{"email":"bench@example.vn","password":"mat-khau-do-hieu-nang"}' "$base/auth/login" |
        sed -E 's/.*"token":"([^"]+)".*/\1/')"
    id="$(curl -fs -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d "{
        \"title\": \"Đo hiệu năng đăng ký\", \"host_unit\": \"UBND huyện Bến Lức\",
        \"venue\": \"Hội trường\", \"starts_at\": \"2030-11-30T14:00:00+07:00\",
        \"ends_at\": \"2030-11-30T17:00:00+07:00\", \"capacity\": $CAPACITY,
        \"self_registration\": true,
        \"officials\": [{\"name\": \"Lê Thành Út\", \"position\": \"Chủ tịch\", \"role\": \"chair\"}]
    }" "$base/dialogues" | sed -E 's/^\{"id":"([^"]+)".*/\1/')"
    curl -fs -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
        -d '{"status":"open"}' "$base/dialogues/$id/status"
    echo "== $bin ($url)"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" -s "$WORK/register.lua" \
        "$base/dialogues/$id/registrations" | grep -E 'Requests/sec|Latency|requests in|statuses|Non-2xx|Socket errors'
    local attendance
    attendance="$(curl -fs -H "Authorization: Bearer $token" "$base/dialogues/$id/attendance" || true)"
    echo "after: $(echo "$attendance" | grep -oE '"(registered|waitlisted|capacity)":[0-9]+' | tr '\n' ' ')"
    if [[ "$ADMIN_URL" != sqlite ]]; then
        echo "people twice on the list: $(psql -tA "$url" -c "SELECT count(*) FROM (SELECT phone FROM participants GROUP BY dialogue_id, phone HAVING count(*) > 1) d")"
    fi
    echo "server errors logged: $(grep -c ' ERROR ' "$WORK/server-$n.log" || true)"
    kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
}

i=0
for bin in "${BINARIES[@]}"; do
    i=$((i + 1))
    run_one "$bin" "$i"
done
