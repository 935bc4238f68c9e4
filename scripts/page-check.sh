#!/usr/bin/env bash
# The page at `dlpipe serve --listen`'s / in a real browser: installs Debian's chromium and chromium-driver
# and Selenium (PyPI), trains a small digit model on the test fixtures, serves it, uploads a digit through
# the page and checks that the label the page shows is the API's. Keeps a screenshot in runs/page-check/.
# Usage: scripts/page-check.sh [DLPIPE_BINARY]   (CI runs it after the tests)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-.build/debug/dlpipe}
missing=()
for p in chromium chromium-driver; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
python3 -c 'import selenium' 2>/dev/null || python3 -m pip install -q selenium
python3 scripts/page-check.py "$bin"
