#!/usr/bin/env bash
# An idle FTFW pair: what two sync daemons cost each other when nothing changes. Per run,
# for each implementation (conntrackd 1.4.7, then `tandem conntrackd`): a pair on one veth
# with no flows, the same conntrackd.conf for both (bench/lib.sh's ftfw_conf), left SETTLE
# seconds (default 5) for its handshake; then for WINDOW seconds (default 10) the sync
# datagrams on the link, both directions (tcpdump in B's namespace), and each daemon's CPU
# (its process CPU clock, `cpu_us`). RUNS runs (default 5). A run whose daemon died, or
# whose capture saw nothing (an FTFW pair always sends its alive ticks), is reported as
# failed and the script exits non-zero. Raw results: bench/results/idle-pair-<UTC>-<commit>.jsonl.
# Namespaces tip-a-PID / tip-b-PID (10.238.98.0/24); every daemon is stopped by PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
need_root bench/idle-pair.sh
scripts/install-deps.sh
RUNS=${RUNS:-5}
SETTLE=${SETTLE:-5}
WINDOW=${WINDOW:-10}
work=$(mktemp -d)
a="tip-a-$$"; b="tip-b-$$"
pids=()
cleanup() {
  stop_pids
  ip netns del "$a" 2>/dev/null || true; ip netns del "$b" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
build_release tandem
T=${TANDEM:-$PWD/$SCRATCH/release/tandem}
SOCKET_BUFFER=1048576 HASH_SIZE=65536 NETLINK_BUFFER=2097152 NETLINK_GROWTH=8388608
results=$(results_file idle-pair)
failed=0

run() { # impl → one JSON object's fields
  local impl=$1 cli pa pb
  ip netns del "$a" 2>/dev/null || true; ip netns del "$b" 2>/dev/null || true
  veth_pair "$a" "$b" tipa0 tipb0 10.238.98.1/24 10.238.98.2/24
  ftfw_conf "$work" a 10.238.98.1 10.238.98.2 tipa0
  ftfw_conf "$work" b 10.238.98.2 10.238.98.1 tipb0
  rm -f "$work"/*.lock "$work"/*.ctl
  if [ "$impl" = tandem ]; then cli="$T conntrackd -C"; else cli="conntrackd -C"; fi
  ip netns exec "$a" $cli "$work/a.conf" > "$work/a.out" 2>&1 & pa=$!; pids+=("$pa")
  ip netns exec "$b" $cli "$work/b.conf" > "$work/b.out" 2>&1 & pb=$!; pids+=("$pb")
  sleep "$SETTLE"
  local ca0 cb0 ca1 cb1 n outcome=ok
  ca0=$(cpu_us "$pa"); cb0=$(cpu_us "$pb")
  n=$(ip netns exec "$b" timeout "$WINDOW" tcpdump -l -i tipb0 -nn udp port 3780 2>/dev/null | wc -l || true)
  ca1=$(cpu_us "$pa"); cb1=$(cpu_us "$pb")
  kill -0 "$pa" 2>/dev/null && kill -0 "$pb" 2>/dev/null || outcome=daemon-died
  [ "$n" -gt 0 ] || outcome=nothing-captured
  stop_pids
  printf '"impl":"%s","outcome":"%s","window_secs":%s,"datagrams":%s,"datagrams_per_sec":%.2f,"cpu_a_us":%s,"cpu_b_us":%s,"cpu_a_percent":%.3f,"cpu_b_percent":%.3f' \
    "$impl" "$outcome" "$WINDOW" "$n" "$(echo "$n / $WINDOW" | bc -l)" "$((ca1 - ca0))" "$((cb1 - cb0))" \
    "$(echo "($ca1 - $ca0) / ($WINDOW * 10000)" | bc -l)" "$(echo "($cb1 - $cb0) / ($WINDOW * 10000)" | bc -l)"
}

for r in $(seq 1 "$RUNS"); do
  for impl in conntrackd tandem; do
    fields=$(run "$impl")
    echo "run $r $fields"
    echo "{$(results_meta),\"run\":$r,\"settle_secs\":$SETTLE,$fields}" >> "$results"
    case "$fields" in *'"outcome":"ok"'*) ;; *) failed=$((failed + 1)) ;; esac
  done
done
echo "raw results: $results"
[ "$failed" = 0 ] || { echo "$failed run(s) failed" >&2; exit 1; }
