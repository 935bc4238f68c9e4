#!/usr/bin/env bash
# Validation accuracy of pipelines/speech-train.conf with each training speaker held out in turn, over several
# seeds, and of the same runs on the validation voices (data/speech/validation: women's and men's voices of
# neither split): the way to choose a speech setting, on the mean of the held-out real men and the women's
# voices. One run on one fold moves by up to 10 points with the seed alone, so a setting is worth keeping
# only if its means beat the shipped ones by more than their ranges. Prints validation figures only: the
# test split is never looked at.
# Usage: scripts/speech-folds.sh [--folds "nicolas lucas george jackson"] [--seeds "1 2"] [--name NAME] [--set K=V ...]
# Runs go to runs/speech-folds/NAME/<speaker>-seed<N>/ (NAME defaults to "shipped").
set -euo pipefail
cd "$(dirname "$0")/.."
DLPIPE=${DLPIPE:-.build/release/dlpipe}
folds="nicolas lucas george jackson"; seeds="1 2"; name=shipped; sets=()
while [ $# -gt 0 ]; do
  case $1 in
    --folds) folds=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    --name) name=$2; shift 2 ;;
    --set) sets+=(--set "$2"); shift 2 ;;
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "speech-folds.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "${DLPIPE_PREBUILT:-}" ] || swift build -c release --product dlpipe >/dev/null
[ -f data/speech/.done ] || ./scripts/fetch-data.sh speech
results=runs/speech-folds/$name/results.tsv
mkdir -p "$(dirname "$results")"; : > "$results"
for speaker in $folds; do
  for seed in $seeds; do
    out=runs/speech-folds/$name/$speaker-seed$seed; mkdir -p "$out"
    "$DLPIPE" run pipelines/speech-train.conf --quiet "${sets[@]}" --set "sequence.train.seed=$seed" \
      --set "sequence.train.validation_speakers=[$speaker]" --set sequence.train.validation_split=0 \
      --set "sequence.train.model=../$out/model.safetensors" --set "sequence.train.metrics=../$out/metrics.json" \
      --set "sequence.train.report=../$out/report.html" --set sequence.train.min_test_accuracy=0 > "$out/log" 2>&1 \
      || { echo "speech-folds.sh: the run for $speaker, seed $seed failed; see $out/log" >&2; exit 1; }
    python3 - "$speaker" "$seed" "$out/metrics.json" >> "$results" <<'PY'
import json, sys
m = json.load(open(sys.argv[3])); e = m["epochs"][-1]; g = m.get("validation_set_by_group", {})
women, men = (g.get(k, {}).get("accuracy", float("nan")) for k in ("women", "men"))
print(f"{sys.argv[1]}\t{sys.argv[2]}\t{e['validation_accuracy']:.4f}\t{women:.4f}\t{men:.4f}")
PY
    tail -1 "$results" | awk -F'\t' '{printf "%-10s seed %-3s validation %s  women voices %s  men voices %s\n", $1, $2, $3, $4, $5}'
  done
done
python3 - "$results" "$name" <<'PY'
import sys, collections
by = collections.defaultdict(list); women, men = [], []
for line in open(sys.argv[1]):
    speaker, _, acc, w, m = line.split("\t"); by[speaker].append(float(acc)); women.append(float(w)); men.append(float(m))
means = []
for speaker, accs in by.items():
    means.append(sum(accs) / len(accs))
    print(f"{sys.argv[2]}: {speaker:10} mean {means[-1]:.3f}  range {min(accs):.3f}–{max(accs):.3f}  ({len(accs)} seeds)")
folds = sum(means) / len(means); w = sum(women) / len(women)
print(f"{sys.argv[2]}: mean over folds {folds:.3f}")
print(f"{sys.argv[2]}: women's validation voices mean {w:.3f}  range {min(women):.3f}–{max(women):.3f}; men's {sum(men) / len(men):.3f}")
print(f"{sys.argv[2]}: score (mean of the folds' mean and the women's) {(folds + w) / 2:.3f}")
PY
