#!/usr/bin/env bash
# Queues 10,000 invitations and times their delivery to a local SMTP server, while wrk
# measures GET /api/v1/dialogues/{id} latency on the same machine.
#
#   cargo build --release && cargo build --release --example smtp_sink
#   benches/outbox.sh [path/to/doithoai] [path/to/smtp_sink]
#
# Prints: the time the send request took (queueing 10,000 rendered emails in one
# transaction), the time until the SMTP server had all 10,000, and wrk's latency report.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/release/doithoai}
SINK=${2:-target/release/examples/smtp_sink}
N=${N:-10000}
for f in "$BIN" "$SINK"; do
  [ -x "$f" ] || { echo "missing $f: run 'cargo build --release && cargo build --release --example smtp_sink'" >&2; exit 1; }
done
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }

WORK=$(mktemp -d)
PORT=$((20000 + RANDOM % 20000)); SMTP_PORT=$((PORT + 1))
cleanup() { kill "${SERVER:-}" "${SINKPID:-}" 2>/dev/null || true; cp "$WORK/server.log" /tmp/outbox-bench-server.log 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

export DATABASE_URL="sqlite://$WORK/bench.db" DOITHOAI_LOG=${DOITHOAI_LOG:-warn}
"$SINK" "127.0.0.1:$SMTP_PORT" "$WORK/count" 2>/dev/null & SINKPID=$!
"$BIN" user create --email bench@vidu.example --name "Ban Tổ Chức" --role organizer --password bench-password-1 >/dev/null
DOITHOAI_BIND="127.0.0.1:$PORT" DOITHOAI_SMTP_URL="smtp://127.0.0.1:$SMTP_PORT" "$BIN" serve >/dev/null 2>"$WORK/server.log" & SERVER=$!
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done

API="http://127.0.0.1:$PORT/api/v1"
TOKEN=$(curl -sf -X POST "$API/auth/login" -H 'content-type: application/json' \
  -d '{"email":"bench@vidu.example","password":"bench-password-1"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
AUTH="authorization: Bearer $TOKEN"
ID=$(curl -sf -X POST "$API/dialogues" -H "$AUTH" -H 'content-type: application/json' -d '{
  "title": "Hội nghị đối thoại (đo hiệu năng)", "host_unit": "UBND huyện Bến Lức", "venue": "Hội trường UBND huyện Bến Lức",
  "starts_at": "2030-11-30T14:00:00+07:00", "ends_at": "2030-11-30T17:00:00+07:00", "capacity": 20000,
  "officials": [{"name": "Lê Thành Út", "position": "Chủ tịch UBND huyện", "role": "chair"}],
  "agenda": [{"title": "Khai mạc"}]}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
curl -sf -X POST "$API/dialogues/$ID/status" -H "$AUTH" -H 'content-type: application/json' -d '{"status":"open"}' >/dev/null

python3 - "$N" > "$WORK/invitees.csv" <<'PY'
import sys
n = int(sys.argv[1])
print("full_name,email,phone,category,address")
for i in range(n):
    print(f"Nguyễn Văn Thử {i},nguoi{i}@vidu.example,09{i:08d},completed_sentence,Ấp {i % 9 + 1}")
PY
t0=$(date +%s.%N)
curl -sf -X POST "$API/dialogues/$ID/invitations/import" -H "$AUTH" -H 'content-type: text/csv' --data-binary @"$WORK/invitees.csv" >/dev/null
t1=$(date +%s.%N)
echo "import of $N CSV rows: $(python3 -c "print(f'{$t1-$t0:.2f}')") s"

wrk -t1 -c16 -d75s --latency "$API/dialogues/$ID" > "$WORK/wrk.txt" &
WRK=$!
sleep 3
t2=$(date +%s.%N)
curl -sf -X POST "$API/dialogues/$ID/invitations/send" -H "$AUTH" >/dev/null
t3=$(date +%s.%N)
echo "send request (render and queue $N emails): $(python3 -c "print(f'{$t3-$t2:.2f}')") s"
delivered() { local c; c=$(cat "$WORK/count" 2>/dev/null || true); echo "${c:-0}"; }
while [ "$(delivered)" -lt "$N" ]; do
  sleep 0.1
  if python3 -c "import sys; sys.exit(0 if $(date +%s) - ${t2%.*} > 300 else 1)"; then echo "gave up after 300 s at $(delivered)" >&2; break; fi
done
t4=$(date +%s.%N)
echo "delivered $(delivered) of $N to the SMTP server: $(python3 -c "print(f'{$t4-$t2:.2f}')") s after the send request"
wait $WRK || true
echo "--- wrk, GET /api/v1/dialogues/{id} at 16 connections during the run ---"
cat "$WORK/wrk.txt"
