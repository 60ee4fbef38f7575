#!/usr/bin/env bash
# Hub benchmark (prints figures; not run by scripts/test):
#   1. download throughput of a joined recording from classcam-hub, against nginx serving the same file
#      with the same certificate over TLS on loopback, in the same run (curl, 1 stream and 4 streams);
#   2. API request latency (wrk: p50/p99 and requests/s) for GET /api/v1/recordings/{id}, alone and
#      while 4 units upload segments with tus at the same time.
# Environment: BENCH_VIDEO_SECONDS (default 40), BENCH_WRK_SECONDS (default 15), BENCH_RUNS (default 7).
set -euo pipefail
cd "$(dirname "$0")/.."

video_seconds=${BENCH_VIDEO_SECONDS:-40}
wrk_seconds=${BENCH_WRK_SECONDS:-15}
runs=${BENCH_RUNS:-7}

scripts/deps bench
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target classcam-hub bench_hub >/dev/null

work=$(mktemp -d /tmp/classcam-bench-hub.XXXXXX)
hub_pid=""
nginx_pid=""
cleanup() {
  # Only the processes this script started, by their PIDs.
  [ -n "$hub_pid" ] && kill -TERM "$hub_pid" 2>/dev/null && wait "$hub_pid" 2>/dev/null || true
  [ -n "$nginx_pid" ] && kill -TERM "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# No MQTT broker: the benchmark measures HTTPS, and the default broker would listen on 0.0.0.0:8883.
printf '[broker]\nenabled = false\n' >"$work/hub.toml"
hub="build/hub/app/classcam-hub --config $work/hub.toml --state-dir $work/state"
port=$(free_port)
$hub --port "$port" >"$work/hub.log" 2>&1 &
hub_pid=$!
for _ in $(seq 100); do grep -q "serving https" "$work/hub.log" && break; sleep 0.1; done
grep -q "serving https" "$work/hub.log" || { cat "$work/hub.log"; exit 1; }
ca=$work/state/tls/ca.pem

$hub user add --login teacher --role teacher >/dev/null
$hub room add --name Bench --default-teacher teacher >/dev/null
unit_token=$($hub unit add --name "bench camera" --room Bench --id bench-unit | sed -n 's/^token: //p')
token=$($hub token create --login teacher)

echo "== load average before: $(cut -d' ' -f1-3 /proc/loadavg) (other work on this machine skews every figure)"
echo "== preparing a real recording: ${video_seconds} s of 1280x720 noise at 20 Mbit/s, uploaded with tus, joined"
build/bench/bench_hub prepare --port "$port" --ca "$ca" --token "$unit_token" --unit bench-unit \
  --session bench-rec --seconds "$video_seconds" --dir "$work/segments"
api="https://127.0.0.1:$port/api/v1"
auth=(-H "Authorization: Bearer $token")
id=""
for _ in $(seq 600); do
  json=$(curl -sS --cacert "$ca" "${auth[@]}" "$api/recordings")
  state=$(python3 -c 'import json,sys; r=json.load(sys.stdin)["recordings"]; print(r[0]["state"] if r else "")' <<<"$json")
  if [ "$state" = ready ]; then
    id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["recordings"][0]["id"])' <<<"$json")
    break
  fi
  sleep 0.2
done
[ -n "$id" ] || { echo "the recording was not joined"; tail -20 "$work/hub.log"; exit 1; }
joined=$work/state/media/recordings/$id/recording.mp4
size=$(stat -c %s "$joined")
echo "joined recording: $size bytes"

# nginx with the hub's own certificate, serving a copy of the same file.
mkdir -p "$work/www" "$work/nginx/logs"
cp "$joined" "$work/www/recording.mp4"
nport=$(free_port)
nport2=$(free_port)
cat >"$work/nginx/nginx.conf" <<CONF
user root;
worker_processes 2;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body; proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi; uwsgi_temp_path $work/nginx/uwsgi; scgi_temp_path $work/nginx/scgi;
  ssl_certificate $work/state/tls/server.pem;
  ssl_certificate_key $work/state/tls/server.key;
  ssl_protocols TLSv1.2 TLSv1.3;
  # Debian's nginx as shipped (sendfile cannot be used under TLS without kernel TLS) ...
  server { listen 127.0.0.1:$nport ssl; root $work/www; }
  # ... and with larger output buffers, nginx's own knob for this case.
  server { listen 127.0.0.1:$nport2 ssl; root $work/www; output_buffers 4 256k; }
}
CONF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' &
nginx_pid=$!
for _ in $(seq 50); do curl -s --cacert "$ca" -o /dev/null "https://localhost:$nport/recording.mp4" && break; sleep 0.1; done

hub_url="https://localhost:$port/api/v1/recordings/$id/media"
nginx_url="https://localhost:$nport/recording.mp4"
nginx2_url="https://localhost:$nport2/recording.mp4"
one_stream() {  # MB/s of one download
  curl -sS --cacert "$ca" "$@" -o /dev/null -w '%{speed_download}\n' | awk '{printf "%.1f\n", $1/1e6}'
}
four_streams() {  # MB/s of four parallel downloads
  local start end
  start=$(date +%s.%N)
  for _ in 1 2 3 4; do curl -sS --cacert "$ca" "$@" -o /dev/null & done
  wait
  end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" -v b="$size" 'BEGIN {printf "%.1f\n", 4*b/(e-s)/1e6}'
}
echo "== download throughput (median of $runs, MB/s; hub and nginx alternate, so both see the same load)"
: >"$work/t1"; : >"$work/t4"
for _ in $(seq "$runs"); do
  echo "$(one_stream "${auth[@]}" "$hub_url") $(one_stream "$nginx_url") $(one_stream "$nginx2_url")" >>"$work/t1"
  echo "$(four_streams "${auth[@]}" "$hub_url") $(four_streams "$nginx_url") $(four_streams "$nginx2_url")" >>"$work/t4"
done
col() { awk -v c="$1" '{print $c}' "$2" | median; }
hub1=$(col 1 "$work/t1"); ngx1=$(col 2 "$work/t1"); ngxb1=$(col 3 "$work/t1")
hub4=$(col 1 "$work/t4"); ngx4=$(col 2 "$work/t4"); ngxb4=$(col 3 "$work/t4")

# Byte-identical: the hub serves exactly the file nginx serves.
curl -sS --cacert "$ca" "${auth[@]}" -o "$work/from-hub.mp4" "$hub_url"
cmp -s "$work/from-hub.mp4" "$work/www/recording.mp4" || { echo "the hub's bytes differ from the file"; exit 1; }

latency() {  # wrk: prints "p50 p99 req/s"
  wrk -t2 -c16 -d"${wrk_seconds}s" --latency -H "Authorization: Bearer $token" "$api/recordings/$id" |
    awk '/^ +50%/ {p50=$2} /^ +99%/ {p99=$2} /^Requests\/sec/ {rps=$2} END {print p50, p99, rps}'
}
echo "== API latency: GET /api/v1/recordings/{id}, wrk -t2 -c16 -d${wrk_seconds}s"
read -r idle_p50 idle_p99 idle_rps < <(latency)
build/bench/bench_hub uploads --port "$port" --ca "$ca" --token "$unit_token" --unit bench-unit \
  --clients 4 --seconds $((wrk_seconds + 4)) --size 2000000 >"$work/uploads.txt" 2>&1 &
uploads_pid=$!
sleep 2
read -r busy_p50 busy_p99 busy_rps < <(latency)
wait "$uploads_pid" || { cat "$work/uploads.txt"; exit 1; }

echo
echo "classcam-hub benchmark, $(nproc) cores, $(date -u +%Y-%m-%d), load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-52s %10s %10s %14s\n' "joined recording ($size bytes) over TLS, MB/s" "hub" "nginx" "nginx 4x256k"
printf '%-52s %10s %10s %14s\n' "  1 stream (curl)" "$hub1" "$ngx1" "$ngxb1"
printf '%-52s %10s %10s %14s\n' "  4 streams (curl)" "$hub4" "$ngx4" "$ngxb4"
printf '%-52s %10s %10s %10s\n' "GET /api/v1/recordings/{id} (wrk -t2 -c16)" "p50" "p99" "req/s"
printf '%-52s %10s %10s %10s\n' "  alone" "$idle_p50" "$idle_p99" "$idle_rps"
printf '%-52s %10s %10s %10s\n' "  with 4 units uploading 2 MB segments (tus)" "$busy_p50" "$busy_p99" "$busy_rps"
echo "  $(cat "$work/uploads.txt")"
