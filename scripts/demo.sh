#!/usr/bin/env bash
# The README's main command: installs what dlpipe needs (Debian), builds it, fetches real MNIST digits,
# trains the digit recogniser and classifies the held-out digits with it.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
swift build -c release --product dlpipe
./scripts/fetch-data.sh mnist
.build/release/dlpipe run pipelines/digits-train.conf
.build/release/dlpipe run pipelines/digits-classify.conf --quiet
echo
echo "model:       models/digits.safetensors"
echo "metrics:     runs/digits/metrics.json"
echo "report:      runs/digits/report.html"
echo "predictions: runs/digits/predictions.csv ($(($(wc -l < runs/digits/predictions.csv) - 1)) images)"
