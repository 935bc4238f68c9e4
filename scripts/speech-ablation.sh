#!/usr/bin/env bash
# What each choice of pipelines/speech-train.conf adds: the same pipeline with parts switched off, each run
# into its own folder under runs/speech-ablation/. Prints validation accuracy (speaker nicolas, a training
# speaker held out) and held-out accuracy for the FSDD test speaker and for the synthetic test voices.
# Usage: scripts/speech-ablation.sh [VARIANT...]   (default: plain full)
set -euo pipefail
cd "$(dirname "$0")/.."
DLPIPE=${DLPIPE:-.build/release/dlpipe}
[ -n "${DLPIPE_PREBUILT:-}" ] || swift build -c release --product dlpipe >/dev/null
[ -f data/speech/.done ] || ./scripts/fetch-data.sh speech
declare -A sets=(
  [plain]="--set sequence.train.layers=[{lstm:{hidden:64,layers:2}}] --set sequence.train.normalize=none --set audio.augment.copies=0 --set sequence.train.time_masks=0 --set sequence.train.feature_masks=0"
  [normalized]="--set audio.augment.copies=0 --set sequence.train.time_masks=0 --set sequence.train.feature_masks=0"
  [no-specaugment]="--set sequence.train.time_masks=0 --set sequence.train.feature_masks=0"
  [final-state]="--set sequence.train.layers=[{lstm:{hidden:64,layers:2}}]"
  [full]=""
)
for v in "${@:-plain full}"; do
  for name in $v; do
    out=runs/speech-ablation/$name; mkdir -p "$out"
    # shellcheck disable=SC2086
    "$DLPIPE" run pipelines/speech-train.conf --quiet ${sets[$name]} --set sequence.train.model=../$out/model.safetensors \
      --set sequence.train.metrics=../$out/metrics.json --set sequence.train.report=../$out/report.html --set sequence.train.min_test_accuracy=0
    python3 - "$name" "$out/metrics.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[2])); by = m["test_accuracy_by_speaker"]
real = {k: v for k, v in by.items() if "-" not in k}; synth = {k: v for k, v in by.items() if "-" in k}
acc = lambda d: sum(v["accuracy"] * v["count"] for v in d.values()) / max(1, sum(v["count"] for v in d.values()))
print(f"{sys.argv[1]:16} validation {m['epochs'][-1].get('validation_accuracy', float('nan')):.4f}  "
      + "  ".join(f"{k} {v['accuracy']:.4f}" for k, v in real.items()) + f"  synthetic voices {acc(synth):.4f}  ({m['train_seconds']:.0f} s)")
PY
  done
done
