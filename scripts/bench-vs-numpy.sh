#!/usr/bin/env bash
# Runs `dlpipe bench gemm` and numpy's float32 matmul (OpenBLAS) at the same shapes and thread counts,
# one right after the other, and prints the ratio dlpipe/numpy per row.
# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are unset for numpy's command only (they force old kernels here).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product dlpipe >/dev/null
ours=$(.build/release/dlpipe bench gemm --json "$@")
python3 -m pip show threadpoolctl >/dev/null 2>&1 || python3 -m pip install -q threadpoolctl >/dev/null 2>&1 || true
theirs=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 - <<'PY'
import json, time, numpy as np
try:
    from threadpoolctl import threadpool_limits, threadpool_info
except ImportError:
    threadpool_limits = None
shapes = [(256, 256, 256), (512, 512, 512), (1024, 1024, 1024), (64, 32 * 121, 288)]
for threads in (1, 2):
    ctx = threadpool_limits(limits=threads) if threadpool_limits else None
    for m, n, k in shapes:
        a = np.random.rand(m, k).astype(np.float32); b = np.random.rand(k, n).astype(np.float32)
        a @ b
        best, start = 1e9, time.perf_counter()
        while True:
            t = time.perf_counter(); a @ b; best = min(best, time.perf_counter() - t)
            if time.perf_counter() - start > 0.5: break
        print(json.dumps({"m": m, "n": n, "k": k, "threads": threads, "gflops": 2 * m * n * k / best / 1e9}))
    if ctx: ctx.unregister() if hasattr(ctx, "unregister") else None
if threadpool_limits:
    info = [i for i in threadpool_info() if i.get("internal_api") == "openblas"]
    if info: print(json.dumps({"openblas": info[0].get("version"), "arch": info[0].get("architecture")}))
PY
)
python3 - "$ours" "$theirs" <<'PY'
import json, sys
ours = [json.loads(l) for l in sys.argv[1].splitlines() if l.strip()]
theirs = [json.loads(l) for l in sys.argv[2].splitlines() if l.strip()]
meta = [t for t in theirs if "openblas" in t]
ref = {(t["m"], t["n"], t["k"], t["threads"]): t["gflops"] for t in theirs if "m" in t}
if meta: print(f"numpy uses OpenBLAS {meta[0]['openblas']} ({meta[0]['arch']} kernels)")
print(f"{'M':>5} {'N':>5} {'K':>5} {'threads':>7} {'dlpipe':>8} {'numpy':>8} {'ratio':>6}")
for o in ours:
    key = (o["m"], o["n"], o["k"], o["threads"])
    if key in ref:
        print(f"{o['m']:>5} {o['n']:>5} {o['k']:>5} {o['threads']:>7} {o['gflops']:>8.1f} {ref[key]:>8.1f} {o['gflops'] / ref[key]:>6.2f}")
PY
