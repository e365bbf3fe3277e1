#!/usr/bin/env bash
# Fuzzes the running service against its own OpenAPI document with schemathesis, every check.
#
# Builds the debug binary, starts a copy of it on SQLite (a temporary database and mail
# folder, a free loopback port), creates an organizer with the CLI, logs in for a token, and
# runs `st run` with that token. Any failure fails the script. The server is stopped on exit.
#
# Environment: ST_MAX_EXAMPLES (default 30) and ST_SEED (default 20260101) bound and fix the run;
# ST_REPORT_DIR, if set, keeps schemathesis's reports there.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
VENV=.ci/.venv
MAX_EXAMPLES="${ST_MAX_EXAMPLES:-30}"
SEED="${ST_SEED:-20260101}"

step() { printf '\n==> %s\n' "$*"; }

step "schemathesis ${SCHEMATHESIS_VERSION} in ${VENV}"
if [ ! -x "$VENV/bin/st" ] || ! "$VENV/bin/st" --version | grep -q "$SCHEMATHESIS_VERSION"; then
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==${SCHEMATHESIS_VERSION}"
fi
"$VENV/bin/st" --version

step "build the service"
cargo build --quiet
target_dir="${CARGO_TARGET_DIR:-target}"

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# A copy, so that another build into the shared target folder cannot swap it mid-run.
cp "$target_dir/debug/doithoai" "$work/doithoai"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
base="http://127.0.0.1:${port}"
mkdir -p "$work/mail"
export DOITHOAI_BIND="127.0.0.1:${port}"
export DOITHOAI_BASE_URL="$base"
export DATABASE_URL="sqlite://${work}/doithoai.db"
export DOITHOAI_MAIL_DIR="$work/mail"
export DOITHOAI_LOG="${DOITHOAI_LOG:-warn}"
unset DOITHOAI_SMTP_URL DOITHOAI_CONFIG DOITHOAI_TRUSTED_PROXY

step "an organizer, the server on ${base}"
"$work/doithoai" migrate
password="fuzz-$(python3 -c 'import secrets; print(secrets.token_hex(12))')"
"$work/doithoai" user create --email fuzz-organizer@example.com --name "Fuzz Organizer" \
  --role organizer --password "$password" >/dev/null
"$work/doithoai" serve >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -fsS "$base/healthz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log"; exit 1; }
  sleep 0.1
done
curl -fsS "$base/healthz"
echo
token="$(curl -fsS -H 'content-type: application/json' \
  -d "{\"email\":\"fuzz-organizer@example.com\",\"password\":\"${password}\"}" \
  "$base/api/v1/auth/login" | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')"

step "schemathesis run: all checks, ${MAX_EXAMPLES} examples per operation, seed ${SEED}"
report=()
if [ -n "${ST_REPORT_DIR:-}" ]; then
  report=(--report junit,ndjson --report-dir "$ST_REPORT_DIR")
fi
status=0
"$VENV/bin/st" --config-file .ci/schemathesis.toml run "$base/api/openapi.json" \
  --checks all \
  --header "Authorization: Bearer ${token}" \
  --exclude-operation-id auth_logout \
  --max-examples "$MAX_EXAMPLES" \
  --seed "$SEED" \
  --generation-database none \
  --workers 1 \
  --request-timeout 20 \
  --no-color \
  "${report[@]}" || status=$?

if [ "$status" -ne 0 ]; then
  echo "schemathesis failed (exit $status); the server's log:" >&2
  grep -iE 'error|panic' "$work/server.log" | tail -n 50 >&2 || true
fi
exit "$status"
