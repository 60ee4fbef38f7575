#!/usr/bin/env bash
# Recording benchmarks (figures for docs/performance.md; not a test):
#   1. CPU and peak RSS of classcamd recording 1080p30 + AAC, against a bare gst-launch-1.0 running the
#      same pipeline (classcamd --print-pipeline) in the same run, alternating, ROUNDS times each;
#   2. trigger to first frame on disk: how long `classcamctl start` takes to return (it returns once the
#      first fragment of the first segment has been written), STARTS times.
# Usage: bench/recording.sh [SECONDS]     SECONDS per CPU window (default 20)
# Environment: ROUNDS (default 2), STARTS (default 5), PRESET (x264, default veryfast), BUILD (default build)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
rounds=${ROUNDS:-2}
starts=${STARTS:-5}
preset=${PRESET:-veryfast}
build=${BUILD:-build}
[ -f "$build/build.ninja" ] || cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target classcamd classcamctl >/dev/null
daemon=$build/firmware/daemon/classcamd
ctl=$build/firmware/ctl/classcamctl

work=$(mktemp -d /tmp/classcam-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

cat >"$work/classcamd.toml" <<TOML
[unit]
state_dir = "$work/state"
[log]
level = "warn"
[video]
source = "test"
width = 1920
height = 1080
framerate = 30
[audio]
source = "test"
codec = "aac"
[encoder]
kind = "x264"
preset = "$preset"
bitrate_kbps = 4000
[spool]
dir = "$work/spool"
[control]
socket = "$work/classcamd.sock"
TOML
config=$work/classcamd.toml

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

# Prints "<cpu % of one core> <peak RSS MB>" for process $1 over $secs seconds.
measure() {
  local pid=$1 t0 t1 s0 s1
  t0=$(ticks "$pid"); s0=$(date +%s.%N)
  sleep "$secs"
  t1=$(ticks "$pid"); s1=$(date +%s.%N)
  local hwm
  hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
  awk -v t0="$t0" -v t1="$t1" -v s0="$s0" -v s1="$s1" -v hz="$hz" -v hwm="$hwm" \
    'BEGIN { printf "%.1f %.0f\n", (t1 - t0) / hz / (s1 - s0) * 100, hwm / 1024 }'
}

start_daemon() {
  "$daemon" --config "$config" >>"$work/classcamd.log" 2>&1 &
  daemon_pid=$!
  pids+=("$daemon_pid")
  for _ in $(seq 100); do "$ctl" --config "$config" status >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "classcamd did not start; see $work/classcamd.log" >&2
  exit 1
}
stop_daemon() {
  kill -TERM "$daemon_pid"
  wait "$daemon_pid" || true
}

pipeline=$("$daemon" --config "$config" --print-pipeline)
eval "gst_args=($pipeline)"

daemon_runs=()
gst_runs=()
for r in $(seq "$rounds"); do
  echo "round $r/$rounds: gst-launch-1.0 ..." >&2
  mkdir -p "$work/gst"
  cd "$work/gst"
  gst-launch-1.0 -q -e "${gst_args[@]}" >"$work/gst.log" 2>&1 &
  gst_pid=$!
  cd - >/dev/null
  pids+=("$gst_pid")
  sleep 3  # warm-up, as for the daemon
  gst_runs+=("$(measure "$gst_pid")")
  kill -INT "$gst_pid" 2>/dev/null || true
  # gst-launch with -e sometimes never exits after EOS (platform notes): give it 5 s.
  for _ in $(seq 50); do kill -0 "$gst_pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$gst_pid" 2>/dev/null || true
  wait "$gst_pid" 2>/dev/null || true
  rm -rf "$work/gst"

  echo "round $r/$rounds: classcamd ..." >&2
  start_daemon
  "$ctl" --config "$config" start >/dev/null
  sleep 3
  daemon_runs+=("$(measure "$daemon_pid")")
  "$ctl" --config "$config" stop >/dev/null
  stop_daemon
  rm -rf "$work/spool"
done

echo "trigger to first frame: $starts starts ..." >&2
start_daemon
latencies=()
for i in $(seq "$starts"); do
  t0=$(date +%s%N)
  "$ctl" --config "$config" start >/dev/null
  t1=$(date +%s%N)
  latencies+=($(((t1 - t0) / 1000000)))
  # The first segment file holds the init segment and at least one fragment now.
  part=$(ls "$work"/spool/sessions/*/seg-00000.mp4.part 2>/dev/null | tail -1)
  [ -n "$part" ] && [ "$(stat -c %s "$part")" -gt 1000 ] || echo "warning: no first fragment on disk after start $i" >&2
  sleep 1
  "$ctl" --config "$config" stop >/dev/null
  rm -rf "$work"/spool/sessions/*
done
stop_daemon

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
col() { local i=$1; shift; for x in "$@"; do echo "$x" | cut -d' ' -f"$i"; done; }
gst_cpu=$(median $(col 1 "${gst_runs[@]}"))
gst_rss=$(median $(col 2 "${gst_runs[@]}"))
d_cpu=$(median $(col 1 "${daemon_runs[@]}"))
d_rss=$(median $(col 2 "${daemon_runs[@]}"))

echo
echo "classcam recording benchmark: 1920x1080@30 test picture + AAC, x264 $preset 4000 kbit/s"
echo "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); $rounds rounds of ${secs} s per side, medians"
printf '%-16s %10s %14s   %s\n' "" "CPU %" "peak RSS MB" "per round (CPU RSS)"
printf '%-16s %10s %14s   %s\n' "gst-launch-1.0" "$gst_cpu" "$gst_rss" "$(printf '[%s] ' "${gst_runs[@]}")"
printf '%-16s %10s %14s   %s\n' "classcamd" "$d_cpu" "$d_rss" "$(printf '[%s] ' "${daemon_runs[@]}")"
awk -v d="$d_cpu" -v g="$gst_cpu" 'BEGIN { printf "CPU ratio classcamd / gst-launch: %.2fx (goal <= 1.05x)\n", d / g }'
echo "trigger (classcamctl start) to first frame on disk, $starts starts: median $(median "${latencies[@]}") ms," \
  "min $(printf '%s\n' "${latencies[@]}" | sort -n | head -1) ms, max $(printf '%s\n' "${latencies[@]}" | sort -n | tail -1) ms (goal <= 300 ms)"
