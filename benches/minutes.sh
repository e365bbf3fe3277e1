#!/usr/bin/env bash
# The minutes' PDF for 50, 500 and 5,000 questions (question ~60 words, answer ~120, in
# Vietnamese): wall time, peak memory and file size, against wkhtmltopdf on the same text
# in the same run (examples/minutes_bench.rs says how it measures).
#
#   cargo build --release --example minutes_bench
#   benches/minutes.sh [path/to/minutes_bench]
#
# Settings (environment): SIZES (50,500,5000), RUNS (5: our drawings per size, best and
# median shown), WK_RUNS (1: wkhtmltopdf runs per size, best shown), KEEP (a folder to keep
# the PDFs and the HTML in; else a temporary one).
# Needs: wkhtmltopdf (Debian's package; without it only our columns are filled),
# /usr/bin/time (package `time`; else wkhtmltopdf's memory is polled from /proc),
# pdfinfo (poppler-utils) for the page counts.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-${CARGO_TARGET_DIR:-target}/release/examples/minutes_bench}
[ -x "$BIN" ] || { echo "missing $BIN: run 'cargo build --release --example minutes_bench'" >&2; exit 1; }
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
command -v wkhtmltopdf >/dev/null && wkhtmltopdf --version
exec "$BIN"
