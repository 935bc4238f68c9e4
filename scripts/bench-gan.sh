#!/usr/bin/env bash
# DCGAN training-step speed, dlpipe vs its peers, alternated in one run with 2 threads each:
# `dlpipe bench train-gan` and ../shared/peers torch_models.py dcgan / keras_models.py dcgan (batch 64: the
# discriminator on a real and a generated batch, then the generator; two Adams). dlpipe reports both update
# rules: alternating as the PyTorch peer, simultaneous as the Keras peer (compare like with like).
# Usage: scripts/bench-gan.sh [ROUNDS]   (KERAS=path/to/venv/bin/python to include Keras; default: none)
# Needs python3-torch + libopenblas0-openmp (apt).
set -euo pipefail
cd "$(dirname "$0")/.."
PEERS=${PEERS:-../shared/peers}
ROUNDS=${1:-3}
swift build -c release --product dlpipe >/dev/null
for r in $(seq "$ROUNDS"); do
  DLPIPE_THREADS=2 .build/release/dlpipe bench train-gan --threads 2 --json --seconds 1 | sed "s/^/round $r ours  /"
  OMP_NUM_THREADS=2 /usr/bin/python3 "$PEERS/torch_models.py" dcgan --steps 10 | grep '^RESULT' | sed "s/^/round $r torch /"
  if [ -n "${KERAS:-}" ]; then "$KERAS" "$PEERS/keras_models.py" dcgan --steps 20 2>/dev/null | grep '^RESULT' | sed "s/^/round $r keras /"; fi
done
