#!/usr/bin/env bash
# Metrics overhead (issue #19 item 2): does serving /metrics slow replication?
# A `tandem conntrackd` pair (FTFW over UDP on one veth, event mode, roomy buffers as in
# bench/conntrackd-replication.sh) replicates a burst of N flows made in A's kernel
# (conntrack-bench insert, batches of 1,000), in two conditions run alternately:
#   off:     no --metrics-listen;
#   scraped: --metrics-listen on both daemons, each scraped every SCRAPE_MS (100 ms) by a
#            python3 scraper in its namespace for the whole run.
# Timed as the replication bench times it: from the first insert until B's external cache
# holds N flows, read from outside by conntrack-bench's 10-ms sampler of B's control
# socket (the same in both conditions). Reported per run: that time, both daemons' CPU,
# and in the scraped condition the scrapes made and failed. Per iteration the ratio
# scraped / off; medians (min-max) over the good iterations. A run that hits LIMIT, or a
# scraped run with a failed scrape or none at all, is reported as failed, kept out of the
# summaries, and makes the script exit non-zero. Raw results: bench/results/metrics-overhead-*.jsonl.
# Namespaces tdz-ma-PID / tdz-mb-PID; every process started here is stopped by PID on exit.
# BIN: the directory holding release builds of tandem and conntrack-bench (default .build/release).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
need_root bench/metrics-overhead.sh
scripts/install-deps.sh
N=${N:-100000}
RUNS=${RUNS:-5}
SCRAPE_MS=${SCRAPE_MS:-100}
LIMIT=${LIMIT:-120}
SETTLE=${SETTLE:-4}
BIN=${BIN:-$PWD/.build/release}
work=$(mktemp -d)
a="tdz-ma-$$"; b="tdz-mb-$$"
pids=()
cleanup() {
  stop_pids
  ip netns del "$a" 2>/dev/null || true; ip netns del "$b" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
build_release tandem conntrack-bench
T=$BIN/tandem
B=$BIN/conntrack-bench
ticks=1000000

conf() { # name self peer dev
  SOCKET_BUFFER=24985600 HASH_SIZE=262144 NETLINK_BUFFER=67108864 NETLINK_GROWTH=67108864 ftfw_conf "$work" "$@"
}

# Scrapes URL every SCRAPE_MS until killed; on SIGTERM prints "scrapes=N failed=M".
cat > "$work/scraper.py" <<'PY'
import signal, sys, time, urllib.request
url, period = sys.argv[1], float(sys.argv[2]) / 1000
done = failed = 0
def report(*_):
    print("scrapes=%d failed=%d" % (done, failed), flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, report)
while True:
    start = time.monotonic()
    try:
        body = urllib.request.urlopen(url, timeout=2).read()
        if b"tandem_sync_messages_total" in body: done += 1
        else: failed += 1
    except Exception:
        failed += 1
    time.sleep(max(0.0, period - (time.monotonic() - start)))
PY

field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
cpu() { cpu_us "$1"; }
secs() { echo "scale=3; $1 / $ticks" | bc; }

veth_pair "$a" "$b" tdzma0 tdzmb0 10.233.98.1/24 10.233.98.2/24
conf a 10.233.98.1 10.233.98.2 tdzma0
conf b 10.233.98.2 10.233.98.1 tdzmb0

# One run in condition $1 (off|scraped): prints a result line.
run() {
  local cond=$1 extra=()
  ip netns exec "$a" conntrack -F >/dev/null 2>&1 || true
  ip netns exec "$b" conntrack -F >/dev/null 2>&1 || true
  rm -f "$work"/*.ctl "$work"/*.lock
  [ "$cond" = scraped ] && extra=(--metrics-listen 127.0.0.1:9633)
  ip netns exec "$a" "$T" conntrackd -C "$work/a.conf" "${extra[@]}" >"$work/a.out" 2>&1 & local pa=$!; pids+=("$pa")
  ip netns exec "$b" "$T" conntrackd -C "$work/b.conf" "${extra[@]}" >"$work/b.out" 2>&1 & local pb=$!; pids+=("$pb")
  sleep "$SETTLE"
  local sa="" sb=""
  if [ "$cond" = scraped ]; then
    ip netns exec "$a" python3 "$work/scraper.py" http://127.0.0.1:9633/metrics "$SCRAPE_MS" >"$work/scrape-a" 2>&1 & sa=$!; pids+=("$sa")
    ip netns exec "$b" python3 "$work/scraper.py" http://127.0.0.1:9633/metrics "$SCRAPE_MS" >"$work/scrape-b" 2>&1 & sb=$!; pids+=("$sb")
    sleep 1
  fi
  local ca0 cb0 t0
  ca0=$(cpu "$pa"); cb0=$(cpu "$pb")
  t0=$(date +%s.%N)
  "$B" watch --receiver "$work/b.ctl" --sender "$work/a.ctl" --target "$N" --since "$t0" --timeout "$LIMIT" > "$work/watch" &
  local pw=$!
  ip netns exec "$a" "$B" insert "$N" --batch 1000 >/dev/null
  wait "$pw" || true
  local w ca1 cb1 scrapes=0 failed_scrapes=0
  w=$(cat "$work/watch")
  ca1=$(cpu "$pa"); cb1=$(cpu "$pb")
  if [ "$cond" = scraped ]; then
    kill "$sa" "$sb"; wait "$sa" 2>/dev/null || true; wait "$sb" 2>/dev/null || true
    local f n m
    for f in "$work/scrape-a" "$work/scrape-b"; do
      n=$(sed -n 's/^scrapes=\([0-9]*\).*/\1/p' "$f" | head -1)
      m=$(sed -n 's/.*failed=\([0-9]*\).*/\1/p' "$f" | head -1)
      # A scraper that printed nothing did not finish cleanly: counted as a failed scrape.
      scrapes=$((scrapes + ${n:-0})); failed_scrapes=$((failed_scrapes + ${m:-1}))
    done
  fi
  stop_pids
  printf '%s n=%s have=%s outcome=%s secs=%s cpu_a=%s cpu_b=%s scrapes=%s failed_scrapes=%s\n' \
    "$cond" "$N" "$(field "$w" have)" "$(field "$w" outcome)" "$(field "$w" secs)" \
    "$(secs $((ca1 - ca0)))" "$(secs $((cb1 - cb0)))" "$scrapes" "$failed_scrapes"
}

results=$(results_file metrics-overhead)
settings="$(results_meta),\"runs\":$RUNS,\"scrape_ms\":$SCRAPE_MS,\"limit_secs\":$LIMIT,\"settle_secs\":$SETTLE,\"generator\":\"conntrack-bench insert, batch 1000\",\"timing\":\"control-socket sampler, 10 ms\",\"listeners\":\"none but the two daemons\""
record() {
  echo "$1" | awk -v settings="$settings" -v run="$2" '{
    printf "{%s,\"run\":%s,\"condition\":\"%s\"", settings, run, $1
    for (i = 2; i <= NF; i++) { split($i, kv, "="); v = kv[2]; if (v ~ /^-?[0-9.]+$/) { if (v ~ /^\./) v = "0" v; printf ",\"%s\":%s", kv[1], v } else printf ",\"%s\":\"%s\"", kv[1], v }
    print "}" }' >> "$results"
}
good() {
  [ "$(field "$1" outcome)" = complete ] || return 1
  if [ "${1%% *}" = scraped ]; then
    [ "$(field "$1" failed_scrapes)" = 0 ] && [ "$(field "$1" scrapes)" -gt 0 ] || return 1
  fi
}
ratio() { printf '%.3f' "$(echo "$1 / $2" | bc -l)"; }
echo "N=$N RUNS=$RUNS SCRAPE_MS=$SCRAPE_MS, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
failed=0
summary=$work/summary
: > "$summary"
for r in $(seq 1 "$RUNS"); do
  # Alternate which condition goes first, so a drift of the machine favours neither.
  if [ $((r % 2)) = 1 ]; then order="off scraped"; else order="scraped off"; fi
  declare -A row=()
  for cond in $order; do
    line=$(run "$cond"); echo "$line"; record "$line" "$r"; row[$cond]=$line
  done
  if good "${row[off]}" && good "${row[scraped]}"; then
    for m in secs cpu_a cpu_b; do
      echo "$m off=$(field "${row[off]}" "$m") scraped=$(field "${row[scraped]}" "$m") ratio=$(ratio "$(field "${row[scraped]}" "$m")" "$(field "${row[off]}" "$m")")" >> "$summary"
    done
  else
    for cond in off scraped; do good "${row[$cond]}" || { echo "  FAILED run: ${row[$cond]}"; failed=$((failed + 1)); }; done
  fi
  unset row
done
echo "== medians (min-max) over the good iterations of $RUNS; failed runs: $failed"
for m in secs cpu_a cpu_b; do
  printf '%s: off %s, scraped %s, ratio scraped/off %s\n' "$m" \
    "$(grep "^$m " "$summary" | tr ' ' '\n' | sed -n 's/^off=//p' | summary_range)" \
    "$(grep "^$m " "$summary" | tr ' ' '\n' | sed -n 's/^scraped=//p' | summary_range)" \
    "$(grep "^$m " "$summary" | tr ' ' '\n' | sed -n 's/^ratio=//p' | summary_range)"
done
echo "raw results: $results"
[ "$failed" = 0 ] || { echo "$failed run(s) failed" >&2; exit 1; }
