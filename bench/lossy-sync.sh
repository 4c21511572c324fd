#!/usr/bin/env bash
# Replication through a lossy sync link: conntrackd 1.4.7 and `tandem conntrackd`, in one
# run on one machine. Three namespaces: A and B, whose FTFW sync link (UDP, the same
# conntrackd.conf for either implementation) runs through a relay namespace R between
# them (`conntrack-bench relay`, the lossy-relay tests' own LossyRelay: each datagram lost
# with LOSS %, held back behind 1-3 later ones with REORDER %, sent twice with DUPLICATE
# %, seeded per run so every pair of an iteration meets the same impairment). N flows are made in A's kernel at once and the
# clock runs until B's external cache holds all of them (`conntrack-bench watch`, a
# 10-ms sampler of both control sockets, the same for either implementation), or LIMIT.
#
#   N=100000 LOSSES="0 5 20" RUNS=3 LIMIT=90 PAIRS="conntrackd tandem mixed reverse" KEEP_LOGS=dir bench/lossy-sync.sh
#
# KEEP_LOGS=DIR keeps each run's daemon logs and both daemons' `-s` at the end of the run.
# PAIRS: conntrackd (both ends), tandem (both ends), mixed (conntrackd sends, Tandem
# receives), reverse (Tandem sends, conntrackd receives).
#
# Outcomes per run: complete (B holds every flow), sender-short (the sender's own cache
# missed kernel events, and B holds all it has), or incomplete (LIMIT passed first:
# "have" is what B held then). An incomplete run is the flows the pair lost on that
# link; a Tandem end (tandem, mixed, reverse) that leaves flows behind is a failed run, as
# is any run whose harness broke (a daemon or the relay gone, the insert failed). Failed
# runs are reported, never folded into a median, and make the script exit non-zero.
# conntrackd → conntrackd falling short is its measured loss, reported as such.
#
# Raw per-run results: bench/results/lossy-sync-*.jsonl. Namespaces are tdl-*; the
# daemons and the relay started here are stopped by PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
need_root bench/lossy-sync.sh
scripts/install-deps.sh
N=${N:-100000}
LOSSES=${LOSSES:-"0 5 20"}
RUNS=${RUNS:-3}
LIMIT=${LIMIT:-90}
REORDER=${REORDER:-10}
DUPLICATE=${DUPLICATE:-2}
PAIRS=${PAIRS:-"conntrackd tandem mixed reverse"}
SETTLE=${SETTLE:-4}
work=$(mktemp -d)
a="tdl-a-$$"; b="tdl-b-$$"; r="tdl-r-$$"
pids=()
cleanup() {
  stop_pids
  for ns in "$a" "$b" "$r"; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

build_release tandem conntrack-bench
T=${TANDEM:-$PWD/${SCRATCH}/release/tandem}
BENCH=$PWD/${SCRATCH}/release/conntrack-bench
# The replication bench's roomy profile: neither daemon drops a datagram or an event of
# its own, so what is lost is the link's doing.
SOCKET_BUFFER=24985600 HASH_SIZE=262144 NETLINK_BUFFER=67108864 NETLINK_GROWTH=67108864
ticks=1000000


field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
cpu() { cpu_us "$1"; }
json_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], "-"))' "$1" "$2" 2>/dev/null || echo -; }

# One run: sender's implementation, receiver's, loss %, seed. Prints a result line.
run() {
  local impl_a=$1 impl_b=$2 loss=$3 seed=$4 cli_a cli_b
  for ns in "$a" "$b" "$r"; do ip netns del "$ns" 2>/dev/null || true; done
  ip netns add "$a"; ip netns add "$b"; ip netns add "$r"
  ip link add tdla0 netns "$a" type veth peer name tdlra netns "$r"
  ip link add tdlb0 netns "$b" type veth peer name tdlrb netns "$r"
  ip -n "$a" addr add 172.31.96.1/24 dev tdla0; ip -n "$r" addr add 172.31.96.2/24 dev tdlra
  ip -n "$b" addr add 172.31.97.1/24 dev tdlb0; ip -n "$r" addr add 172.31.97.2/24 dev tdlrb
  for l in "$a tdla0" "$r tdlra" "$r tdlrb" "$b tdlb0"; do set -- $l; ip -n "$1" link set "$2" up; done
  for ns in "$a" "$b" "$r"; do ip -n "$ns" link set lo up; done
  ftfw_conf "$work" a 172.31.96.1 172.31.96.2 tdla0
  ftfw_conf "$work" b 172.31.97.1 172.31.97.2 tdlb0
  rm -f "$work/relay.json" "$work/relay.json.ready"
  "$BENCH" relay --namespace "$r" --listen-a 172.31.96.2 --peer-a 172.31.96.1 \
    --listen-b 172.31.97.2 --peer-b 172.31.97.1 --loss "$loss" --reorder "$REORDER" --duplicate "$DUPLICATE" \
    --seed "$seed" --seconds $((LIMIT + SETTLE + 60)) --counters "$work/relay.json" > "$work/relay.out" 2>&1 &
  local pr=$!; pids+=("$pr")
  for _ in $(seq 1 50); do [ -e "$work/relay.json.ready" ] && break; sleep 0.1; done
  if [ "$impl_a" = tandem ]; then cli_a="$T conntrackd"; else cli_a=conntrackd; fi
  if [ "$impl_b" = tandem ]; then cli_b="$T conntrackd"; else cli_b=conntrackd; fi
  ip netns exec "$a" $cli_a -C "$work/a.conf" > "$work/a.out" 2>&1 & local pa=$!; pids+=("$pa")
  ip netns exec "$b" $cli_b -C "$work/b.conf" > "$work/b.out" 2>&1 & local pb=$!; pids+=("$pb")
  # The pair settles first (Tandem's handshake needs the peer's 1-s alive tick).
  sleep "$SETTLE"
  local ca0 cb0 t0 harness=ok
  ca0=$(cpu "$pa"); cb0=$(cpu "$pb")
  t0=$(date +%s.%N)
  "$BENCH" watch --receiver "$work/b.ctl" --sender "$work/a.ctl" --target "$N" --since "$t0" --timeout "$LIMIT" > "$work/watch" &
  local pw=$!
  ip netns exec "$a" "$BENCH" insert "$N" --batch 1000 > /dev/null || harness=insert-failed
  wait "$pw" || true
  local w; w=$(cat "$work/watch")
  local ca1 cb1; ca1=$(cpu "$pa"); cb1=$(cpu "$pb")
  kill -0 "$pa" 2>/dev/null || harness=sender-died
  kill -0 "$pb" 2>/dev/null || harness=receiver-died
  kill -0 "$pr" 2>/dev/null || harness=relay-died
  if [ -n "${KEEP_LOGS:-}" ]; then
    local keep; keep="$KEEP_LOGS/$(pair_name "$impl_a" "$impl_b")-loss$loss-seed$seed"
    mkdir -p "$keep"
    ip netns exec "$a" $cli_a -C "$work/a.conf" -s > "$keep/a-stats.txt" 2>&1 || true
    ip netns exec "$b" $cli_b -C "$work/b.conf" -s > "$keep/b-stats.txt" 2>&1 || true
    cp "$work/a.log" "$work/b.log" "$keep/" 2>/dev/null || true
  fi
  stop_pids
  local outcome; outcome=$(field "$w" outcome)
  [ "$outcome" = limit ] && outcome=incomplete
  printf '%s loss=%s n=%s seed=%s have=%s sender_has=%s outcome=%s harness=%s secs=%s us_a=%.2f us_b=%.2f relay_received=%s relay_dropped=%s relay_reordered=%s relay_duplicated=%s relay_expired=%s\n' \
    "$(pair_name "$impl_a" "$impl_b")" "$loss" "$N" "$seed" "$(field "$w" have)" "$(field "$w" sender_has)" "${outcome:-none}" "$harness" \
    "$(field "$w" secs)" "$(echo "(${ca1:-0} - ${ca0:-0}) * 1000000 / $ticks / $N" | bc -l)" "$(echo "(${cb1:-0} - ${cb0:-0}) * 1000000 / $ticks / $N" | bc -l)" \
    "$(json_field "$work/relay.json" received)" "$(json_field "$work/relay.json" dropped)" "$(json_field "$work/relay.json" reordered)" \
    "$(json_field "$work/relay.json" duplicated)" "$(json_field "$work/relay.json" expired)"
}

pair_name() {
  case "$1/$2" in
    conntrackd/conntrackd) echo conntrackd;; tandem/tandem) echo tandem;;
    conntrackd/tandem) echo mixed;; tandem/conntrackd) echo reverse;;
  esac
}
ends() { # pair → "sender receiver"
  case "$1" in
    conntrackd) echo "conntrackd conntrackd";; tandem) echo "tandem tandem";;
    mixed) echo "conntrackd tandem";; reverse) echo "tandem conntrackd";;
    *) echo "unknown pair $1" >&2; exit 2;;
  esac
}

results=$(results_file lossy-sync)
settings="$(results_meta),\"limit_secs\":$LIMIT,\"settle_secs\":$SETTLE,\"reorder_pct\":$REORDER,\"duplicate_pct\":$DUPLICATE,\"runs\":$RUNS,\"pairs\":\"$PAIRS\",\"timing\":\"control-socket sampler, 10 ms\",\"relay\":\"conntrack-bench relay (TestSupport's LossyRelay)\""
record() {
  echo "$1" | awk -v settings="$settings" '{
    printf "{%s,\"pair\":\"%s\"", settings, $1
    for (i = 2; i <= NF; i++) { split($i, kv, "="); v = kv[2]; if (v ~ /^-?[0-9.]+$/) { if (v ~ /^\./) v = "0" v; printf ",\"%s\":%s", kv[1], v } else printf ",\"%s\":\"%s\"", kv[1], v }
    print "}" }' >> "$results"
}
# A run is failed when its harness broke, or when a Tandem end left flows behind.
failed_run() {
  [ "$(field "$1" harness)" = ok ] || return 0
  case "$(field "$1" outcome)" in
    complete) return 1;;
    sender-short) case "${1%% *}" in conntrackd|mixed) return 1;; *) return 0;; esac;;
    incomplete) [ "${1%% *}" = conntrackd ] && return 1 || return 0;;
    *) return 0;;
  esac
}
echo "N=$N LOSSES=\"$LOSSES\" RUNS=$RUNS LIMIT=$LIMIT REORDER=$REORDER DUPLICATE=$DUPLICATE PAIRS=\"$PAIRS\", $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
failed=0
summary=$work/summary
for loss in $LOSSES; do
  for i in $(seq 1 "$RUNS"); do
    seed=$((loss * 1000 + i))
    for pair in $PAIRS; do
      # shellcheck disable=SC2046
      line=$(run $(ends "$pair") "$loss" "$seed")
      echo "$line"; record "$line"; echo "$line" >> "$summary"
      if failed_run "$line"; then echo "  FAILED run: $line"; failed=$((failed + 1)); fi
    done
  done
done
echo "== per pair and loss: runs complete, and the seconds until B held every flow (median, min-max, complete runs only)"
for loss in $LOSSES; do
  for pair in $PAIRS; do
    rows=$(grep "^$pair loss=$loss " "$summary" || true)
    [ -n "$rows" ] || continue
    total=$(echo "$rows" | wc -l)
    done_rows=$(echo "$rows" | grep -E "outcome=(complete|sender-short) harness=ok" || true)
    complete=$(echo "$done_rows" | grep -c . || true)
    secs=$( [ -n "$done_rows" ] && echo "$done_rows" | tr ' ' '\n' | sed -n 's/^secs=//p' | summary_range || echo -)
    short=$(echo "$rows" | { grep "outcome=incomplete" || true; } | tr ' ' '\n' | sed -n 's/^have=//p' | tr '\n' ' ')
    echo "$pair loss=$loss%: $complete of $total complete, secs=$secs${short:+; incomplete runs held only: $short(of $N)}"
  done
done
echo "raw results: $results"
[ "$failed" = 0 ] || { echo "$failed run(s) failed" >&2; exit 1; }
