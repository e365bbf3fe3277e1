#!/usr/bin/env bash
# Load test of GET /api/v1/dialogues/{id} on SQLite, plus start-up time on an empty database.
#
#   benches/load.sh [--matrix] [BINARY]
#
# BINARY defaults to target/release/doithoai (build it first with `cargo build --release`).
# Without --matrix: one configuration, chosen by the environment variables below, then the
# start-up measurement. With --matrix: every configuration of docs/PERFORMANCE.md in turn,
# a summary table, then the start-up measurement.
#
# Environment (defaults in brackets):
#   PORT [8099]            port the server listens on (127.0.0.1)
#   TARGET [dialogue]      dialogue | healthz | static   (what wrk requests)
#   PIN [0]                1: server on CPU 1 (taskset -c 1), wrk on CPU 0 (taskset -c 0)
#   WORKERS [0]            DOITHOAI_WORKERS (0 = one per CPU the process may use)
#   POOL [8]               DOITHOAI_DB_POOL_SIZE (SQLite reader pool)
#   CONNECTIONS [64] THREADS [2] DURATION [20s] WARMUP [5s]   wrk settings
#   STARTUP_RUNS [10]      start-up measurements (0 to skip)
#   QUIET_WAIT [0]         seconds to wait, before each run, for the machine to be idle
#                          (other processes using < 15% of the CPUs); 0 = don't wait
#
# Requires: bash >= 5 (EPOCHREALTIME), wrk, curl, taskset (for PIN=1).
# Everything is created in a temporary directory that is removed on exit.
set -euo pipefail

MATRIX=0
if [[ "${1:-}" == "--matrix" ]]; then
    MATRIX=1
    shift
fi
BIN="${1:-$(dirname "$0")/../target/release/doithoai}" # default: relative to the repository
PORT="${PORT:-8099}"
TARGET="${TARGET:-dialogue}"
PIN="${PIN:-0}"
WORKERS="${WORKERS:-0}"
POOL="${POOL:-8}"
CONNECTIONS="${CONNECTIONS:-64}"
THREADS="${THREADS:-2}"
DURATION="${DURATION:-20s}"
WARMUP="${WARMUP:-5s}"
STARTUP_RUNS="${STARTUP_RUNS:-10}"
QUIET_WAIT="${QUIET_WAIT:-0}"

if [[ ! -x "$BIN" ]]; then
    echo "error: no executable at $BIN" >&2
    echo "build it first:  cargo build --release   (or pass the binary's path)" >&2
    exit 1
fi
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"
for tool in wrk curl; do
    command -v "$tool" >/dev/null || { echo "error: $tool is not installed" >&2; exit 1; }
done
if (echo >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    echo "error: something already listens on 127.0.0.1:$PORT (set PORT=...)" >&2
    exit 1
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/doithoai-load.XXXXXX")"
SERVER_PID=""
stop_server() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.05
        done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=""
}
cleanup() {
    stop_server
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A sleep without forking: read with a timeout on a FIFO that we hold open ourselves.
mkfifo "$WORK/tick"
exec {TICK}<>"$WORK/tick"
nap() { read -r -t "$1" -u "$TICK" _ || true; }

now_ns() { # nanoseconds, without forking
    local t="${EPOCHREALTIME/[.,]/}"
    echo $((t * 1000))
}

# One HTTP/1.0 GET over bash's /dev/tcp; prints the status code, or nothing if no answer.
http_status() {
    local fd line
    exec {fd}<>"/dev/tcp/127.0.0.1/$PORT" 2>/dev/null || return 1
    printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$1" >&"$fd" || { exec {fd}>&-; return 1; }
    IFS= read -r -t 2 -u "$fd" line || true
    exec {fd}>&-
    line="${line#HTTP/1.? }"
    echo "${line%% *}"
}

# Busy share (%) of all CPUs over one second, from /proc/stat.
cpu_busy_1s() {
    local a b
    read -r -a a < <(grep '^cpu ' /proc/stat)
    nap 1
    read -r -a b < <(grep '^cpu ' /proc/stat)
    local idle=$(((b[4] + b[5]) - (a[4] + a[5])))
    local total=0 i
    for i in 1 2 3 4 5 6 7 8; do total=$((total + b[i] - a[i])); done
    echo $((total > 0 ? 100 * (total - idle) / total : 0))
}
cpu_jiffies() { # all CPUs, busy jiffies (user+nice+system+irq+softirq+steal)
    local c
    read -r -a c < <(grep '^cpu ' /proc/stat)
    echo $((c[1] + c[2] + c[3] + c[6] + c[7] + c[8]))
}
proc_jiffies() { # utime+stime of a process (all its threads)
    local s
    s="$(cat "/proc/$1/stat")"
    s="${s##*) }"
    read -r -a f <<<"$s"
    echo $((f[11] + f[12]))
}
load1() { cut -d' ' -f1 /proc/loadavg; }

wait_quiet() {
    ((QUIET_WAIT > 0)) || return 0
    local waited=0 busy
    while :; do
        busy="$(cpu_busy_1s)"
        ((busy < 15)) && return 0
        waited=$((waited + 1))
        if ((waited >= QUIET_WAIT)); then
            echo "warning: the machine is still ${busy}% busy after ${QUIET_WAIT}s; measuring anyway" >&2
            return 0
        fi
    done
}

# server_env DB WORKERS POOL COMMAND...: replaces the current (sub)shell with COMMAND, given
# the service's settings. Run it as `server_env ... &` (then $! is the server's own pid, for
# /proc/$!/status) or as `(server_env ...)`; never plainly, which would replace this script.
server_env() {
    export DATABASE_URL="sqlite://$1" DOITHOAI_BIND="127.0.0.1:$PORT" DOITHOAI_LOG=warn \
        DOITHOAI_WORKERS="$2" DOITHOAI_DB_POOL_SIZE="$3"
    exec "${@:4}"
}

check_pid() { # the pid in SERVER_PID must be the service itself, not a wrapping shell
    local exe want i
    want="$(readlink -f "$BIN")"
    for i in $(seq 1 200); do
        exe="$(readlink "/proc/$SERVER_PID/exe" 2>/dev/null || true)"
        [[ "$exe" == "$want" ]] && return 0
        nap 0.01
    done
    echo "error: pid $SERVER_PID is ${exe:-gone}, not $want" >&2
    exit 1
}

wait_healthy() { # up to 10 s
    local i
    for i in $(seq 1 1000); do
        [[ "$(http_status /healthz 2>/dev/null || true)" == 200 ]] && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || { echo "error: the server exited" >&2; cat "$WORK/server.log" >&2; return 1; }
        nap 0.01
    done
    echo "error: no answer from /healthz after 10 s" >&2
    return 1
}

# --- data -------------------------------------------------------------------------------
DB="$WORK/bench.db"
(server_env "$DB" 0 "$POOL" "$BIN" demo) >"$WORK/demo.txt"
ID="$(grep -oE '/d/[0-9a-f-]{36}' "$WORK/demo.txt" | head -n1 | cut -c4-)"
if [[ -z "$ID" ]]; then
    echo "error: could not find the dialogue id in the output of 'demo':" >&2
    cat "$WORK/demo.txt" >&2
    exit 1
fi

path_of() {
    case "$1" in
        dialogue) echo "/api/v1/dialogues/$ID" ;;
        healthz) echo "/healthz" ;;
        static) echo "/static/app.css" ;;
        *) echo "error: unknown TARGET $1" >&2; exit 1 ;;
    esac
}

echo "== machine"
echo "cpus: $(nproc)   model: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "kernel: $(uname -r)   date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "binary: $BIN ($(sha256sum "$BIN" | cut -c1-12))"
echo "dialogue: $ID"
echo

SUMMARY="$WORK/summary.tsv"
printf 'config\treq/s\tp50\tp99\tmax\tVmHWM\tVmRSS\tsrv_cpu%%\twrk_cpu%%\tother_cpu%%\tload_before\tload_after\terrors\n' >"$SUMMARY"

# run_one NAME TARGET PIN WORKERS POOL
run_one() {
    local name="$1" target="$2" pin="$3" workers="$4" pool="$5"
    local path srv_pin=() wrk_pin=()
    path="$(path_of "$target")"
    if [[ "$pin" == 1 ]]; then
        command -v taskset >/dev/null || { echo "error: taskset is not installed" >&2; exit 1; }
        srv_pin=(taskset -c 1)
        wrk_pin=(taskset -c 0)
    fi
    local url="http://127.0.0.1:$PORT$path"

    echo "== $name: GET $path  pin=$pin workers=$workers pool=$pool  wrk -t$THREADS -c$CONNECTIONS -d$DURATION"
    wait_quiet
    local before_busy
    before_busy="$(cpu_busy_1s)"
    local lb
    lb="$(load1)"
    echo "before: $(uptime)   (CPU busy over the last second: ${before_busy}%)"

    server_env "$DB" "$workers" "$pool" "${srv_pin[@]}" "$BIN" serve >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    check_pid
    wait_healthy
    local code
    code="$(curl -s -o /dev/null -w '%{http_code}' "$url")"
    if [[ "$code" != 200 ]]; then
        echo "error: $url answered $code" >&2
        exit 1
    fi

    "${wrk_pin[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" "$url" >/dev/null

    local j0 s0 t0 j1 s1 t1 wrk_cpu out
    j0="$(cpu_jiffies)"
    s0="$(proc_jiffies "$SERVER_PID")"
    t0="$(now_ns)"
    out="$WORK/wrk-$name.txt"
    # bash's `time` gives wrk's own CPU time (user + system, seconds).
    local TIMEFORMAT='%U %S'
    { time "${wrk_pin[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$url" >"$out"; } 2>"$WORK/wrk-time"
    t1="$(now_ns)"
    s1="$(proc_jiffies "$SERVER_PID")"
    j1="$(cpu_jiffies)"
    cat "$out"

    local hwm rss
    hwm="$(awk '/^VmHWM/ {print $2 " " $3}' "/proc/$SERVER_PID/status")"
    rss="$(awk '/^VmRSS/ {print $2 " " $3}' "/proc/$SERVER_PID/status")"
    echo "server: VmHWM $hwm   VmRSS $rss   threads $(awk '/^Threads/ {print $2}' "/proc/$SERVER_PID/status")"
    stop_server

    local tck elapsed_s srv wrk other
    tck="$(getconf CLK_TCK)"
    wrk_cpu="$(awk '{printf "%d", ($1 + $2) * 100}' "$WORK/wrk-time")" # in 1/100 s
    elapsed_s=$(((t1 - t0) / 10000000))                             # in 1/100 s
    srv=$(((s1 - s0) * 100 / tck * 100 / elapsed_s))
    wrk=$((wrk_cpu * 100 / elapsed_s))
    other=$((((j1 - j0) * 100 / tck - (s1 - s0) * 100 / tck - wrk_cpu) * 100 / elapsed_s))
    ((other < 0)) && other=0
    echo "cpu during the run (100% = one core): server ${srv}%  wrk ${wrk}%  everything else ${other}%"
    echo "after:  $(uptime)"
    echo

    local rps p50 p99 max errors
    rps="$(awk '/^Requests\/sec/ {print $2}' "$out")"
    p50="$(awk '$1 == "50%" {print $2}' "$out")"
    p99="$(awk '$1 == "99%" {print $2}' "$out")"
    max="$(awk '$1 == "Latency" {print $4; exit}' "$out")"
    errors="$(awk '/Non-2xx|Socket errors/ {printf "%s ", $0}' "$out")"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$rps" "$p50" "$p99" "$max" \
        "$hwm" "$rss" "$srv" "$wrk" "$other" "$lb" "$(load1)" "${errors:-none}" >>"$SUMMARY"
}

# --- start-up: process start until /healthz first answers 200, fresh empty database -------
startup() {
    ((STARTUP_RUNS > 0)) || return 0
    echo "== start-up on an empty database ($STARTUP_RUNS runs; from fork/exec to the first 200 from /healthz)"
    wait_quiet
    echo "before: $(uptime)   (CPU busy over the last second: $(cpu_busy_1s)%)"
    local j0 j1 t0 t1
    j0="$(cpu_jiffies)"
    t0="$(now_ns)"
    local i times=() start end status
    for i in $(seq 1 "$STARTUP_RUNS"); do
        rm -f "$WORK"/empty.db*
        start="$(now_ns)"
        server_env "$WORK/empty.db" 0 "$POOL" "$BIN" serve >"$WORK/server.log" 2>&1 &
        SERVER_PID=$!
        while :; do
            status="$(http_status /healthz 2>/dev/null || true)"
            [[ "$status" == 200 ]] && break
            if ! kill -0 "$SERVER_PID" 2>/dev/null; then
                echo "error: the server exited" >&2
                cat "$WORK/server.log" >&2
                exit 1
            fi
            if (($(now_ns) - start > 10000000000)); then
                echo "error: no 200 from /healthz within 10 s" >&2
                exit 1
            fi
            nap 0.001
        done
        end="$(now_ns)"
        times+=($(((end - start) / 1000)))
        printf 'run %2d: %6.1f ms\n' "$i" "$(((end - start) / 1000))e-3"
        stop_server
    done
    local sorted n median
    mapfile -t sorted < <(printf '%s\n' "${times[@]}" | sort -n)
    n=${#sorted[@]}
    if ((n % 2)); then
        median=${sorted[n / 2]}
    else
        median=$(((sorted[n / 2 - 1] + sorted[n / 2]) / 2))
    fi
    printf 'start-up: median %.1f ms, min %.1f ms, max %.1f ms (target: 500 ms)\n' \
        "${median}e-3" "${sorted[0]}e-3" "${sorted[n - 1]}e-3"
    j1="$(cpu_jiffies)"
    t1="$(now_ns)"
    # The server itself is busy for part of this time; a figure well above ~50% means
    # something else was running too (start-up includes fsyncs, which also suffer from
    # other processes' disk writes).
    echo "CPU busy during the start-up runs (all CPUs, the server included): $(((j1 - j0) * 100 / $(getconf CLK_TCK) * 1000000000 / (t1 - t0) / $(nproc)))%"
    echo "after:  $(uptime)"
    echo
}

if ((MATRIX)); then
    #       name                   target   pin workers pool
    run_one dialogue-unpinned      dialogue 0   0       8
    run_one dialogue-pinned        dialogue 1   0       8
    run_one dialogue-w2-pool2      dialogue 0   2       2
    run_one dialogue-w2-pool4      dialogue 0   2       4
    run_one dialogue-w2-pool8      dialogue 0   2       8
    run_one healthz-unpinned       healthz  0   0       8
    run_one healthz-pinned         healthz  1   0       8
    run_one static-unpinned        static   0   0       8
    run_one static-pinned          static   1   0       8
else
    run_one "$TARGET" "$TARGET" "$PIN" "$WORKERS" "$POOL"
fi

echo "== summary (latencies as wrk prints them; cpu: 100% = one core)"
column -t -s $'\t' "$SUMMARY" 2>/dev/null || cat "$SUMMARY"
echo

startup
