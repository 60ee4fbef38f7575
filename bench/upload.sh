#!/usr/bin/env bash
# Uploader benchmark (prints figures; not run by scripts/test): goodput of the unit's uploader against
# curl sending the same bytes over the same TLS link to the same hub in the same run (alternating runs,
# medians), and the bytes re-sent per network cut (a proxy dropping each connection after BENCH_CUT_MB).
# Environment: BENCH_SEGMENTS (default 12), BENCH_SEGMENT_MB (default 4), BENCH_RUNS (default 3),
# BENCH_CUT_MB (default 10).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target bench_upload >/dev/null
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
build/bench/bench_upload --segments "${BENCH_SEGMENTS:-12}" --segment-mb "${BENCH_SEGMENT_MB:-4}" \
  --runs "${BENCH_RUNS:-3}" --cut-mb "${BENCH_CUT_MB:-10}"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
