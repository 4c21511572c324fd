#!/usr/bin/env bash
# Failover benchmark (issue #5): the lab's stop-failover, RUNS times per stack and per
# table size, with server-streaming SSH-like sessions (a line every 50 ms each way).
#   stacks: tandem-run (one process per firewall) and reference (Debian's conntrackd +
#           keepalived + primary-backup.sh), same topology, same advert_int.
#   FLOWS:  extra established flows in the master's table (replicated before the
#           failover), e.g. "1000 100000".
# Prints per stack and size: sessions surviving, median / max per-session stall, median
# time until the new master's kernel holds every flow, and in how many runs that
# happened before its VIPs were up.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "bench/failover.sh needs root" >&2; exit 1; }
RUNS=${RUNS:-20}
FLOWS=${FLOWS:-"1000 100000"}
STACKS=${STACKS:-"tandem-run reference"}
scripts/install-deps.sh
swift build -c release --product tandem >/dev/null
T=$PWD/.build/release/tandem
prefix="tdf-"
out=$(mktemp -d)
cleanup() { "$T" lab down --prefix "$prefix" >/dev/null 2>&1 || true; rm -rf "$out"; }
trap cleanup EXIT

median() { sort -n | awk '{v[NR]=$1} END {if (NR==0) print "-"; else if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

printf '%-11s %7s %10s %10s %10s %12s %14s\n' stack flows survived "stall p50" "stall max" "all-in p50" "before VIPs"
for flows in $FLOWS; do
  for stack in $STACKS; do
    : > "$out/stalls"; : > "$out/allin"; ok=0; total=0; before=0; measured=0
    for run in $(seq 1 "$RUNS"); do
      log="$out/$stack-$flows-$run.txt"
      if ! "$T" lab up --prefix "$prefix" --stack "$stack" >"$log.up" 2>&1; then
        echo "run $run: lab up failed for $stack (see below)" >&2; tail -5 "$log.up" >&2
        "$T" lab down --prefix "$prefix" >/dev/null 2>&1 || true
        continue
      fi
      "$T" lab failover --prefix "$prefix" --how stop --push 0.05 --flows "$flows" >"$log" 2>&1 || true
      "$T" lab down --prefix "$prefix" >/dev/null 2>&1 || true
      # session rows: name kind stall lost rst result
      awk '$2=="tcp"||$2=="udp"||$2=="icmp" {print $3}' "$log" >> "$out/stalls"
      s=$(awk '$2=="tcp"||$2=="udp"||$2=="icmp"' "$log" | grep -c "survived" || true)
      n=$(awk '$2=="tcp"||$2=="udp"||$2=="icmp"' "$log" | wc -l)
      ok=$((ok + s)); total=$((total + n))
      allin=$(sed -n 's/^ *+\([0-9]*\) .*kernel holds all.*/\1/p' "$log" | head -1)
      vip=$(sed -n 's/^ *+\([0-9]*\) .*VIP moved:.*/\1/p' "$log" | head -1)
      commit=$(sed -n 's/^ *+\([0-9]*\) .*commit done on fw2.*/\1/p' "$log" | head -1)
      if [ -n "$allin" ]; then
        echo "$allin" >> "$out/allin"; measured=$((measured + 1))
        # The commit's own completion (a daemon log line) orders it against the VIPs more
        # exactly than the 10 ms samples of the kernel count do.
        done_at=${commit:-$allin}
        [ -n "$vip" ] && [ "$done_at" -le "$vip" ] && before=$((before + 1))
      fi
    done
    printf '%-11s %7s %10s %10s %10s %12s %14s\n' "$stack" "$flows" "$ok/$total" \
      "$(median < "$out/stalls") ms" "$(sort -n "$out/stalls" | tail -1) ms" "$(median < "$out/allin") ms" "$before/$measured"
  done
done
echo "(stall: longest gap in a session's traffic across the failover; all-in: time after the stop until"
echo " the new master's kernel held every replicated flow; before VIPs: runs where the commit completed before"
echo " the VIPs moved)"
