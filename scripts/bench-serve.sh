#!/usr/bin/env bash
# The daemon's figures (issue 14), measured on this machine's disk:
#   throughput of `dlpipe serve` with a batch already waiting (28×28 digit PNG → durable result JSON),
#   a lone file's latency (rename into inbox/ → result file), the 2,000-file SIGKILL test and two
#   workers on one spool. Everything is checked, not just timed: the script exits 1 if any input ends
#   with no outcome or two.
# Usage: scripts/bench-serve.sh [ARGS for scripts/serve-bench.py, e.g. --files 20000 --rounds 5 --json]
# Needs data/mnist (scripts/fetch-data.sh mnist) and models/digits.safetensors (dlpipe run pipelines/digits-train.conf).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product dlpipe >/dev/null
[ -f models/digits.safetensors ] || { echo "models/digits.safetensors missing: run 'dlpipe run pipelines/digits-train.conf' first" >&2; exit 2; }
exec python3 scripts/serve-bench.py "$@"
