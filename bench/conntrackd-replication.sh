#!/usr/bin/env bash
# Replication benchmark: conntrackd 1.4.7 against `tandem conntrackd`, in one run on one
# machine. For each pair of implementations and each kernel-facing mode (event, PollSecs),
# two namespaces joined by a veth sync link run a pair of daemons from the same
# conntrackd.conf (FTFW over UDP); N flows are created in A's kernel in batches and the
# clock runs until B's external cache holds all of them (read from outside by a 10-ms
# sampler of both daemons' control sockets, the same for either implementation). Reported
# per run: that time, CPU seconds of each daemon during it, each daemon's peak RSS, B's
# sync-socket drops, and (poll mode) A's CPU while idle with the N flows in its table.
# Ratios are taken per run against conntrackd → conntrackd of the same iteration, then
# summarised as median (min-max). A run that hits LIMIT is reported as failed, kept out of
# every summary, and makes the script exit non-zero. Raw per-run results go to
# bench/results/replication-*.jsonl (`bench/report` turns them into docs/benchmarks.md).
# NS lists flow counts (e.g. NS="100000 250000"); RUNS iterations each; PAIRS=mixed adds
# conntrackd → Tandem. Per-flow figures: CPU µs per flow, and RSS bytes per flow =
# (peak RSS − RSS before the flows) / N.
#
# Namespaces are tdb-*; every daemon started here is stopped by PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
need_root bench/conntrackd-replication.sh
scripts/install-deps.sh
N=${N:-50000}
NS=${NS:-$N}
RUNS=${RUNS:-5}           # published figures need 5 or more
POLL_SECS=${POLL_SECS:-5}
LIMIT=${LIMIT:-150}          # seconds per run before giving up
IDLE=${IDLE:-5}              # seconds of idle CPU measured in poll mode
MODES=${MODES:-"event poll"}
work=$(mktemp -d)
a="tdb-a-$$"; b="tdb-b-$$"
pids=()
cleanup() {
  stop_pids
  ip netns del "$a" 2>/dev/null || true; ip netns del "$b" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

build_release tandem conntrack-bench
T=${TANDEM:-$PWD/.build/release/tandem}
B=$PWD/.build/release/conntrack-bench
# GENERATOR=ctbulk: the C yardstick makes the flows (../shared/bench/ctbulk.c, built here).
if [ "${GENERATOR:-bench}" = ctbulk ]; then
  CTBULK=$work/ctbulk
  build_ctbulk "$CTBULK"
fi
# CPU time in microseconds from the process's CPU clock (`cpu_us`, bench/lib.sh):
# /proc/PID/stat counts in 10-ms ticks, which at 100k flows is 0.1 µs per flow of rounding alone.
ticks=1000000

# PROFILE=seed: the seed's own buffer and hash sizes (seed-howto.txt's General and UDP
# blocks), with HashLimit raised so that either daemon can hold N flows. The default
# profile gives both daemons room enough that neither drops a datagram.
if [ "${PROFILE:-roomy}" = seed ]; then
  SOCKET_BUFFER=1249280 HASH_SIZE=32768 NETLINK_BUFFER=2097152 NETLINK_GROWTH=8388608
  seed_extra="NetlinkOverrunResync 5
    NetlinkEventsReliable on
    EventIterationLimit 200"
else
  # NetlinkBufferSize equal to its ceiling: conntrackd starts there too, as Tandem always
  # does, so the two are compared on the same event buffer.
  SOCKET_BUFFER=24985600 HASH_SIZE=262144 NETLINK_BUFFER=67108864 NETLINK_GROWTH=67108864 seed_extra=""
fi

conf() { # name self peer dev mode
  local poll=""
  [ "$5" = poll ] && poll="PollSecs $POLL_SECS"
  ftfw_conf "$work" "$1" "$2" "$3" "$4" "$seed_extra
    $poll"
}

field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
cpu() { cpu_us "$1"; }
hwm() { awk '/VmHWM/{print $2}' "/proc/$1/status"; }
rss() { awk '/VmRSS/{print $2}' "/proc/$1/status"; }
secs() { echo "scale=3; $1 / $ticks" | bc; }

# One run: sender A's implementation, receiver B's (conntrackd|tandem), mode (event|poll).
# Prints a result line. The run ends when B's external cache holds N flows, or, when A's
# own internal cache stopped short of N (conntrackd 1.4.7 sometimes misses kernel events in
# a burst: the sender's loss, reported as sender_has), when B holds all that A holds and A
# has not changed for 3 s. drops_b is what the kernel dropped on B's sync socket.
run() {
  local impl=$1 impl_b=$2 mode=$3 cli cli_b
  ip netns del "$a" 2>/dev/null || true; ip netns del "$b" 2>/dev/null || true
  veth_pair "$a" "$b" tdba0 tdbb0 172.31.98.1/24 172.31.98.2/24
  conf a 172.31.98.1 172.31.98.2 tdba0 "$mode"
  conf b 172.31.98.2 172.31.98.1 tdbb0 "$mode"
  if [ "$impl" = tandem ]; then cli="$T conntrackd"; else cli=conntrackd; fi
  if [ "$impl_b" = tandem ]; then cli_b="$T conntrackd"; else cli_b=conntrackd; fi
  ip netns exec "$a" $cli -C "$work/a.conf" >"$work/a.out" 2>&1 & local pa=$!; pids+=("$pa")
  ip netns exec "$b" $cli_b -C "$work/b.conf" >"$work/b.out" 2>&1 & local pb=$!; pids+=("$pb")
  # The pair settles first: a firewall's burst meets daemons that have been up for a
  # while. (Tandem holds state after its HELLO handshake until the peer acknowledges
  # its first plain message, which a peer does on its 1-s alive tick: a burst within
  # ~2 s of start-up would measure that hand-shake, not replication.)
  sleep "${SETTLE:-4}"
  # The kernel's drop count for B's sync socket (port 3780 = 0x0EBC), /proc/net/udp's last column.
  drops() { ip netns exec "$b" awk '$2 ~ /:0EBC$/ {d += $NF} END {print d + 0}' /proc/net/udp; }
  local ca0 cb0 t0 t1 base_a base_b
  base_a=$(rss "$pa"); base_b=$(rss "$pb")
  ca0=$(cpu "$pa"); cb0=$(cpu "$pb")
  t0=$(date +%s.%N)
  # The clock is read from outside, the same way for both implementations: a sampler
  # asks B's control socket for its external cache every 10 ms (and A's for its internal
  # cache every 100 ms) while the flows are made; see `conntrack-bench watch`.
  "$B" watch --receiver "$work/b.ctl" --sender "$work/a.ctl" --target "$N" --since "$t0" --timeout "$LIMIT" > "$work/watch" &
  local pw=$!
  if [ "${GENERATOR:-bench}" = ctbulk ]; then
    ip netns exec "$a" "$CTBULK" insert "$N" --batch 1000 >/dev/null
  else
    ip netns exec "$a" "$B" insert "$N" --batch 1000 >/dev/null
  fi
  wait "$pw"
  local w have sender outcome
  w=$(cat "$work/watch")
  have=$(field "$w" have); sender=$(field "$w" sender_has); outcome=$(field "$w" outcome)
  t1=$(echo "$t0 + $(field "$w" secs)" | bc)
  local drops_b; drops_b=$(drops)
  local ca1 cb1 idle=""
  ca1=$(cpu "$pa"); cb1=$(cpu "$pb")
  if [ "$mode" = poll ]; then
    local i0; i0=$(cpu "$pa"); sleep "$IDLE"; idle=$(echo "scale=3; ($(cpu "$pa") - $i0) / $ticks / $IDLE * 100" | bc)
  fi
  local rss_a rss_b; rss_a=$(hwm "$pa"); rss_b=$(hwm "$pb")
  stop_pids
  printf '%s %s n=%s have=%s sender_has=%s outcome=%s drops_b=%s secs=%.3f cpu_a=%s cpu_b=%s rss_a_kib=%s rss_b_kib=%s idle_cpu_pct=%s us_a=%.2f us_b=%.2f bpf_a=%d bpf_b=%d\n' \
    "$(pair_name "$impl" "$impl_b")" "$mode" "$N" "$have" "$sender" "$outcome" "$drops_b" "$(echo "$t1 - $t0" | bc)" "$(secs $((ca1 - ca0)))" "$(secs $((cb1 - cb0)))" \
    "$rss_a" "$rss_b" "${idle:--}" \
    "$(echo "($ca1 - $ca0) * 1000000 / $ticks / $N" | bc -l)" "$(echo "($cb1 - $cb0) * 1000000 / $ticks / $N" | bc -l)" \
    "$(( (rss_a - base_a) * 1024 / N ))" "$(( (rss_b - base_b) * 1024 / N ))"
}

ratio() { if [ "$1" = - ] || [ "$2" = - ] || [ -z "$1" ] || [ -z "$2" ]; then echo "-"; elif [ "$(echo "$2 > 0" | bc)" = 1 ]; then printf '%.2f' "$(echo "$1 / $2" | bc -l)"; else echo "-"; fi; }
# Row names: conntrackd (both ends), tandem (both ends), mixed (conntrackd sends, Tandem receives).
pair_name() { if [ "$1" = "$2" ]; then echo "$1"; else echo mixed; fi; }
metrics="secs cpu_a cpu_b rss_a_kib rss_b_kib us_a us_b bpf_a bpf_b idle_cpu_pct drops_b"
summary=$work/summary
failed=0
# PAIRS: which rows run. "same" = conntrackd→conntrackd and tandem→tandem (the default);
# "mixed" adds conntrackd → tandem, compared with conntrackd → conntrackd of the same run.
PAIRS=${PAIRS:-same}
# Raw per-run results, one JSON object per run, with what the run was measured on.
results=$(results_file replication)
settings="$(results_meta),\"profile\":\"${PROFILE:-roomy}\",\"generator\":\"${GENERATOR:-bench}\",\"poll_secs\":$POLL_SECS,\"limit_secs\":$LIMIT,\"settle_secs\":${SETTLE:-4},\"socket_buffer\":$SOCKET_BUFFER,\"netlink_buffer\":$NETLINK_BUFFER,\"netlink_growth\":$NETLINK_GROWTH,\"timing\":\"control-socket sampler, 10 ms\",\"runs\":$RUNS,\"pairs\":\"${PAIRS:-same}\",\"modes\":\"$MODES\",\"idle_secs\":$IDLE"
record() { # one result line → one JSON object
  echo "$1" | awk -v settings="$settings" '{
    printf "{%s,\"pair\":\"%s\",\"mode\":\"%s\"", settings, $1, $2
    for (i = 3; i <= NF; i++) { split($i, kv, "="); v = kv[2]; if (v ~ /^-?[0-9.]+$/) { if (v ~ /^\./) v = "0" v; printf ",\"%s\":%s", kv[1], v } else printf ",\"%s\":\"%s\"", kv[1], v }
    print "}" }' >> "$results"
}
echo "NS=$NS RUNS=$RUNS PollSecs=$POLL_SECS PROFILE=${PROFILE:-roomy} PAIRS=$PAIRS GENERATOR=${GENERATOR:-bench}, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
# A run is good when B ends up holding every flow A holds; a run that hit LIMIT is
# reported as failed and kept out of the summaries.
# sender-short is the reference's own loss (conntrackd 1.4.7 missing kernel events); a
# Tandem sender that stops short has lost flows, and its run is a failed one.
good() {
  case "$(field "$1" outcome)" in
    complete) return 0;;
    sender-short) case "${1%% *}" in conntrackd|mixed) return 0;; *) return 1;; esac;;
    *) return 1;;
  esac
}
for N in $NS; do
for mode in $MODES; do
for r in $(seq 1 "$RUNS"); do
  rows=()
  c=$(run conntrackd conntrackd "$mode"); echo "$c"; rows+=("$c")
  if [ "$PAIRS" != mixed-only ]; then t=$(run tandem tandem "$mode"); echo "$t"; rows+=("$t"); else t=""; fi
  if [ "$PAIRS" = mixed ] || [ "$PAIRS" = mixed-only ]; then x=$(run conntrackd tandem "$mode"); echo "$x"; rows+=("$x"); else x=""; fi
  bad=0
  for row in "${rows[@]}"; do record "$row"; done
  for row in "${rows[@]}"; do good "$row" || { echo "  FAILED run: $row"; failed=$((failed + 1)); bad=1; }; done
  [ "$bad" = 0 ] || continue
  for row in "${rows[@]}"; do echo "$row" >> "$summary.raw"; done
  for pair in tandem mixed; do
    [ "$pair" = tandem ] && o=$t || o=$x
    [ -n "$o" ] || continue
    line="$pair $mode $N"
    for m in $metrics; do line="$line $m=$(ratio "$(field "$o" "$m")" "$(field "$c" "$m")")"; done
    echo "  ratios $pair/conntrackd: $line"; echo "$line" >> "$summary"
  done
done
done
done
echo "== medians (min-max) over the good runs of $RUNS; failed runs: $failed"
for N in $NS; do
  for mode in $MODES; do
    for impl in conntrackd tandem mixed; do
      grep -q "^$impl $mode n=$N " "$summary.raw" 2>/dev/null || continue
      out="$impl $mode n=$N:"
      for m in $metrics; do
        out="$out $m=$(grep "^$impl $mode n=$N " "$summary.raw" | tr ' ' '\n' | sed -n "s/^$m=//p" | summary_range)"
      done
      echo "$out"
    done
    for pair in tandem mixed; do
      grep -q "^$pair $mode $N " "$summary" 2>/dev/null || continue
      out="ratio $pair/conntrackd $mode n=$N:"
      for m in $metrics; do
        out="$out $m=$(grep "^$pair $mode $N " "$summary" | tr ' ' '\n' | sed -n "s/^$m=//p" | summary_range)"
      done
      echo "$out"
    done
  done
done
echo "raw results: $results"
[ "$failed" = 0 ] || { echo "$failed run(s) failed" >&2; exit 1; }
