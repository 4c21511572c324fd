#!/usr/bin/env bash
# Benchmark of the ctnetlink paths: Tandem's batched API against the kernel ceiling measured
# by ../shared/bench/ctbulk (C, libmnl), `tandem conntrack -L` against `conntrack -L`, and
# `conntrack -I` in a loop (sampled). Release builds, a fresh namespace, no event listener
# anywhere (a listener slows every insert ~3x).
#
# Each iteration, per table size: ctbulk inserts N into an empty table, then Tandem does;
# with Tandem's N in the table both dump (ctbulk, then Tandem), both list (`conntrack -L`,
# then `tandem conntrack -L`, timed from outside), Tandem deletes them batched. Ratios are
# taken per iteration, then summarised as median (min-max). An operation that fails or
# leaves the table short makes its iteration a failed run: reported as failed, counted in no
# summary, and the script exits non-zero. Raw per-run results:
# bench/results/conntrack-*.jsonl (`bench/report` turns them into docs/benchmarks.md).
#
#   SIZES="100000 250000" RUNS=5 SAMPLE=1000 bench/conntrack.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
need_root bench/conntrack.sh
scripts/install-deps.sh
SIZES=${SIZES:-"100000 250000"}
RUNS=${RUNS:-5}
SAMPLE=${SAMPLE:-1000}
work=$(mktemp -d)
ns="tdb-$$"
cleanup() { ip netns del "$ns" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
build_ctbulk "$work/ctbulk"
build_release conntrack-bench tandem
B=$PWD/.build/release/conntrack-bench
T=$PWD/.build/release/tandem
results=$(results_file conntrack)
meta="$(results_meta),\"runs\":$RUNS,\"sizes\":\"$SIZES\",\"batch\":1000"
ip netns add "$ns"
N() { ip netns exec "$ns" "$@"; }
field() { tr ' ' '\n' | sed -n "s/^$1=//p" | head -1; }
now() { date +%s.%N; }
count() { N conntrack -C 2>/dev/null || echo 0; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.0f", n / s; else print 0 }'; }

failed_total=0
for n in $SIZES; do
  for run in $(seq 1 "$RUNS"); do
    outcome=ok
    N "$work/ctbulk" flush >/dev/null
    c_ins=$(N "$work/ctbulk" insert "$n" --batch 1000 | field rate) || outcome="ctbulk insert failed"
    [ "$(count)" = "$n" ] || [ "$outcome" != ok ] || outcome="ctbulk insert left $(count) of $n"
    N "$work/ctbulk" flush >/dev/null
    ins=$(N "$B" insert "$n" --batch 1000) || { [ "$outcome" != ok ] || outcome="tandem insert failed"; }
    t_ins=$(echo "$ins" | field rate); rss_ins=$(echo "$ins" | field maxrss_kib)
    [ "$(count)" = "$n" ] || [ "$outcome" != ok ] || outcome="tandem insert left $(count) of $n"
    c_dump=$(N "$work/ctbulk" dump | field rate) || { [ "$outcome" != ok ] || outcome="ctbulk dump failed"; }
    dump=$(N "$B" dump) || { [ "$outcome" != ok ] || outcome="tandem dump failed"; }
    t_dump=$(echo "$dump" | field rate); rss_dump=$(echo "$dump" | field maxrss_kib)
    t0=$(now); lines=$(N conntrack -L 2>/dev/null | wc -l); t1=$(now)
    [ "$lines" = "$n" ] || [ "$outcome" != ok ] || outcome="conntrack -L printed $lines of $n"
    c_ls=$(rate "$n" "$(echo "$t1 - $t0" | bc -l)")
    t0=$(now); lines=$(N "$T" conntrack -L 2>/dev/null | wc -l); t1=$(now)
    [ "$lines" = "$n" ] || [ "$outcome" != ok ] || outcome="tandem conntrack -L printed $lines of $n"
    t_ls=$(rate "$n" "$(echo "$t1 - $t0" | bc -l)")
    t_del=$(N "$B" delete "$n" --batch 1000 | field rate) || { [ "$outcome" != ok ] || outcome="tandem delete failed"; }
    [ "$(count)" = 0 ] || [ "$outcome" != ok ] || outcome="tandem delete left $(count)"
    N "$work/ctbulk" flush >/dev/null
    if [ "$outcome" != ok ]; then
      failed_total=$((failed_total + 1))
      echo "FAILED run: $n flows, run $run: $outcome" >&2
      echo "{$meta,\"n\":$n,\"run\":$run,\"outcome\":\"$outcome\"}" >> "$results"
      continue
    fi
    echo "{$meta,\"n\":$n,\"run\":$run,\"outcome\":\"ok\",\"batch\":1000,\"ctbulk_insert_rate\":$c_ins,\"tandem_insert_rate\":$t_ins,\"tandem_insert_maxrss_kib\":$rss_ins,\"ctbulk_dump_rate\":$c_dump,\"tandem_dump_rate\":$t_dump,\"tandem_dump_maxrss_kib\":$rss_dump,\"conntrack_list_rate\":$c_ls,\"tandem_list_rate\":$t_ls,\"tandem_delete_rate\":$t_del}" >> "$results"
    printf 'n=%s run=%s insert %s vs ctbulk %s; dump %s vs %s; list %s vs conntrack -L %s; delete %s\n' \
      "$n" "$run" "$t_ins" "$c_ins" "$t_dump" "$c_dump" "$t_ls" "$c_ls" "$t_del"
  done
done
# conntrack -I, one process per flow: sampled, for the order of magnitude.
N "$work/ctbulk" flush >/dev/null
t0=$(now)
for i in $(seq 1 "$SAMPLE"); do
  N conntrack -I -p tcp -s 10.99.$((i / 250)).$((i % 250 + 1)) -d 172.20.0.1 --sport 1 --dport 80 --state ESTABLISHED -t 60 >/dev/null 2>&1 || true
done
t1=$(now)
made=$(count)
N "$work/ctbulk" flush >/dev/null
loop_outcome=ok
if [ "$made" != "$SAMPLE" ]; then
  loop_outcome="conntrack -I made $made of $SAMPLE"; failed_total=$((failed_total + 1))
  echo "FAILED: $loop_outcome" >&2
fi
echo "{$meta,\"sample\":$SAMPLE,\"outcome\":\"$loop_outcome\",\"conntrack_insert_loop_rate\":$(rate "$SAMPLE" "$(echo "$t1 - $t0" | bc -l)")}" >> "$results"
bench/report --stdout --only "$results"
echo "raw results: $results"
[ "$failed_total" = 0 ] || { echo "$failed_total run(s) failed" >&2; exit 1; }
