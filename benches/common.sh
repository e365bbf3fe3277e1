#!/usr/bin/env bash
# Shared by the benchmark scripts: a work folder removed on exit, databases made and
# dropped, and a running service with an organizer, an open dialogue and PEOPLE invitees
# whose codes are in $WORK/codes.txt. Source it; it defines functions only (and WORK, TALLY).

WORK="$(mktemp -d "${TMPDIR:-/tmp}/doithoai-bench.XXXXXX")"
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

BASE="http://127.0.0.1:$PORT"

wait_up() {
    for _ in $(seq 1 200); do curl -fs -o /dev/null "$1" && return 0; sleep 0.05; done
    echo "error: $1 did not answer" >&2; return 1
}

stop_server() {
    if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""; fi
}

new_database() { # backend, name → URL
    if [[ "$1" == sqlite ]]; then
        echo "sqlite://$WORK/$2.db"
    else
        local db="doithoai_bench_$$_$2"
        psql -q "$ADMIN_URL" -c "CREATE DATABASE $db" >/dev/null
        DATABASES+=("$db")
        echo "${ADMIN_URL%/*}/$db"
    fi
}

sql() { # url, statement → first column of each row
    if [[ "$1" == sqlite://* ]]; then
        python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); [print(r[0]) for r in c.execute(sys.argv[2])]; c.commit()' "${1#sqlite://}" "$2"
    else
        psql -tA "$1" -c "$2"
    fi
}

json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# Starts the service on a new database of BACKEND and prepares the dialogue. Sets URL,
# TOKEN (the organizer's), ID (the dialogue's) and SERVER_PID; writes $WORK/codes.txt.
start_service() {
    local backend="$1"
    URL="$(new_database "$backend" "service_$2")"
    export DATABASE_URL="$URL" DOITHOAI_BIND="127.0.0.1:$PORT" DOITHOAI_LOG=warn \
        DOITHOAI_MAIL_DIR="$WORK/mail-$backend-$2" DOITHOAI_DB_POOL_SIZE="${POOL:-16}"
    "$BIN" user create --email bench@example.vn --name "Người đo" --role organizer \
        --password "mat-khau-do-hieu-nang" >/dev/null
    "$BIN" serve >"$WORK/server-$backend-$2.log" 2>&1 &
    SERVER_PID=$!
    wait_up "$BASE/healthz"
    local api="$BASE/api/v1"
    TOKEN="$(curl -fs -H 'Content-Type: application/json' \
        -d '{"email":"bench@example.vn","password":"mat-khau-do-hieu-nang"}' "$api/auth/login" | json_field token)"
    ID="$(curl -fs -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{
        "title": "Đối thoại đo hiệu năng", "host_unit": "UBND huyện Bến Lức", "venue": "Hội trường",
        "starts_at": "2030-11-30T14:00:00+07:00", "ends_at": "2030-11-30T17:00:00+07:00",
        "question_deadline": "2030-11-29T17:00:00+07:00", "capacity": 6000,
        "officials": [{"name": "Lê Thành Út", "position": "Chủ tịch", "role": "chair"}]
    }' "$api/dialogues" | json_field id)"
    curl -fs -o /dev/null -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
        -d '{"status":"open"}' "$api/dialogues/$ID/status"
    python3 - "$PEOPLE" >"$WORK/people.csv" <<'PY'
import sys
print("full_name,phone,category")
for n in range(int(sys.argv[1])):
    print(f"Người Tham Dự {n},09{n:08d},completed_sentence")
PY
    curl -fs -o /dev/null -H "Authorization: Bearer $TOKEN" -H 'Content-Type: text/csv; charset=utf-8' \
        --data-binary @"$WORK/people.csv" "$api/dialogues/$ID/invitations/import"
    python3 - "$api/dialogues/$ID/invitations" "$TOKEN" "$PEOPLE" >"$WORK/codes.txt" <<'PY'
import json, sys, urllib.request
url, token, people = sys.argv[1], sys.argv[2], int(sys.argv[3])
for page in range(1, people // 200 + 2):
    req = urllib.request.Request(f"{url}?per_page=200&page={page}", headers={"Authorization": f"Bearer {token}"})
    items = json.load(urllib.request.urlopen(req))["items"]
    for item in items:
        print(item["code"])
PY
    echo "   $(wc -l <"$WORK/codes.txt") participants with codes; dialogue $ID"
}

server_memory() { grep -E 'VmHWM|VmRSS' "/proc/$SERVER_PID/status" | tr -s ' \t' ' ' | paste -sd' '; }

# Per thread name of the server: CPU time and time spent runnable but waiting for a CPU,
# in nanoseconds (from /proc/PID/task/*/schedstat).
thread_times() {
    for task in /proc/"$SERVER_PID"/task/*; do
        printf '%s %s\n' "$(tr ' ' '_' <"$task/comm")" "$(cat "$task/schedstat" 2>/dev/null || echo '0 0 0')"
    done | awk '{cpu[$1] += $2; wait[$1] += $3; n[$1]++} END {for (k in cpu) print k, cpu[k], wait[k], n[k]}' | LC_ALL=C sort
}

# Runs a command (a load), then prints for each thread name of the server the share of one
# core its threads ran and the share they spent waiting for a core (summed over the threads
# of that name), and how busy the machine was.
with_thread_times() {
    local before after start end
    before="$(thread_times)"
    read -r _ user0 nice0 system0 idle0 iowait0 _ </proc/stat
    start="$(date +%s%N)"
    "$@"
    end="$(date +%s%N)"
    read -r _ user1 nice1 system1 idle1 iowait1 _ </proc/stat
    after="$(thread_times)"
    # Threads started during the load (the committing thread starts with the first write)
    # count from zero.
    LC_ALL=C join -a2 -e0 -o 0,1.2,1.3,2.2,2.3,2.4 <(echo "$before") <(echo "$after") |
        awk -v ns=$((end - start)) '$4 - $2 > ns / 200 {
            printf "   %-16s (%2d threads) ran %3.0f%% of a core, waited for one %3.0f%%\n", $1, $6, 100 * ($4 - $2) / ns, 100 * ($5 - $3) / ns }'
    local ticks=$(((end - start) / 10000000)) # clock ticks (1/100 s) per core
    echo "   machine ($(nproc) cores = $(($(nproc) * 100))%): user $(((user1 + nice1 - user0 - nice0) * 100 / ticks))%, system $(((system1 - system0) * 100 / ticks))%, idle $(((idle1 - idle0) * 100 / ticks))%, I/O wait $(((iowait1 - iowait0) * 100 / ticks))%"
}

# wrk's Lua pieces.
# Tallies answers by status across wrk's threads (each thread has its own Lua state).
TALLY='
local statuses = {}
function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
    wrk.thread:set("statuses", statuses)
end
local threads = {}
function setup(thread)
    thread:set("id", #threads)
    table.insert(threads, thread)
end
function done(summary, latency, requests)
    local total = {}
    for _, thread in ipairs(threads) do
        local s = thread:get("statuses") or {}
        for code, n in pairs(s) do total[code] = (total[code] or 0) + n end
    end
    local parts = {}
    for code, n in pairs(total) do table.insert(parts, code .. "x" .. n) end
    table.sort(parts)
    io.write("statuses: " .. table.concat(parts, " ") .. "\n")
end
local function lines(path)
    local list = {}
    for line in io.lines(path) do if #line > 0 then table.insert(list, line) end end
    return list
end
'

# Writes a wrk script that votes: distinct (person, question) pairs, as examples/loadgen.rs
# makes them, from k = 10,000,000. Run it with the codes' file and the questions' file as
# arguments (after --).
vote_script() { # file
    cat >"$1" <<LUA
$TALLY
local codes, questions, counter, id = nil, nil, 0, 0
function init(args)
    codes = lines(args[1])
    questions = lines(args[2])
    id = tonumber(wrk.thread:get("id"))
end
function request()
    counter = counter + 1
    local k = 10000000 + id * 1000000 + counter
    local people = #codes
    local q = questions[(k + math.floor(k / people)) % #questions + 1]
    return wrk.format("PUT", "/api/v1/questions/" .. q .. "/vote", {["Authorization"] = "Bearer " .. codes[k % people + 1]}, "")
end
LUA
}

# Submissions as participants (wrk's path is the dialogue's questions), each text distinct.
submit_script() { # file
    cat >"$1" <<LUA
$TALLY
local codes, counter, id = nil, 0, 0
local topics = {"employment", "loans_livelihood", "record_expungement", "vocational_training", "residence_documents"}
function init(args)
    codes = lines(args[1])
    id = tonumber(wrk.thread:get("id"))
end
function request()
    counter = counter + 1
    local k = (id + 1) * 10000000 + counter
    local body = string.format('{"body":"Câu hỏi số %d: xin hỏi thủ tục vay vốn học nghề cho người đã chấp hành xong án phạt tù ở địa phương như thế nào?","topic":"%s"}', k, topics[k % 5 + 1])
    return wrk.format("POST", wrk.path, {["Content-Type"] = "application/json",
        ["Authorization"] = "Bearer " .. codes[k % #codes + 1]}, body)
end
LUA
}

# The bare baselines' request: one row to POST /rows.
BARE_REQUEST='
local counter = 0
function request()
    counter = counter + 1
    local body = string.format([[{"dialogue_id":"d","body":"Câu hỏi số %d của luồng %s về vay vốn học nghề"}]], counter, wrk.thread:get("id"))
    return wrk.format("POST", "/rows", {["Content-Type"] = "application/json"}, body)
end'
