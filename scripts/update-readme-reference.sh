#!/usr/bin/env bash
# Replaces the README's stage reference with `dlpipe stages --markdown` (a test keeps the two equal).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product dlpipe >/dev/null
.build/debug/dlpipe stages --markdown > .stage-reference.md
python3 - <<'PY'
t = open("README.md").read()
ref = open(".stage-reference.md").read()
a = t.index("## Stage reference\n"); f = t.index("### `", a); e = t.index("\n## ", f)
open("README.md", "w").write(t[:f] + ref.rstrip("\n") + "\n" + t[e:])
PY
rm .stage-reference.md
