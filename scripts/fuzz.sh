#!/usr/bin/env bash
# Coverage-guided fuzzing of one reader: scripts/fuzz.sh TARGET SECONDS [RUNS]
#   TARGET: config, png, audio, safetensors, checkpoint, idx, http (or "all")
# Builds Modules/Fuzz with libFuzzer and AddressSanitizer into .build-fuzz, seeds the corpus with the
# test fixtures, and runs for SECONDS (or RUNS executions). A crash leaves fuzz/artifacts/TARGET/crash-*
# and makes this script fail. The corpus grows in fuzz/corpus/TARGET (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: scripts/fuzz.sh TARGET SECONDS [RUNS]}
seconds=${2:?usage: scripts/fuzz.sh TARGET SECONDS [RUNS]}
runs=${3:--1}
export SWIFT_BACKTRACE=enable=no
swift build -c release --product dlpipe-fuzz --scratch-path .build-fuzz \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING >/dev/null
bin=.build-fuzz/release/dlpipe-fuzz

seed() {   # seed TARGET: copy the fixtures that fit the target into fuzz/seeds/TARGET
  local t=$1 dir=fuzz/seeds/$1
  mkdir -p "$dir"
  case $t in
    config) cp pipelines/*.conf "$dir/" ;;
    png) cp Tests/MediaTests/Fixtures/png/*.png "$dir/"; cp Tests/VisionTests/Fixtures/digits/test/3/*.png "$dir/" ;;
    audio) cp Tests/MediaTests/Fixtures/audio/*.wav "$dir/"
           command -v sox >/dev/null && sox -n -r 8000 -b 16 "$dir/tone.flac" synth 0.05 sine 440 ;;
    safetensors) cp Tests/NNTests/Fixtures/*.safetensors "$dir/" ;;
    checkpoint) "$bin" checkpoint --write-seed "$dir/one-step.ckpt" ;;
    idx) python3 - "$dir" <<'PY'
import gzip, struct, sys
d = sys.argv[1]
imgs = struct.pack(">BBBBIII", 0, 0, 8, 3, 2, 3, 3) + bytes(range(18))
open(f"{d}/imgs.idx", "wb").write(imgs)
open(f"{d}/imgs.idx.gz", "wb").write(gzip.compress(imgs))
open(f"{d}/labels.idx", "wb").write(struct.pack(">BBBBI", 0, 0, 8, 1, 2) + bytes([3, 7]))
PY
    ;;
    http) printf 'GET /v1/pipelines?top_k=3 HTTP/1.1\r\nHost: x\r\n\r\n' > "$dir/get.txt"
          printf 'POST /v1/pipelines/d HTTP/1.1\r\nContent-Length: 4\r\nContent-Type: image/png\r\n\r\nabcd' > "$dir/post.txt"
          printf 'POST /v1/pipelines/d HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n' > "$dir/chunked.txt"
          printf 'POST /v1/pipelines/d HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=XY\r\nContent-Length: 97\r\n\r\n--XY\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\nabcd\r\n--XY--\r\n' > "$dir/multipart.txt" ;;
    *) echo "fuzz.sh: unknown target '$t' (config, png, audio, safetensors, checkpoint, idx, http)" >&2; exit 2 ;;
  esac
}

run() {
  local t=$1
  seed "$t"
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  echo "== fuzz $t for ${seconds}s"
  "$bin" "$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -max_total_time="$seconds" -runs="$runs" -seed="${FUZZ_SEED:-0}" -timeout=10 -rss_limit_mb=4096 \
    -artifact_prefix="fuzz/artifacts/$t/" -print_final_stats=1 2>&1 | grep -E "^#[0-9]+.*(DONE|pulse)|stat::number_of_executed_units|stat::peak_rss|cov:|ERROR|SUMMARY|crash-|Test unit written" | tail -n 8
  if ls "fuzz/artifacts/$t"/crash-* "fuzz/artifacts/$t"/timeout-* "fuzz/artifacts/$t"/oom-* >/dev/null 2>&1; then
    echo "fuzz.sh: $t found a failing input in fuzz/artifacts/$t" >&2; return 1
  fi
}

if [ "$target" = all ]; then
  for t in config png audio safetensors checkpoint idx http; do run "$t"; done
else
  run "$target"
fi
