#!/usr/bin/env bash
# Start-up recovery of a spool a crash on a failing card left behind: time and peak memory (figures for
# docs/recording.md; not a test). One open segment of BIG_GIB GiB (sparse: cheap on disk) and CORRUPT
# open segments with a corrupt trun (bench/recovery_bench.cpp), recovered as classcamd does before
# READY, under /usr/bin/time -v.
# Usage: bench/recovery.sh     Environment: BIG_GIB (default 4), CORRUPT (10), BUILD (build),
#                              RECOVER (a bench_recovery binary to measure instead, e.g. an older build's)
set -euo pipefail
cd "$(dirname "$0")/.."
big=${BIG_GIB:-4}
corrupt=${CORRUPT:-10}
build=${BUILD:-build}
[ -f "$build/build.ninja" ] || cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target bench_recovery >/dev/null
tool=$(realpath "$build/bench/bench_recovery")
recover=${RECOVER:-$tool}
work=$(mktemp -d /tmp/classcam-recovery.XXXXXX)
trap 'rm -rf "$work"' EXIT

"$tool" prepare "$work" "$big" "$corrupt"
/usr/bin/time -v "$recover" recover "$work" 2>"$work/time.txt"
grep -E "Elapsed \(wall clock\)|Maximum resident set size|User time|System time" "$work/time.txt"
