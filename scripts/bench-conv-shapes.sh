#!/usr/bin/env bash
# `dlpipe bench conv-shapes` against PyTorch and TensorFlow (oneDNN) on the same shapes and passes, alternated
# in one run (ROUNDS rounds, 2 threads each), then the table of GFLOP/s, % of peak and ratios (best of the
# rounds for each). Needs python3-torch (apt) and TensorFlow in a venv: KERAS=path/to/venv/bin/python.
# Usage: scripts/bench-conv-shapes.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2}
bin=.build/release/dlpipe
[ -x "$bin" ] || swift build -c release --product dlpipe >/dev/null
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for r in $(seq 1 "$rounds"); do
  "$bin" bench conv-shapes --threads 2 --json >> "$out"
  OMP_NUM_THREADS=2 /usr/bin/python3 scripts/conv-shapes-peer.py torch >> "$out"
  if [ -n "${KERAS:-}" ]; then TF_CPP_MIN_LOG_LEVEL=2 "$KERAS" scripts/conv-shapes-peer.py tf >> "$out"; fi
done
python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
best, peak = {}, {}
for r in rows:
    fw = r.get("framework", "dlpipe"); key = (r["shape"], r["pass"])
    best.setdefault(key, {}).setdefault(fw, []).append(r["gflops"])
    if fw == "dlpipe": peak[key] = r["gflops"] / r["peak_percent"] * 100
print(f"{'shape':18} {'pass':11} {'dlpipe':>14} {'% peak':>7} {'PyTorch':>14} {'TF/oneDNN':>14} {'× torch':>8} {'× TF':>7}")
for (shape, kind), fws in best.items():
    d = fws["dlpipe"]; t = fws.get("torch", [0]); f = fws.get("tf", [0])
    rng = lambda v: f"{min(v):.0f}–{max(v):.0f}" if v != [0] else "—"
    ratio = lambda v: f"{max(d) / max(v):.2f}" if max(v) > 0 else "—"
    print(f"{shape:18} {kind:11} {rng(d):>14} {100 * max(d) / peak[(shape, kind)]:>6.0f}% {rng(t):>14} {rng(f):>14} {ratio(t):>8} {ratio(f):>7}")
PY
