#!/usr/bin/env bash
# What `--sync-key` costs: `tandem conntrackd` → `tandem conntrackd` replicating N flows
# (FTFW over UDP on a veth link between two namespaces), with the key and without it,
# alternating in one run (off, on, off, on, …; RUNS of each). Per run: the time until B's
# external cache holds N flows (read from outside by `conntrack-bench watch`, 10-ms
# sampler), and the CPU time of each daemon during it from /proc/PID/stat (utime+stime,
# clock ticks) and from the process's CPU clock (`cpu_us`, bench/lib.sh; µs), per flow.
# Summary: medians (min-max) per setting, the key-on/key-off ratio of the medians, and the
# on/off ratio taken per run (the off and on runs of one iteration) as median (min-max).
# Target (issue #15): authentication costs at most 15% CPU on each side.
# A run that does not complete is reported as failed, kept out of the summary, and makes
# the script exit non-zero. Raw per-run results: bench/results/sync-auth-<UTC>-<commit>.jsonl.
#
#   N=100000 RUNS=5 bench/sync-auth.sh
#
# Per run the load average before it is recorded (load1/load5): the machine may be shared.
# PIN=1 gives the receiver a core of its own (taskset: B on the last CPU, A and the inserter
# on the others), so its batching does not follow where the scheduler happened to put it;
# recorded as "pinned" in every result line. PROFILE_RECEIVER=DIR keeps a `perf record -g`
# of B per run there (B-key-on-RUN.perf…); sampling costs B a little, so such a run's
# figures are for finding where the time goes, not for publishing.
# Namespaces are $NS_PREFIX-bench-* (NS_PREFIX defaults to tqa; a session running it beside
# others gives its own); subnet 10.99.200.0/24; daemons stopped by PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
need_root bench/sync-auth.sh
N=${N:-100000}
RUNS=${RUNS:-5}
LIMIT=${LIMIT:-120}
SETTLE=${SETTLE:-4}
work=$(mktemp -d)
NS_PREFIX=${NS_PREFIX:-tqa}
a="$NS_PREFIX-bench-a-$$"; b="$NS_PREFIX-bench-b-$$"
pids=()
cleanup() {
  stop_pids
  ip netns del "$a" 2>/dev/null || true; ip netns del "$b" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

build_release tandem conntrack-bench
T=${TANDEM:-$PWD/$SCRATCH/release/tandem}
B=$PWD/$SCRATCH/release/conntrack-bench
head -c 48 /dev/urandom | base64 > "$work/sync.key"
chmod 600 "$work/sync.key"

conf() { # name self peer dev
  SOCKET_BUFFER=24985600 HASH_SIZE=262144 NETLINK_BUFFER=67108864 NETLINK_GROWTH=67108864 ftfw_conf "$work" "$@"
}

PIN=${PIN:-}
pin_a=(); pin_b=()
if [ -n "$PIN" ]; then
  last=$(( $(nproc) - 1 ))
  [ "$last" -ge 1 ] || { echo "PIN=1 needs two CPUs" >&2; exit 2; }
  pin_a=(taskset -c "0-$((last - 1))"); pin_b=(taskset -c "$last")
fi
hz=$(getconf CLK_TCK)
stat_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
sched_ns() { echo $(( $(cpu_us "$1") * 1000 )); }
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# One run with the key (on) or without (off); prints "key=… outcome=… secs=… …".
run() {
  local key=$1 flags="" load
  load=$(cut -d' ' -f1,2 /proc/loadavg)
  [ "$key" = on ] && flags="--sync-key $work/sync.key"
  ip netns del "$a" 2>/dev/null || true; ip netns del "$b" 2>/dev/null || true
  veth_pair "$a" "$b" tqaba0 tqabb0 10.99.200.1/24 10.99.200.2/24
  conf a 10.99.200.1 10.99.200.2 tqaba0
  conf b 10.99.200.2 10.99.200.1 tqabb0
  rm -f "$work"/a.log "$work"/b.log
  # shellcheck disable=SC2086
  ip netns exec "$a" "${pin_a[@]}" "$T" conntrackd -C "$work/a.conf" $flags >"$work/a.out" 2>&1 & local pa=$!; pids+=("$pa")
  # shellcheck disable=SC2086
  ip netns exec "$b" "${pin_b[@]}" "$T" conntrackd -C "$work/b.conf" $flags >"$work/b.out" 2>&1 & local pb=$!; pids+=("$pb")
  sleep "$SETTLE"
  local ta0 tb0 sa0 sb0 t0
  ta0=$(stat_ticks "$pa"); tb0=$(stat_ticks "$pb"); sa0=$(sched_ns "$pa"); sb0=$(sched_ns "$pb")
  t0=$(date +%s.%N)
  "$B" watch --receiver "$work/b.ctl" --sender "$work/a.ctl" --target "$N" --since "$t0" --timeout "$LIMIT" > "$work/watch" &
  local pw=$!
  local profiler=""
  if [ -n "${PROFILE_RECEIVER:-}" ]; then
    mkdir -p "$PROFILE_RECEIVER"
    perf record -q -g -F 4000 -o "$PROFILE_RECEIVER/B-key-$key-$2.perf" -p "$pb" >/dev/null 2>&1 & profiler=$!
    sleep 0.5
  fi
  ip netns exec "$a" "${pin_a[@]}" "$B" insert "$N" --batch 1000 >/dev/null
  wait "$pw" || true
  if [ -n "$profiler" ]; then kill -INT "$profiler" 2>/dev/null || true; wait "$profiler" 2>/dev/null || true; fi
  local w; w=$(cat "$work/watch")
  local ta1 tb1 sa1 sb1
  ta1=$(stat_ticks "$pa"); tb1=$(stat_ticks "$pb"); sa1=$(sched_ns "$pa"); sb1=$(sched_ns "$pb")
  local refused="-"
  if [ "$key" = on ]; then
    refused=$(ip netns exec "$b" "$T" conntrackd -C "$work/b.conf" -s network | awk -F'\t' '/Not authenticated:|Malformed envelope:|Unknown version:|Unknown key:|Bad tag:|Replayed:/ {s += $NF} END {print s + 0}')
  fi
  stop_pids
  printf 'key=%s n=%s have=%s outcome=%s secs=%s cpu_a_s=%s cpu_b_s=%s us_a=%s us_b=%s sched_us_a=%s sched_us_b=%s refused_b=%s load1=%s load5=%s\n' \
    "$key" "$N" "$(field "$w" have)" "$(field "$w" outcome)" "$(field "$w" secs)" \
    "$(echo "scale=3; ($ta1 - $ta0) / $hz" | bc)" "$(echo "scale=3; ($tb1 - $tb0) / $hz" | bc)" \
    "$(echo "scale=3; ($ta1 - $ta0) * 1000000 / $hz / $N" | bc)" "$(echo "scale=3; ($tb1 - $tb0) * 1000000 / $hz / $N" | bc)" \
    "$(echo "scale=3; ($sa1 - $sa0) / 1000 / $N" | bc)" "$(echo "scale=3; ($sb1 - $sb0) / 1000 / $N" | bc)" "$refused" "${load% *}" "${load#* }"
}

results=$(results_file sync-auth)
settings="$(results_meta),\"bench\":\"sync-auth\",\"pinned\":$([ -n "$PIN" ] && echo true || echo false),$([ -n "${PROFILE_RECEIVER:-}" ] && echo '\"profiled\":\"receiver\",' || :)\"runs\":$RUNS,\"limit_secs\":$LIMIT,\"settle_secs\":$SETTLE,\"clock_ticks\":$hz"
record() {
  echo "$1" | awk -v settings="$settings" -v run="$2" '{
    printf "{%s,\"run\":%s", settings, run
    for (i = 1; i <= NF; i++) { split($i, kv, "="); v = kv[2]; if (v ~ /^-?[0-9.]+$/) { if (v ~ /^\./) v = "0" v; printf ",\"%s\":%s", kv[1], v } else printf ",\"%s\":\"%s\"", kv[1], v }
    print "}" }' >> "$results"
}
echo "N=$N RUNS=$RUNS, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
failed=0
lines=$work/lines
: > "$lines"
: > "$work/ratios"
for run in $(seq 1 "$RUNS"); do
  declare -A this=()
  for key in off on; do
    line=$(run "$key" "$run")
    record "$line" "$run"
    echo "run $run: $line"
    if [ "$(field "$line" outcome)" != complete ] || [ "$(field "$line" have)" != "$N" ]; then
      failed=$((failed + 1))
      echo "FAILED run $run key=$key: $(field "$line" outcome), B has $(field "$line" have) of $N" >&2
    else
      echo "$line" >> "$lines"
      this[$key]=$line
    fi
  done
  # Ratios per run: the on and off runs of one iteration, only when both were good.
  if [ -n "${this[off]:-}" ] && [ -n "${this[on]:-}" ]; then
    for m in secs sched_us_a sched_us_b; do
      o=$(field "${this[off]}" "$m"); n=$(field "${this[on]}" "$m")
      [ "$(echo "$o > 0" | bc)" = 1 ] && echo "$m $(echo "scale=4; $n / $o" | bc)" >> "$work/ratios"
    done
  fi
  unset this
done

median() { sort -g | awk '{v[NR]=$1} END {if (NR) print v[int((NR + 1) / 2)]; else print "-"}'; }
range() { sort -g | awk '{v[NR]=$1} END {if (NR) printf "%s (%s-%s)", v[int((NR + 1) / 2)], v[1], v[NR]; else print "-"}'; }
col() { grep "key=$1 " "$lines" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
echo
echo "Summary, medians (min-max) over good runs; results in $results"
printf '%-14s %-28s %-28s %s\n' metric "key off" "key on" "on/off (medians)"
for m in secs us_a us_b sched_us_a sched_us_b; do
  off=$(col off "$m" | median); on=$(col on "$m" | median)
  ratio="-"
  if [ "$off" != - ] && [ "$on" != - ] && [ "$(echo "$off > 0" | bc)" = 1 ]; then ratio=$(printf '%.3f' "$(echo "$on / $off" | bc -l)"); fi
  printf '%-14s %-28s %-28s %s\n' "$m" "$(col off "$m" | range)" "$(col on "$m" | range)" "$ratio"
done
echo "on/off per run, median (min-max): time $(awk '$1 == "secs" {print $2}' "$work/ratios" | summary_range)," \
  "sender CPU $(awk '$1 == "sched_us_a" {print $2}' "$work/ratios" | summary_range)," \
  "receiver CPU $(awk '$1 == "sched_us_b" {print $2}' "$work/ratios" | summary_range)"
echo "(us_*: CPU µs per flow from /proc/PID/stat utime+stime; sched_us_*: the same from the process's CPU clock, finer; a = sender, b = receiver)"
if [ -n "${PROFILE_RECEIVER:-}" ]; then
  # Authentication's own share of B's CPU, read inside each key-on run (so free of the
  # run-to-run spread): the samples under the frame check (`judge`, HMAC included) and
  # under sealing B's own acks, as a fraction of all of B's samples in that run.
  share_file=${results%.jsonl}-auth-share.txt
  echo "authentication's share of the receiver's samples, per key-on run (also in $share_file):"
  for f in "$PROFILE_RECEIVER"/B-key-on-*.perf; do
    perf report -i "$f" --children -g none --sort sym -n --stdio 2>/dev/null | awk -v f="$(basename "$f")" '
      $1 ~ /%$/ { total += $3 }
      /AuthenticatorV5judge|AuthenticatorV4seal5batch/ && $1 ~ /%$/ { share += substr($1, 1, length($1) - 1) }
      END { printf "  %s: %.1f%% of %s samples\n", f, share, total }' | tee -a "$share_file"
  done
fi
if [ "$failed" -gt 0 ]; then echo "$failed run(s) FAILED" >&2; exit 1; fi
