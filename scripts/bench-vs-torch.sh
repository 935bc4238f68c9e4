#!/usr/bin/env bash
# Seed-CNN speed, dlpipe vs PyTorch (../shared/peers/torch_models.py), measured one right after the
# other on this machine with 2 threads each. Needs python3-torch + libopenblas0-openmp (apt) and the
# MNIST CSV from scripts/fetch-data.sh. Prints one table with the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
PEERS=${PEERS:-../shared/peers}
[ -f data/mnist_5k.csv.gz ] || ./scripts/fetch-data.sh mnist
swift build -c release --product dlpipe >/dev/null
ours_train=$(DLPIPE_THREADS=2 .build/release/dlpipe bench train-cnn --threads 2 --json --seconds 1)
ours_infer=$(DLPIPE_THREADS=2 .build/release/dlpipe bench infer-cnn --threads 2 --json --seconds 1)
theirs=$(OMP_NUM_THREADS=2 /usr/bin/python3 "$PEERS/torch_models.py" cnn --mnist-csv data/mnist_5k.csv.gz --epochs 3 | grep '^RESULT')
python3 - "$ours_train" "$ours_infer" "$theirs" <<'PY'
import json, sys
train = json.loads(sys.argv[1])
infer = [json.loads(l) for l in sys.argv[2].splitlines()]
t = dict(kv.split("=") for kv in sys.argv[3].split()[1:])
b1 = next(i for i in infer if i["batch"] == 1); b256 = next(i for i in infer if i["batch"] == 256)
rows = [("training images/s (batch 32)", train["images_per_s"], float(t["train_img_per_s"]), True),
        ("inference batch-1 latency µs", b1["latency_us"], float(t["infer_b1_us"]), False),
        ("inference batch-256 images/s", b256["images_per_s"], float(t["infer_b256_img_per_s"]), True)]
print(f"{'seed CNN, 2 threads':32} {'dlpipe':>10} {'PyTorch':>10} {'dlpipe advantage':>17}")
for name, ours, theirs, higher_better in rows:
    adv = ours / theirs if higher_better else theirs / ours
    print(f"{name:32} {ours:>10.0f} {theirs:>10.0f} {adv:>16.2f}x")
PY
