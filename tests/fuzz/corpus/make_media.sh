#!/usr/bin/env bash
# Makes the fMP4 seeds of fuzz_fmp4 and fuzz_recovery: real segments as the recorder's mp4mux writes
# them (fragment-duration, streamable), from GStreamer test sources at a tiny size, a few KB each, plus
# cut copies (a torn tail, as a power cut leaves). Run by hand when the recorder's muxing changes; the
# output is committed.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
video="videotestsrc num-buffers=12 ! video/x-raw,width=32,height=24,framerate=10/1 ! x264enc key-int-max=5 speed-preset=ultrafast tune=zerolatency bitrate=32 ! h264parse"
audio="audiotestsrc num-buffers=6 samplesperbuffer=1600 ! audio/x-raw,rate=16000,channels=1 ! opusenc bitrate=6000"
mux="mp4mux name=m fragment-duration=100 streamable=true ! filesink location"
gst-launch-1.0 -q $video ! $mux="$tmp/video.mp4"
gst-launch-1.0 -q $video ! queue ! m. $audio ! queue ! $mux="$tmp/av.mp4"
gst-launch-1.0 -q $audio ! $mux="$tmp/audio.mp4"
cp "$tmp/video.mp4" fmp4/video.mp4
cp "$tmp/av.mp4" fmp4/video-audio.mp4
cp "$tmp/audio.mp4" fmp4/audio.mp4
size=$(stat -c %s "$tmp/av.mp4")
head -c $((size - 37)) "$tmp/av.mp4" >fmp4/torn.mp4

# fuzz_recovery reads (FuzzedDataProvider): manifest lines up to a backslash and another character, the
# segment's bytes, and a last byte whose low bit says the segment was renamed (1) or is a .part (0).
session='{"manifest":1,"record":"session","session":{"session_id":"s-fuzz","unit_id":"u-fuzz","trigger":"local","started_at":"2026-09-21T08:00:00.000Z","segment_duration_ms":2000}}'
open='{"index":0,"file":"seg-00000.mp4","record":"open","start_pts_ns":0,"start_utc":"2026-09-21T08:00:00.000Z"}'
{ printf '%s\n\\;' "$open"; cat fmp4/torn.mp4; printf '\x00'; } >recovery/part-torn
{ printf '\\;'; cat fmp4/video.mp4; printf '\x00'; } >recovery/part-complete
{ printf '%s\n\\;' "$open"; cat fmp4/video-audio.mp4; printf '\x01'; } >recovery/renamed
{ printf '%s\n\\;' "$session"; cat fmp4/audio.mp4; printf '\x00'; } >recovery/second-session-record
ls -l fmp4 recovery
