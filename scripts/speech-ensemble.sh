#!/usr/bin/env bash
# Averaged speech models: trains pipelines/speech-train.conf with seed 1 (models/speech.safetensors) and with
# each further seed (models/speech-seed<N>.safetensors), classifies the test split with all of them at once
# (sequence.classify's `ensemble` option: the mean of their class probabilities) and prints the accuracy per
# test speaker. How many seeds to average was chosen on the validation folds (scripts/speech-folds.sh, see the
# README), never on the test split; the figures printed here are reported, not used to choose.
# Usage: scripts/speech-ensemble.sh [--seeds "2 3"]
set -euo pipefail
cd "$(dirname "$0")/.."
DLPIPE=${DLPIPE:-.build/release/dlpipe}
seeds="2 3"
while [ $# -gt 0 ]; do
  case $1 in
    --seeds) seeds=$2; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "speech-ensemble.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "${DLPIPE_PREBUILT:-}" ] || swift build -c release --product dlpipe >/dev/null
[ -f data/speech/.done ] || ./scripts/fetch-data.sh speech
"$DLPIPE" run pipelines/speech-train.conf --quiet
members=()
for seed in $seeds; do
  model=models/speech-seed$seed.safetensors
  "$DLPIPE" run pipelines/speech-train.conf --quiet --set "sequence.train.seed=$seed" --set "sequence.train.model=../$model" \
    --set "sequence.train.metrics=../runs/speech/seed$seed/metrics.json" --set "sequence.train.report=../runs/speech/seed$seed/report.html"
  members+=("../$model")
done
list=$(IFS=,; echo "${members[*]}")
predictions=runs/speech/ensemble-predictions.csv
"$DLPIPE" run pipelines/speech-classify.conf --quiet --set "sequence.classify.ensemble=[${list//,/, }]" \
  --set "write.csv.path=../$predictions"
echo "models: models/speech.safetensors ${members[*]//..\//}"
echo "predictions: $predictions"
python3 - "$predictions" <<'PY'
import collections, csv, os, sys
right = collections.Counter(); seen = collections.Counter()
for row in csv.DictReader(open(sys.argv[1])):
    digit, speaker = os.path.basename(row["file"]).split("_")[:2]   # <digit>_<speaker>_<take>
    group = speaker if speaker == "theo" else "synthetic voices"
    for key in {speaker, group}:
        seen[key] += 1; right[key] += row["label"] == digit
for key in sorted(seen, key=lambda k: (k not in ("theo", "synthetic voices"), k)):
    print(f"{key:32} {right[key]:4}/{seen[key]:<4} {right[key] / seen[key]:.1%}")
PY
