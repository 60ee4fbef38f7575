#!/usr/bin/env bash
# Live observation benchmark (issue 12; figures in docs/performance.md "Live"). As root, on this machine:
#   1. baseline: a bare webrtcbin (bench_live_baseline) sends the test picture with the latency strip
#      straight to headless Chromium in a network namespace of the bench's own;
#   2. through classcam: classcam-hub (TLS, its Mosquitto) and classcamd (the same picture, the
#      recording's own H.264) on the namespace's host address; Chromium signs in as the room's teacher
#      and opens the hub's live page; the page's frames are read back the same way;
#   3. the unit's CPU (classcamd's utime+stime from /proc) while recording alone and while recording
#      with live and one viewer.
# Prints one line of figures per part. Needs what scripts/deps browser bench installs, and npm ci in
# tests/browser.
#   bench/live.sh [frames]        (default 300 frames measured per run)
set -euo pipefail
cd "$(dirname "$0")/.."
frames=${1:-300}
width=1280 height=720 kbps=2000
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target classcam-hub classcamd classcamctl bench_live_baseline >/dev/null
hub_bin=$PWD/build/hub/app/classcam-hub
daemon_bin=$PWD/build/firmware/daemon/classcamd
ctl_bin=$PWD/build/firmware/ctl/classcamctl

work=$(mktemp -d /tmp/classcam-live-bench.XXXXXX)
ns=cclb$$ host_if=lb$$h inner_if=lb$$n
ip_host=10.249.77.1 ip_inner=10.249.77.2
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  ip link del "$host_if" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
}
trap cleanup EXIT
free_port() {
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 20000))
    ss -Htlun "sport = :$p" | grep -q . || { echo "$p"; return; }
  done
  return 1
}
wait_for() {  # wait_for SECONDS WHAT COMMAND...
  local t=$1 what=$2
  shift 2
  for _ in $(seq $((t * 10))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "bench/live.sh: gave up waiting for $what; logs in $work" >&2
  exit 1
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# Chromium gathers no loopback candidates and none without a default route: a namespace of our own.
ip netns add "$ns"
ip link add "$host_if" type veth peer name "$inner_if"
ip link set "$inner_if" netns "$ns"
ip addr add "$ip_host/30" dev "$host_if" && ip link set "$host_if" up
ip netns exec "$ns" sh -c "ip addr add $ip_inner/30 dev $inner_if && ip link set $inner_if up && ip link set lo up &&
  ip route add default via $ip_host"
measure() { ip netns exec "$ns" node bench/live/measure.mjs "$1"; }

echo "== baseline: bare webrtcbin (x264 zerolatency veryfast High, ${width}x${height}@30, $kbps kb/s) -> Chromium"
port=$(free_port)
build/bench/bench_live_baseline --listen "$ip_host:$port" --page bench/live/baseline.html --width $width \
  --height $height --kbps $kbps --profile high >"$work/baseline.log" 2>&1 &
pids+=($!)
wait_for 20 "the baseline sender" bash -c "ss -Htln 'sport = :$port' | grep -q ."
baseline=$(measure "{\"url\":\"http://$ip_host:$port/\",\"frames\":$frames}")
echo "baseline $baseline"
kill -TERM "${pids[-1]}" && wait "${pids[-1]}" 2>/dev/null || true
unset 'pids[-1]'

echo "== through classcam: classcamd -> classcam-hub -> the hub's live page in Chromium"
hub_port=$(free_port)
broker_port=$(free_port)
hub_url=https://$ip_host:$hub_port
cat >"$work/hub.toml" <<TOML
[hub]
state_dir = "$work/hub"
public_url = "$hub_url"
[http]
listen = "$ip_host"
port = $hub_port
[broker]
manage = true
listen = "127.0.0.1"
port = $broker_port
public_host = "127.0.0.1"
host = "127.0.0.1"
[live]
ice_addresses = ["$ip_host"]
TOML
hub() { $hub_bin --config "$work/hub.toml" "$@"; }
$hub_bin --config "$work/hub.toml" >"$work/hub.log" 2>&1 &
pids+=($!)
wait_for 30 "the hub" grep -q "serving https" "$work/hub.log"
wait_for 20 "the broker" bash -c "ss -Htln 'sport = :$broker_port' | grep -q ."
ca=$work/hub/tls/ca.pem
teacher_password=$(hub user add --login khan --role teacher --name "Ms Khan" | sed -n 's/^password: //p')
hub user add --login sam --role technician --name Sam >/dev/null
hub room add --name "Room 12" --default-teacher khan >/dev/null
hub unit add --name "Room 12 camera" --room "Room 12" --id room-12 >/dev/null
tech_token=$(hub token create --login sam --name bench | head -1)
code=$(curl -sS --fail --cacert "$ca" -X POST -H "Authorization: Bearer $tech_token" -H "Content-Type: application/json" \
  --data '{}' "$hub_url/api/v1/units/room-12/pairing-code" | jq -r .code)
mkdir -p "$work/unit"
cat >"$work/unit/classcamd.toml" <<TOML
[unit]
state_dir = "$work/unit/state"
[video]
source = "test"
width = $width
height = $height
latency_strip = true
[audio]
source = "test"
[encoder]
bitrate_kbps = $kbps
[spool]
dir = "$work/unit/spool"
[control]
socket = "$work/unit/classcamd.sock"
TOML
ctl() { $ctl_bin --config "$work/unit/classcamd.toml" "$@"; }
$daemon_bin --config "$work/unit/classcamd.toml" >"$work/unit/classcamd.log" 2>&1 &
unit_pid=$!
pids+=($unit_pid)
wait_for 20 "classcamd" ctl status
ctl enroll --hub "$hub_url" --code "$code" >/dev/null
wait_for 30 "the unit online" bash -c "curl -s --cacert '$ca' -H 'Authorization: Bearer $tech_token' \
  '$hub_url/api/v1/units/room-12' | jq -e '.online == true'"

# The unit's CPU: recording alone, then recording with live to one viewer (the measuring run).
ctl start --title "bench" >/dev/null
sleep 5
hz=$(getconf CLK_TCK)
t0=$(cpu_ticks $unit_pid) s0=$(date +%s.%N)
sleep 20
t1=$(cpu_ticks $unit_pid) s1=$(date +%s.%N)
rec_only=$(awk -v a="$t0" -v b="$t1" -v x="$s0" -v y="$s1" -v hz="$hz" 'BEGIN {printf "%.1f", 100 * (b - a) / hz / (y - x)}')
measure "{\"url\":\"$hub_url/#/live/room-12\",\"frames\":$frames,\"timeout_s\":120,
  \"login\":{\"page\":\"$hub_url/#/login\",\"user\":\"khan\",\"password\":\"$teacher_password\"}}" >"$work/hub.json" &
measure_pid=$!
wait_for 60 "live to run" bash -c "$ctl_bin --config '$work/unit/classcamd.toml' --json status | jq -e '.state.streaming == true'"
sleep 3
t2=$(cpu_ticks $unit_pid) s2=$(date +%s.%N)
sleep 15
t3=$(cpu_ticks $unit_pid) s3=$(date +%s.%N)
with_live=$(awk -v a="$t2" -v b="$t3" -v x="$s2" -v y="$s3" -v hz="$hz" 'BEGIN {printf "%.1f", 100 * (b - a) / hz / (y - x)}')
wait "$measure_pid"
echo "through-hub $(cat "$work/hub.json")"
echo "unit-cpu recording alone ${rec_only} % of a core; recording + live to one viewer ${with_live} % of a core"
ctl stop >/dev/null || true
echo "(logs in $work)"
