#!/usr/bin/env bash
# Hub memory under bodies sent without a credential (issue 11, finding 3; prints figures, not run by
# scripts/test). BENCH_CONNECTIONS connections, none signed in, each announce and send a body of
# BENCH_BODY_BYTES to an API route that needs a credential (POST /api/v1/rooms), all at once. Printed:
# the hub's RSS before, its peak (VmHWM), and its RSS once they are all gone, with what the clients saw.
# The connections come from four loopback addresses (127.0.0.2-5), so the per-address connection cap
# (http.max_connections_per_address, 64) is not what refuses them.
# Environment: BENCH_CONNECTIONS (default 120), BENCH_BODY_BYTES (default 16777216), BENCH_HUB (a
# classcam-hub binary to measure, e.g. one built from an older commit; default: build this tree's).
set -euo pipefail
cd "$(dirname "$0")/.."

connections=${BENCH_CONNECTIONS:-120}
body_bytes=${BENCH_BODY_BYTES:-16777216}
hub_bin=${BENCH_HUB:-}
if [ -z "$hub_bin" ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build --target classcam-hub >/dev/null
  hub_bin=build/hub/app/classcam-hub
fi

work=$(mktemp -d /tmp/classcam-bench-body.XXXXXX)
hub_pid=""
cleanup() {
  # Only the process this script started, by its PID.
  [ -n "$hub_pid" ] && kill -TERM "$hub_pid" 2>/dev/null && wait "$hub_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss() { awk -v k="$2:" '$1 == k {print int($2 / 1024) " MB"}' "/proc/$1/status"; }

# No MQTT broker: this measures HTTPS only.
printf '[broker]\nenabled = false\n' >"$work/hub.toml"
port=$(free_port)
"$hub_bin" --config "$work/hub.toml" --state-dir "$work/state" --port "$port" >"$work/hub.log" 2>&1 &
hub_pid=$!
for _ in $(seq 100); do grep -q "serving https" "$work/hub.log" && break; sleep 0.1; done
grep -q "serving https" "$work/hub.log" || { cat "$work/hub.log"; exit 1; }
sleep 1

echo "== $hub_bin: $connections connections without a credential, each sending a $body_bytes-byte body"
echo "RSS before:        $(rss "$hub_pid" VmRSS)"
python3 - "$port" "$work/state/tls/ca.pem" "$connections" "$body_bytes" <<'EOF'
import collections, socket, ssl, sys, threading, time
port, ca, n, size = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
ctx = ssl.create_default_context(cafile=ca)
header = (f"POST /api/v1/rooms HTTP/1.1\r\nHost: localhost:{port}\r\nContent-Type: application/json\r\n"
          f"Content-Length: {size}\r\n\r\n").encode()
piece = b"x" * 65536
outcomes = collections.Counter()
sent_total = [0]
lock = threading.Lock()
start = threading.Barrier(n)

def one(i):
    sent = 0
    outcome = "?"
    try:
        raw = socket.create_connection(("127.0.0.1", port), timeout=120,
                                       source_address=(f"127.0.0.{2 + i % 4}", 0))
        tls = ctx.wrap_socket(raw, server_hostname="localhost")
        start.wait(timeout=120)
        tls.sendall(header)
        while sent < size:
            sent += tls.send(piece[:min(len(piece), size - sent)])
        answer = tls.recv(64).decode(errors="replace")
        outcome = "answered " + (answer.split(" ")[1] if answer.startswith("HTTP/") else "?") + " after the whole body"
    except (OSError, ssl.SSLError, threading.BrokenBarrierError) as e:
        outcome = "refused, connection closed while sending" if sent < size else f"error: {type(e).__name__}"
    with lock:
        outcomes[outcome] += 1
        sent_total[0] += sent

t0 = time.time()
threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
for t in threads: t.start()
for t in threads: t.join()
print(f"clients:           {dict(outcomes)}")
print(f"body bytes sent:   {sent_total[0] / 2**20:.0f} MiB in {time.time() - t0:.1f} s")
EOF
sleep 2
echo "RSS peak (VmHWM):  $(rss "$hub_pid" VmHWM)"
echo "RSS after:         $(rss "$hub_pid" VmRSS)"
