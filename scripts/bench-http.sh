#!/usr/bin/env bash
# `dlpipe serve --listen` against what a user would write instead (scripts/serve-peer.py: FastAPI + uvicorn
# + PyTorch serving the same digit model), with one load generator (wrk, Debian) on loopback: requests/s
# and p50/p99 latency at 1, 8 and 64 concurrent clients, the two servers alternated in one run; then the
# speech pipeline alone. Needs python3-torch, libopenblas0-openmp (without it PyTorch falls back to the
# reference BLAS: an unfair peer) and wrk (apt), fastapi and uvicorn (pip), a digit model.
# Usage: scripts/bench-http.sh [ROUNDS] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2}
seconds=${2:-8}
bin=.build/release/dlpipe
[ -x "$bin" ] || swift build -c release --product dlpipe >/dev/null
[ -f models/digits.safetensors ] || { echo "bench-http.sh: train models/digits.safetensors first (pipelines/digits-train.conf)" >&2; exit 2; }
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
png=$(find data/mnist/test -name '*.png' -print -quit)
cat > "$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "image/png"
local f = io.open("$png", "rb"); wrk.body = f:read("*all"); f:close()
LUA

"$bin" serve pipelines/digits-classify.conf --listen 127.0.0.1:18080 -q 2> "$work/dlpipe.log" &
OMP_NUM_THREADS=2 /usr/bin/python3 scripts/serve-peer.py models/digits.safetensors 18081 2> "$work/peer.log" &
for port in 18080 18081; do
  for _ in $(seq 1 200); do curl -sf -o /dev/null -H 'Content-Type: image/png' --data-binary @"$png" "http://127.0.0.1:$port/v1/pipelines/$([ $port = 18080 ] && echo digits-classify || echo digits)" && break; sleep 0.1; done
done

measure() {  # measure NAME URL CLIENTS
  local out
  out=$(wrk -t "$(( $3 < 2 ? 1 : 2 ))" -c "$3" -d "${seconds}s" --latency -s "$work/post.lua" "$2")
  local rps p50 p99 errors
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx/ {print $5}' <<<"$out")
  printf "%-8s %3d clients  %9s req/s  p50 %8s  p99 %8s  %s\n" "$1" "$3" "$rps" "$p50" "$p99" "${errors:+non-2xx: $errors}"
}
for r in $(seq 1 "$rounds"); do
  echo "== round $r"
  for c in 1 8 64; do
    measure dlpipe http://127.0.0.1:18080/v1/pipelines/digits-classify "$c"
    measure peer http://127.0.0.1:18081/v1/pipelines/digits "$c"
  done
done
if [ -f models/speech.safetensors ]; then
  clip=$(find data/speech/test -name '*.flac' -print -quit)
  kill %1; wait %1 2>/dev/null || true
  "$bin" serve pipelines/speech-classify.conf --listen 127.0.0.1:18082 -q 2>> "$work/dlpipe.log" &
  for _ in $(seq 1 200); do curl -sf -o /dev/null -H 'Content-Type: audio/wav' --data-binary @"$clip" http://127.0.0.1:18082/v1/pipelines/speech-classify && break; sleep 0.1; done
  sed -i "s|$png|$clip|; s|image/png|audio/wav|" "$work/post.lua"
  for c in 1 8 64; do measure speech http://127.0.0.1:18082/v1/pipelines/speech-classify "$c"; done
fi
