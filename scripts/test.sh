#!/usr/bin/env bash
# The test command (README, CI): install dependencies, then run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
swift build --build-tests
swift test
