#!/usr/bin/env bash
# Benchmark of the ctnetlink paths: Tandem's batched API vs the kernel ceiling measured by
# ../shared/bench/ctbulk (C, libmnl), `conntrack -I` in a loop (sampled) and
# `conntrack -L`. Release builds, one run, fresh namespace, no event listener anywhere
# (a listener slows every insert ~3x). Prints a table of rates and ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 1; }
scripts/install-deps.sh
SIZES=${SIZES:-"100000 250000"}
SAMPLE=${SAMPLE:-1000}
shared=${SHARED:-../shared}
work=$(mktemp -d)
ns="tdb-$$"
cleanup() { ip netns del "$ns" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
gcc -O2 -Wall -o "$work/ctbulk" "$shared/bench/ctbulk.c" -lmnl
swift build -c release --product conntrack-bench >/dev/null
swift build -c release --product tandem >/dev/null
B=$PWD/.build/release/conntrack-bench
ip netns add "$ns"
N() { ip netns exec "$ns" "$@"; }
field() { tr ' ' '\n' | sed -n "s/^$1=//p" | head -1; }
secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); echo "$t1 - $t0" | bc -l; }
# Dumps are short and the machine is shared: alternate the two tools and take medians.
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
dump_rates() { # prints "ctbulk tandem" medians of 5 alternating runs
  local c=() t=() i
  for i in 1 2 3 4 5; do
    c+=("$(N "$work/ctbulk" dump | field rate)")
    t+=("$(N "$B" dump | field rate)")
  done
  echo "$(printf '%s\n' "${c[@]}" | median) $(printf '%s\n' "${t[@]}" | median)"
}
insert_rates() { # N: prints "ctbulk tandem tandem_maxrss" medians of 3 alternating runs into an empty table
  local c=() t=() r=() i out
  for i in 1 2 3; do
    N "$work/ctbulk" flush >/dev/null
    c+=("$(N "$work/ctbulk" insert "$1" --batch 1000 | field rate)")
    N "$work/ctbulk" flush >/dev/null
    out=$(N "$B" insert "$1" --batch 1000)
    t+=("$(echo "$out" | field rate)"); r+=("$(echo "$out" | field maxrss_kib)")
  done
  echo "$(printf '%s\n' "${c[@]}" | median) $(printf '%s\n' "${t[@]}" | median) $(printf '%s\n' "${r[@]}" | median)"
}
command -v bc >/dev/null || { apt-get install -y -qq bc >/dev/null; }

printf '%-34s %12s %12s %8s\n' "operation" "tandem/s" "reference/s" "ratio"
for n in $SIZES; do
  read -r c_ins t_ins rss_ins < <(insert_rates "$n")
  t_ls=$(secs N conntrack -L); ls_rate=$(echo "$n / $t_ls" | bc)
  out=$(N "$B" dump); rss_dump=$(echo "$out" | field maxrss_kib)
  read -r c_dump t_dump < <(dump_rates)
  t_tls=$(secs N .build/release/tandem conntrack -L); tls_rate=$(echo "$n / $t_tls" | bc)
  out=$(N "$B" delete "$n" --batch 1000); t_del=$(echo "$out" | field rate)
  N "$work/ctbulk" flush >/dev/null
  printf '%-34s %12s %12s %8.2f\n' "insert $n (vs ctbulk, median of 3)" "$t_ins" "$c_ins" "$(echo "$t_ins / $c_ins" | bc -l)"
  printf '%-34s %12s %12s %8.2f\n' "dump $n (vs ctbulk, median of 5)" "$t_dump" "$c_dump" "$(echo "$t_dump / $c_dump" | bc -l)"
  printf '%-34s %12s %12s %8.2f\n' "list $n: tandem -L vs conntrack -L" "$tls_rate" "$ls_rate" "$(echo "$tls_rate / $ls_rate" | bc -l)"
  printf '%-34s %12s %12s %8s\n' "delete $n (batched)" "$t_del" "-" "-"
  printf '%-34s %12s %12s %8s\n' "max RSS KiB insert/dump $n" "$rss_ins/$rss_dump" "-" "-"
done
# conntrack -I, one process per flow: sampled.
t=$(secs bash -c "for i in \$(seq 1 $SAMPLE); do ip netns exec $ns conntrack -I -p tcp -s 10.99.\$((i/250)).\$((i%250+1)) -d 172.20.0.1 --sport 1 --dport 80 --state ESTABLISHED -t 60 >/dev/null 2>&1; done")
cli=$(echo "$SAMPLE / $t" | bc)
printf '%-34s %12s %12s %8s\n' "conntrack -I loop ($SAMPLE sampled)" "-" "$cli" "-"
echo "ratio of tandem batched insert to conntrack -I: $(echo "$t_ins / $cli" | bc)x"
