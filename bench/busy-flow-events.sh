#!/usr/bin/env bash
# What the sync stream knows of a flow's activity (issue #18 item 2, the external cache's
# "recently active first" order): does an established TCP flow that keeps carrying data
# produce conntrack events, i.e. sync UPDATEs whose arrival the backup could order by?
# Two namespaces (tcm-es-PID, tcm-ec-PID; 10.238.96.0/24), tracking on in the server's
# (an nft ct state rule); `conntrack -E` listens there while a client sends SECS seconds
# of 1,000-byte writes every 10 ms over one connection, then closes it. Everything is
# bounded by timeout and removed on exit. Raw results: the event lines and the counts in
# bench/results/busy-flow-events-<UTC>-<commit>.jsonl (+ .txt).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
need_root bench/busy-flow-events.sh
SECS=${SECS:-6}
s="tcm-es-$$"; c="tcm-ec-$$"
work=$(mktemp -d)
lp=""; sp=""
cleanup() {
  if [ -n "$lp" ]; then kill "$lp" 2>/dev/null || true; fi
  if [ -n "$sp" ]; then kill "$sp" 2>/dev/null || true; fi
  ip netns del "$s" 2>/dev/null || true; ip netns del "$c" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
veth_pair "$s" "$c" tcmes0 tcmec0 10.238.96.1/24 10.238.96.2/24
ip netns exec "$s" nft -f - <<'NFT'
table inet tcm {
  chain in {
    type filter hook input priority 0;
    ct state established,related accept
  }
}
NFT
ip netns exec "$s" timeout $((SECS + 15)) conntrack -E -o timestamp > "$work/events" 2>&1 & lp=$!
ip netns exec "$s" timeout $((SECS + 12)) python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.238.96.1", 5555)); s.listen(1)
c, _ = s.accept(); n = 0
while True:
    d = c.recv(65536)
    if not d: break
    n += len(d)
print(n)' > "$work/server" & sp=$!
for _ in $(seq 1 100); do ip netns exec "$s" ss -ltn | grep -q ":5555 " && break; sleep 0.1; done
writes=$(ip netns exec "$c" timeout $((SECS + 5)) python3 -c '
import socket, sys, time
s = socket.create_connection(("10.238.96.1", 5555)); t = time.time(); k = 0
while time.time() - t < float(sys.argv[1]):
    s.send(b"x" * 1000); k += 1; time.sleep(0.01)
s.close(); print(k)' "$SECS")
wait "$sp" || true; sp=""
sleep 1
kill "$lp" 2>/dev/null || true; wait "$lp" 2>/dev/null || true; lp=""
# Events between the one that made the flow ESTABLISHED and the first of its close.
between=$(awk '/ESTABLISHED/ {on = 1; next} /FIN_WAIT|CLOSE_WAIT|LAST_ACK|TIME_WAIT|DESTROY/ {on = 0} on && /tcp/ {k++} END {print k + 0}' "$work/events")
total=$(grep -c "tcp " "$work/events" || true)
results=$(results_file busy-flow-events)
cp "$work/events" "${results%.jsonl}.txt"
echo "{$(results_meta),\"secs\":$SECS,\"client_writes\":$writes,\"server_bytes\":$(cat "$work/server" 2>/dev/null || echo 0),\"events\":$total,\"events_while_established\":$between,\"loadavg_1m\":$(cut -d' ' -f1 /proc/loadavg)}" >> "$results"
cat "$work/events"
echo "client writes: $writes over $SECS s; events in all: $total; events while ESTABLISHED and busy: $between"
echo "raw results: $results"
