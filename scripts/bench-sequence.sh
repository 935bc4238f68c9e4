#!/usr/bin/env bash
# Sequence-model speed, dlpipe vs its peers, alternated in one run on this machine with 2 threads each:
#   - LSTM 2×64 on 50×13 features, batch 32: training step (dlpipe bench train-lstm, ../shared/peers
#     torch_models.py lstm and keras_models.py lstm) and batch-1 latency (PyTorch's; Keras calls its model eagerly);
#   - the character LSTM of pipelines/text-train.conf: training characters/s (scripts/text-torch-peer.py --bench);
#   - MFCC of a 1-s 16 kHz clip: first call, one at a time, batched (librosa.feature.mfcc, same settings).
# Usage: scripts/bench-sequence.sh [ROUNDS]   (KERAS=path/to/venv/bin/python to include Keras; default: none)
# Needs python3-torch + libopenblas0-openmp (apt); librosa from PyPI for the MFCC row.
set -euo pipefail
cd "$(dirname "$0")/.."
PEERS=${PEERS:-../shared/peers}
ROUNDS=${1:-3}
swift build -c release --product dlpipe >/dev/null
out=$(mktemp); trap 'rm -f "$out"' EXIT
for r in $(seq "$ROUNDS"); do
  DLPIPE_THREADS=2 .build/release/dlpipe bench train-lstm --threads 2 --json --seconds 1 | sed "s/^/ours /" >> "$out"
  OMP_NUM_THREADS=2 /usr/bin/python3 "$PEERS/torch_models.py" lstm --steps 30 | grep '^RESULT' | sed "s/^/torch /" >> "$out"
  if [ -n "${KERAS:-}" ]; then "$KERAS" "$PEERS/keras_models.py" lstm --steps 30 2>/dev/null | grep '^RESULT' | sed "s/^/keras /" >> "$out"; fi
  DLPIPE_THREADS=2 .build/release/dlpipe bench infer-lstm --threads 2 --json --seconds 1 | sed "s/^/ours /" >> "$out"
  DLPIPE_THREADS=2 .build/release/dlpipe bench train-text --threads 2 --json --seconds 1 | sed "s/^/ours /" >> "$out"
  OMP_NUM_THREADS=2 /usr/bin/python3 scripts/text-torch-peer.py --bench | grep '^RESULT' | sed "s/^/torchtext /" >> "$out"
  DLPIPE_THREADS=2 .build/release/dlpipe bench mfcc --threads 2 --json --seconds 1 | sed "s/^/ours /" >> "$out"
  python3 -c '
import time, statistics, numpy as np
t = time.perf_counter(); import librosa; imp = time.perf_counter() - t
y = (0.3 * np.sin(np.arange(16000) * 0.07) + 0.05 * np.random.default_rng(9).standard_normal(16000)).astype(np.float32)
f = lambda: librosa.feature.mfcc(y=y, sr=16000, n_mfcc=13, n_fft=512, hop_length=160, n_mels=40)
t = time.perf_counter(); f(); first = time.perf_counter() - t
ts = []
for _ in range(30): t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
print(f"RESULT librosa={librosa.__version__} first_call_us={first * 1e6:.0f} single_us={statistics.median(ts) * 1e6:.0f}")
' 2>/dev/null | sed "s/^/librosa /" >> "$out" || true
done
python3 - "$out" <<'PY'
import json, sys
rows = {}
def add(k, v): rows.setdefault(k, []).append(v)
for line in open(sys.argv[1]):
    who, rest = line.split(" ", 1)
    if who == "ours":
        j = json.loads(rest)
        if j["bench"] == "train-lstm": add("ours_step", j["step_ms"])
        if j["bench"] == "infer-lstm": add("ours_b1", j["latency_us"])
        if j["bench"] == "train-text": add("ours_text", j["chars_per_s"])
        if j["bench"] == "mfcc": add("ours_mfcc_first", j["first_call_us"]); add("ours_mfcc", j["single_us"]); add("ours_mfcc_batched", j["batched_us_per_clip"])
    else:
        kv = dict(x.split("=") for x in rest.split()[1:])
        if who == "torch": add("torch_step", float(kv["step_ms"])); add("torch_b1", float(kv["infer_b1_us"]))
        if who == "keras": add("keras_step", float(kv["step_ms"]))
        if who == "torchtext": add("torch_text", float(kv["chars_per_s"]))
        if who == "librosa": add("librosa_first", float(kv["first_call_us"])); add("librosa", float(kv["single_us"]))
def rng(k): v = rows.get(k, []); return f"{min(v):.1f}–{max(v):.1f}" if v else "—"
def ratio(a, b, lower_better=True):
    if a not in rows or b not in rows: return "—"
    r = [(y / x if lower_better else x / y) for x, y in zip(rows[a], rows[b])]
    return f"{min(r):.2f}–{max(r):.2f}×"
print(f"{'2 threads, rounds alternated':44} {'dlpipe':>16} {'peer':>18} {'dlpipe advantage':>17}")
print(f"{'LSTM 2×64 train step ms (PyTorch)':44} {rng('ours_step'):>16} {rng('torch_step'):>18} {ratio('ours_step', 'torch_step'):>17}")
print(f"{'LSTM 2×64 train step ms (Keras)':44} {rng('ours_step'):>16} {rng('keras_step'):>18} {ratio('ours_step', 'keras_step'):>17}")
print(f"{'LSTM 2×64 batch-1 latency µs (PyTorch)':44} {rng('ours_b1'):>16} {rng('torch_b1'):>18} {ratio('ours_b1', 'torch_b1'):>17}")
print(f"{'char LSTM 2×256 training chars/s (PyTorch)':44} {rng('ours_text'):>16} {rng('torch_text'):>18} {ratio('ours_text', 'torch_text', False):>17}")
print(f"{'MFCC 1 s @16 kHz, one clip µs (librosa)':44} {rng('ours_mfcc'):>16} {rng('librosa'):>18} {ratio('ours_mfcc', 'librosa'):>17}")
print(f"{'MFCC first call in the process µs':44} {rng('ours_mfcc_first'):>16} {rng('librosa_first'):>18} {ratio('ours_mfcc_first', 'librosa_first'):>17}")
print(f"{'MFCC batched, µs per clip (2 threads)':44} {rng('ours_mfcc_batched'):>16} {'':>18}")
PY
