#!/usr/bin/env bash
# Writes docs/stages.md from `dlpipe stages --markdown` (a test keeps the two equal).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product dlpipe >/dev/null
{
  printf '# Stage reference\n\nEvery stage and option, as `dlpipe stages --markdown` prints them from the registry'"'"'s schemas\n'
  printf '(a test keeps this file equal to it; `scripts/update-stage-reference.sh` rewrites it).\n\n'
  .build/debug/dlpipe stages --markdown
} > docs/stages.md.tmp
mv docs/stages.md.tmp docs/stages.md
