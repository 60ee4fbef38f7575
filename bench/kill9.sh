#!/usr/bin/env bash
# kill -9 after ~5 s of recording: how much is lost, per container/segmenting candidate (figures for
# docs/recording.md; not a test). Every candidate records the daemon's own capture and encoder chain
# (test picture with clock, x264, AAC, from classcamd --print-pipeline) and is killed with SIGKILL
# KILL_AFTER seconds after its pipeline reached PLAYING.
#   lost = (kill time - PLAYING time) - playable media left on disk
# Playable media = video packets ffprobe can read, over the frame rate (0 for a file it cannot open).
# classcamd itself is measured the way its e2e test does it: after the kill it is restarted, recovery
# runs, and the kept media is the manifest's segment durations (checked against ffprobe as well).
# Usage: bench/kill9.sh            Environment: RUNS (default 3), KILL_AFTER (5), WIDTH/HEIGHT (1920x1080),
#                                   PRESET (veryfast), BUILD (build)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-3}
after=${KILL_AFTER:-5}
width=${WIDTH:-1920}
height=${HEIGHT:-1080}
preset=${PRESET:-veryfast}
build=${BUILD:-build}
[ -f "$build/build.ninja" ] || cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target classcamd classcamctl >/dev/null
daemon=$(realpath "$build/firmware/daemon/classcamd")
ctl=$(realpath "$build/firmware/ctl/classcamctl")
work=$(mktemp -d /tmp/classcam-kill9.XXXXXX)
trap 'kill -9 $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

write_config() {
  cat >"$work/classcamd.toml" <<TOML
[unit]
state_dir = "$work/state"
[log]
level = "warn"
[video]
source = "test"
width = $width
height = $height
[audio]
source = "test"
[encoder]
kind = "x264"
preset = "$preset"
[spool]
dir = "$work/spool"
[control]
socket = "$work/classcamd.sock"
TOML
}
write_config
config=$work/classcamd.toml
fps=30

# The daemon's chain up to the muxer: everything before "mp4mux name=mux ... ! filesink ..." split off.
full=$("$daemon" --config "$config" --print-pipeline)
chain=${full#* buffer-mode=2 }
video=${chain%% audiotestsrc*}
audio="audiotestsrc${chain#* audiotestsrc}"
video=${video% ! mux.}
audio=${audio% ! mux.}

seg_ns=2000000000
declare -A candidates=(
  ["1 splitmuxsink + mp4mux"]="splitmuxsink name=mux location=seg-%05d.mp4 max-size-time=$seg_ns send-keyframe-requests=true"
  ["2 splitmuxsink + mp4mux fragment-duration=500"]="splitmuxsink name=mux location=seg-%05d.mp4 max-size-time=$seg_ns send-keyframe-requests=true async-finalize=true muxer-factory=mp4mux muxer-properties=\"properties,fragment-duration=500\""
  ["3 splitmuxsink + matroskamux"]="splitmuxsink name=mux location=seg-%05d.mkv max-size-time=$seg_ns send-keyframe-requests=true async-finalize=true muxer-factory=matroskamux"
  ["4 splitmuxsink + mpegtsmux"]="splitmuxsink name=mux location=seg-%05d.ts max-size-time=$seg_ns send-keyframe-requests=true async-finalize=true muxer-factory=mpegtsmux"
  ["5 mp4mux fragment-duration=100 (one file)"]="mp4mux name=mux fragment-duration=100 streamable=true ! filesink location=stream.mp4 buffer-mode=2"
)

frames_of() {  # video packets ffprobe reads in a file (0 when it cannot open it)
  ffprobe -v error -count_packets -select_streams v -show_entries stream=nb_read_packets -of csv=p=0 "$1" 2>/dev/null |
    head -1 | tr -dc 0-9 || true
}

results=()
for name in $(printf '%s\n' "${!candidates[@]}" | sort | tr ' ' '\001'); do
  name=${name//$'\001'/ }
  sink=${candidates[$name]}
  losses=()
  for r in $(seq "$runs"); do
    d=$work/run && rm -rf "$d" && mkdir -p "$d" && cd "$d"
    eval "args=($sink $video ! mux.video $audio ! mux.audio_0)"
    [[ $sink == mp4mux* ]] && eval "args=($sink $video ! mux. $audio ! mux.)"
    launched=$(date +%s.%N)
    GST_DEBUG=GST_STATES:4 GST_DEBUG_NO_COLOR=1 gst-launch-1.0 -q "${args[@]}" >gst.log 2>&1 &
    pid=$!
    # PLAYING, in seconds since gst_init (~ the launch): the pipeline's completed state change.
    for _ in $(seq 200); do grep -q "<pipeline0> completed state change to PLAYING" gst.log && break; sleep 0.02; done
    if ! grep -q "<pipeline0> completed state change to PLAYING" gst.log; then
      echo "$name: the pipeline did not start:" >&2
      grep -v GST_STATES gst.log | head -5 >&2
      exit 1
    fi
    playing=$(grep -m1 "<pipeline0> completed state change to PLAYING" gst.log | awk '{print $1}' |
      awk -F: '{print $1 * 3600 + $2 * 60 + $3}')
    sleep "$after"
    killed=$(date +%s.%N)
    kill -9 "$pid"
    wait "$pid" 2>/dev/null || true
    frames=0
    for f in seg-* stream.mp4; do
      [ -f "$f" ] || continue
      n=$(frames_of "$f")
      frames=$((frames + ${n:-0}))
    done
    losses+=("$(awk -v k="$killed" -v l="$launched" -v p="$playing" -v n="$frames" -v fps="$fps" \
      'BEGIN { printf "%.2f", (k - l - p) - n / fps }')")
    cd - >/dev/null
  done
  results+=("$name|${losses[*]}")
done

# classcamd: start, kill -9, restart (recovery), read the manifest.
losses=()
for r in $(seq "$runs"); do
  rm -rf "$work/spool" "$work/state"
  "$daemon" --config "$config" >"$work/d.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do "$ctl" --config "$config" status >/dev/null 2>&1 && break; sleep 0.1; done
  "$ctl" --config "$config" start >/dev/null
  sleep "$after"
  killed=$(date +%s%3N)
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
  "$daemon" --config "$config" >>"$work/d.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do "$ctl" --config "$config" status >/dev/null 2>&1 && break; sleep 0.1; done
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null || true
  manifest=$(ls "$work"/spool/sessions/*/manifest.jsonl)
  losses+=("$(python3 - "$manifest" "$killed" <<'PY'
import json, sys, datetime
segs = [json.loads(l)["segment"] for l in open(sys.argv[1]) if '"record":"segment"' in l]
first = datetime.datetime.fromisoformat(segs[0]["start_utc"].replace("Z", "+00:00")).timestamp() * 1000
kept = sum(s["duration_ns"] for s in segs) / 1e9
print(f"{(int(sys.argv[2]) - first) / 1000 - kept:.2f}")
PY
)")
done
results+=("6 classcamd (fragmented MP4 stream cut by the spool, recovery on restart)|${losses[*]}")

echo
echo "kill -9 ${after} s after PLAYING: seconds lost per run (${width}x${height}@${fps} + AAC, x264 $preset, 2 s segments," \
  "$(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
for r in "${results[@]}"; do
  printf '  %-72s %s\n' "${r%%|*}" "${r#*|}"
done
