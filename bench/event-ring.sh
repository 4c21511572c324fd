#!/usr/bin/env bash
# What the event ring saves, and what it moves: `conntrack-bench read-events` alone in a
# namespace while ctbulk inserts N flows (batches of 1,000, as fast as the kernel takes
# them), reading the kernel's events from the socket or (--ring) through the event ring,
# alternately, RUNS times each. Per run: the reader's CPU per event (its thread's clock) and
# the inserter's (user + system time of ctbulk, in whose system calls the kernel builds
# each event and, with the ring, runs the filter program that copies it and frees it). A
# run whose reader missed events or saw an overrun, or whose inserter was refused a flow,
# is failed and kept. Raw results: bench/results/event-ring-<UTC>-<commit>.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
need_root bench/event-ring.sh
N=${N:-250000}
RUNS=${RUNS:-5}
LIMIT=${LIMIT:-120}
build_release conntrack-bench
CB=$SCRATCH/release/conntrack-bench
work=$(mktemp -d)
ns=tber-$$
pids=()
cleanup() {
  stop_pids
  ip netns del "$ns" 2>/dev/null || true
  restore_conntrack_max
  rm -rf "$work"
}
trap cleanup EXIT
raise_conntrack_max "$N"
build_ctbulk "$work/ctbulk"
ip netns add "$ns"
ip -n "$ns" link set lo up
results=$(results_file event-ring)
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1; }
failed=0
for run in $(seq 1 "$RUNS"); do
  for mode in socket ring; do
    ip netns exec "$ns" timeout "$LIMIT" "$CB" read-events --target "$N" --seconds "$LIMIT" $([ "$mode" = ring ] && echo --ring) \
      > "$work/reader" 2>&1 & pids+=($!)
    ready=0
    for _ in $(seq 1 100); do grep -q '^ready' "$work/reader" && { ready=1; break; }; sleep 0.1; done
    # The inserter's CPU: its children's rusage, as the shell's `time` would give it.
    inserted=$(ip netns exec "$ns" python3 -c '
import resource, subprocess, sys
out = subprocess.run(sys.argv[1:], capture_output=True, text=True).stdout.strip()
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(out + " producer_cpu_us=%d" % int((r.ru_utime + r.ru_stime) * 1e6))
' "$work/ctbulk" insert "$N" --batch 1000 --rate 0 --timeout "$LIMIT")
    wait "${pids[-1]}" || true
    unset 'pids[-1]'
    r=$(grep '^op=read-events' "$work/reader" || echo "op=read-events events=0 overruns=0 cpu_us=0")
    events=$(field "$r" events); overruns=$(field "$r" overruns); errs=$(field "$inserted" errs)
    from_ring=$(field "$r" from_ring); spills=$(field "$r" ring_spills)
    outcome=good
    if [ "$ready" = 0 ] || [ "${events:-0}" != "$N" ] || [ "${overruns:-1}" != 0 ] || [ "${errs:-1}" != 0 ]; then outcome=failed; failed=$((failed + 1)); fi
    # awk, not bc: bc writes .5 for 0.5, which is not JSON.
    reader_us=$(awk -v c="$(field "$r" cpu_us)" -v n="$N" 'BEGIN { printf "%.3f", (c + 0) / n }')
    producer_us=$(awk -v c="$(field "$inserted" producer_cpu_us)" -v n="$N" 'BEGIN { printf "%.3f", (c + 0) / n }')
    echo "{$(results_meta),\"run\":$run,\"n\":$N,\"reader\":\"$mode\",\"outcome\":\"$outcome\",\"events\":${events:-0},\"overruns\":${overruns:-0},\"insert_errs\":${errs:-0},\"from_ring\":${from_ring:-0},\"ring_spills\":${spills:-0},\"reader_cpu_us_per_event\":$reader_us,\"producer_cpu_us_per_event\":$producer_us,\"insert_secs\":$(field "$inserted" secs),\"load\":$(cut -d' ' -f1 /proc/loadavg)}" >> "$results"
    printf 'run %s %-6s %s reader %s µs/event, inserter %s µs/event, ring %s of %s (spills %s)\n' "$run" "$mode" "$outcome" "$reader_us" "$producer_us" "$(field "$r" from_ring)" "${events:-0}" "$(field "$r" ring_spills)"
    ip netns exec "$ns" "$work/ctbulk" flush > /dev/null
  done
done
for mode in socket ring; do
  for key in reader_cpu_us_per_event producer_cpu_us_per_event; do
    printf '%-6s %-28s %s\n' "$mode" "$key" "$(python3 -c '
import json, sys
v = [json.loads(l)[sys.argv[2]] for l in open(sys.argv[1]) if json.loads(l)["reader"] == sys.argv[3] and json.loads(l)["outcome"] == "good"]
v.sort()
print("%s (%s-%s), %d good runs" % (v[(len(v) - 1) // 2], v[0], v[-1], len(v)) if v else "-")
' "$results" "$key" "$mode")"
  done
done
echo "raw results: $results"
[ "$failed" = 0 ]
