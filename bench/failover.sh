#!/usr/bin/env bash
# Failover benchmark: the lab's failover, RUNS times per stack, per way of failing and per
# table size, with server-streaming SSH-like sessions (a line every 50 ms each way), a UDP
# stream and a ping.
#   STACKS: tandem-run (one process per firewall), reference (Debian's conntrackd +
#           keepalived + primary-backup.sh) and mixed (fw1 Debian's daemons, fw2 tandem
#           run); same topology, same advert_int.
#   HOWS:   stop, kill, link (how fw1 fails).
#   FLOWS:  extra established flows in the master's table (replicated before the
#           failover), e.g. "1000 100000".
# A run fails when `lab up` fails, when `lab failover` gives no verdict, or when the
# backup's table was incomplete before the failover (the lab warns): a failed run is
# reported as failed, its sessions are counted in no row, and the script exits non-zero.
# (A broken session is a result, not a failure: its run counts, the session as broken.)
# Per row: TCP sessions surviving apart from the UDP stream and the ping (a ping survives
# without replication), median / max stall of the TCP sessions, median time until the new
# master's kernel holds every flow, in how many runs that happened before its VIPs were
# up, and the failed runs. Raw per-run results: bench/results/failover-*.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
need_root bench/failover.sh
RUNS=${RUNS:-5}
FLOWS=${FLOWS:-"1000 100000"}
STACKS=${STACKS:-"tandem-run reference mixed"}
HOWS=${HOWS:-"stop kill link"}
scripts/install-deps.sh
build_release tandem
T=$PWD/.build/release/tandem
prefix="tdf-"
out=$(mktemp -d)
cleanup() { "$T" lab down --prefix "$prefix" >/dev/null 2>&1 || true; rm -rf "$out"; }
trap cleanup EXIT
results=$(results_file failover)
meta="$(results_meta),\"runs\":$RUNS,\"push_secs\":0.05"

median() { sort -n | awk '{v[NR]=$1} END {if (NR==0) print "-"; else if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
failed_total=0

printf '%-11s %-5s %7s %9s %9s %10s %10s %10s %12s %7s\n' stack how flows "tcp ok" "udp+icmp" "tcp p50" "tcp max" "all-in p50" "before VIPs" failed
for flows in $FLOWS; do
 for how in $HOWS; do
  for stack in $STACKS; do
    : > "$out/stalls"; : > "$out/allin"
    tcp_ok=0; tcp_n=0; other_ok=0; other_n=0; before=0; measured=0; failed=0
    for run in $(seq 1 "$RUNS"); do
      log="$out/$stack-$how-$flows-$run.txt"
      outcome=ok
      fst=0
      # `lab failover` exits 1 when a session broke: that is a result, counted below. A
      # run failed when it produced no verdict at all.
      if ! "$T" lab up --prefix "$prefix" --stack "$stack" >"$log.up" 2>&1; then
        outcome="lab up failed"
      else
        "$T" lab failover --prefix "$prefix" --how "$how" --push 0.05 --flows "$flows" >"$log" 2>&1 || fst=$?
        if ! grep -q "^verdict:" "$log"; then
          outcome="lab failover gave no verdict (exit $fst)"
        elif grep -q "warning: fw2's external cache" "$log"; then
          outcome="backup's table incomplete before the failover"
        fi
      fi
      "$T" lab down --prefix "$prefix" >/dev/null 2>&1 || true
      if [ "$outcome" != ok ]; then
        failed=$((failed + 1))
        echo "FAILED run: $stack $how $flows run $run: $outcome" >&2
        tail -5 "$log.up" "$log" >&2 2>/dev/null || true
        echo "{$meta,\"stack\":\"$stack\",\"how\":\"$how\",\"flows\":$flows,\"run\":$run,\"outcome\":\"$outcome\"}" >> "$results"
        continue
      fi
      # session rows: name kind stall lost rst result
      awk '$2=="tcp" {print $3}' "$log" >> "$out/stalls"
      t_ok=$(awk '$2=="tcp"' "$log" | grep -c "survived" || true); t_n=$(awk '$2=="tcp"' "$log" | wc -l)
      o_ok=$(awk '$2=="udp"||$2=="icmp"' "$log" | grep -c "survived" || true); o_n=$(awk '$2=="udp"||$2=="icmp"' "$log" | wc -l)
      tcp_ok=$((tcp_ok + t_ok)); tcp_n=$((tcp_n + t_n)); other_ok=$((other_ok + o_ok)); other_n=$((other_n + o_n))
      allin=$(sed -n 's/^ *+\([0-9]*\) .*kernel holds all.*/\1/p' "$log" | head -1)
      vip=$(sed -n 's/^ *+\([0-9]*\) .*VIP moved:.*/\1/p' "$log" | head -1)
      commit=$(sed -n 's/^ *+\([0-9]*\) .*commit done on fw2.*/\1/p' "$log" | head -1)
      early=false
      if [ -n "$allin" ]; then
        echo "$allin" >> "$out/allin"; measured=$((measured + 1))
        # The commit's own completion (a daemon log line) orders it against the VIPs more
        # exactly than the 10 ms samples of the kernel count do.
        done_at=${commit:-$allin}
        if [ -n "$vip" ] && [ "$done_at" -le "$vip" ]; then before=$((before + 1)); early=true; fi
      fi
      stalls=$(awk '$2=="tcp" {printf "%s%s", sep, $3; sep=","}' "$log")
      echo "{$meta,\"stack\":\"$stack\",\"how\":\"$how\",\"flows\":$flows,\"run\":$run,\"outcome\":\"ok\",\"tcp_survived\":$t_ok,\"tcp_sessions\":$t_n,\"udp_icmp_survived\":$o_ok,\"udp_icmp_sessions\":$o_n,\"tcp_stalls_ms\":[$stalls],\"all_in_ms\":${allin:-null},\"vip_ms\":${vip:-null},\"commit_ms\":${commit:-null},\"commit_before_vips\":$early,\"failover_exit\":$fst,\"verdict\":\"$(grep "^verdict:" "$log" | tail -1 | tr -d '"')\"}" >> "$results"
    done
    failed_total=$((failed_total + failed))
    printf '%-11s %-5s %7s %9s %9s %10s %10s %10s %12s %7s\n' "$stack" "$how" "$flows" "$tcp_ok/$tcp_n" "$other_ok/$other_n" \
      "$(median < "$out/stalls") ms" "$(sort -n "$out/stalls" | tail -1) ms" "$(median < "$out/allin") ms" "$before/$measured" "$failed/$RUNS"
  done
 done
done
echo "(tcp ok: SSH-like sessions that survived, over the good runs; stall: longest gap in a TCP session's traffic"
echo " across the failover; all-in: time after the failure until the new master's kernel held every replicated flow;"
echo " before VIPs: runs where the commit completed before the VIPs moved; failed: runs that failed, counted nowhere else)"
echo "raw results: $results"
[ "$failed_total" = 0 ] || { echo "$failed_total run(s) failed" >&2; exit 1; }
