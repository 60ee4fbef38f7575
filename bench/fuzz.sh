#!/usr/bin/env bash
# Fuzzing figures (for docs/development.md and issue notes; not a test): every libFuzzer target for
# MINUTES each, PARALLEL at a time, through scripts/fuzz (which builds build-fuzz/ first). Prints the
# machine's load before and after and, per target, executions, inputs added to the corpus, coverage
# (edges) and the finding, if any (a crash, a broken invariant, a timeout or out of memory; the run of
# that target stops at its first). The corpus grows in build-fuzz/corpus/<name>/ from run to run.
# Usage: bench/fuzz.sh [MINUTES] [PARALLEL] [TARGET...]    default 10 minutes, 1 at a time, every target
# Environment: FUZZ_SECONDS overrides MINUTES (short runs).
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-10}
parallel=${2:-1}
shift $(($# > 2 ? 2 : $#))
seconds=${FUZZ_SECONDS:-$((minutes * 60))}
echo "bench/fuzz.sh: ${seconds} s per target, ${parallel} at a time, on $(nproc) cores; $(uptime)"
status=0
scripts/fuzz -t "$seconds" -j "$parallel" "$@" || status=$?
echo "after: $(uptime)"
exit "$status"
