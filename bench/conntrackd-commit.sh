#!/usr/bin/env bash
# Commit benchmark: conntrackd 1.4.7's own `conntrackd -c` against Tandem's batched
# create of the same flows, and `tandem conntrackd -c` after the same replication between
# two Tandem daemons. Two namespaces (tdc-a, tdc-b) joined by a veth sync link;
# flows made in A's kernel replicate into B's external cache over FTFW/UDP; then B
# commits them to its kernel. Tandem inserts the same flow set into an empty table.
# RUNS iterations (default 5); per-run rates and ratios, summarised as median (min-max); a
# run whose replication or commit was incomplete is reported as failed, kept out of the
# summary, and makes the script exit non-zero. Raw results: bench/results/commit-*.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 1; }
scripts/install-deps.sh
N=${N:-100000}
RUNS=${RUNS:-5}
shared=${SHARED:-../shared}
work=$(mktemp -d)
a="tdc-a-$$"; b="tdc-b-$$"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.3
  ip netns del "$a" 2>/dev/null || true; ip netns del "$b" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
gcc -O2 -Wall -o "$work/ctbulk" "$shared/bench/ctbulk.c" -lmnl
swift build -c release --product conntrack-bench >/dev/null
swift build -c release --product tandem >/dev/null
B=$PWD/.build/release/conntrack-bench
T=${TANDEM:-$PWD/.build/release/tandem}
ip netns add "$a"; ip netns add "$b"
ip link add tdca0 netns "$a" type veth peer name tdcb0 netns "$b"
ip -n "$a" addr add 172.31.99.1/24 dev tdca0; ip -n "$a" link set tdca0 up; ip -n "$a" link set lo up
ip -n "$b" addr add 172.31.99.2/24 dev tdcb0; ip -n "$b" link set tdcb0 up; ip -n "$b" link set lo up
conf() { # name self peer dev
  cat > "$work/$1.conf" <<CONF
Sync {
    Mode FTFW {
        DisableExternalCache Off
        CommitTimeout 180
        PurgeTimeout 5
    }
    UDP {
        IPv4_address $2
        IPv4_Destination_Address $3
        Port 3780
        Interface $4
        SndSocketBuffer 24985600
        RcvSocketBuffer 24985600
        Checksum on
    }
}
General {
    HashSize 262144
    HashLimit 1048576
    LogFile $work/$1.log
    LockFile $work/$1.lock
    UNIX { Path $work/$1.ctl
           Backlog 20 }
    NetlinkBufferSize 33554432
    NetlinkBufferSizeMaxGrowth 67108864
    NetlinkEventsReliable on
}
CONF
}
conf a 172.31.99.1 172.31.99.2 tdca0
conf b 172.31.99.2 172.31.99.1 tdcb0
# Replicate N flows from A to B with the daemon `$1` (conntrackd or "$T conntrackd"), time
# B's commit; prints "have rate committed".
replicate_and_commit() {
  local cli=$1
  ip netns exec "$a" $cli -C "$work/a.conf" >/dev/null 2>&1 & pids+=($!)
  ip netns exec "$b" $cli -C "$work/b.conf" >/dev/null 2>&1 & pids+=($!)
  sleep 1
  ip netns exec "$a" "$work/ctbulk" insert "$N" --batch 1000 --timeout 3600 >/dev/null
  external() { ip netns exec "$b" $cli -C "$work/b.conf" -s 2>/dev/null | awk '/cache external/{f=1} f && /current active/{print $NF; exit}'; }
  for _ in $(seq 1 120); do
    [ "$(external)" -ge "$N" ] 2>/dev/null && break
    sleep 0.5
  done
  local have t0 t1 committed
  have=$(external)
  t0=$(date +%s.%N)
  ip netns exec "$b" $cli -C "$work/b.conf" -c >/dev/null 2>&1
  t1=$(date +%s.%N)
  # The benchmark's own flows only (10.64.x.x → 172.20.0.1:80).
  committed=$(ip netns exec "$b" conntrack -L -p tcp -d 172.20.0.1 --dport 80 2>/dev/null | wc -l)
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
  ip netns exec "$a" "$work/ctbulk" flush >/dev/null
  ip netns exec "$b" "$work/ctbulk" flush >/dev/null
  echo "$have $(echo "$committed / ($t1 - $t0)" | bc) $committed"
}
. bench/record.sh
results=$(results_file commit)
meta="$(results_meta),\"n\":$N"
failed=0
: > "$work/ok"
for r in $(seq 1 "$RUNS"); do
  # (Through a file, not a pipe: the function runs in this shell, so the trap knows its PIDs.)
  replicate_and_commit conntrackd > "$work/c.result"; read -r have cd_rate committed < "$work/c.result"
  replicate_and_commit "$T conntrackd" > "$work/t.result"; read -r t_have td_rate t_committed < "$work/t.result"
  c_rate=$(ip netns exec "$b" "$work/ctbulk" insert "$N" --batch 1000 | tr ' ' '\n' | sed -n 's/^rate=//p')
  ip netns exec "$b" "$work/ctbulk" flush >/dev/null
  out=$(ip netns exec "$b" "$B" insert "$N" --batch 1000)
  t_rate=$(echo "$out" | tr ' ' '\n' | sed -n 's/^rate=//p')
  ip netns exec "$b" "$work/ctbulk" flush >/dev/null
  outcome=ok
  # A run counts only when both replicated every flow and committed all they held.
  if [ "$have" -lt "$N" ] || [ "$t_have" -lt "$N" ]; then outcome="replication incomplete ($have / $t_have of $N)"
  elif [ "$committed" -lt "$have" ] || [ "$t_committed" -lt "$t_have" ]; then outcome="commit incomplete ($committed / $t_committed)"; fi
  r_td=$(echo "scale=3; $td_rate / $cd_rate" | bc); r_t=$(echo "scale=3; $t_rate / $cd_rate" | bc); r_c=$(echo "scale=3; $t_rate / $c_rate" | bc)
  r_tdc=$(echo "scale=3; $td_rate / $c_rate" | bc)
  echo "run $r: $outcome conntrackd_c=$cd_rate tandem_c=$td_rate tandem_batched=$t_rate ctbulk=$c_rate ratio_c=$r_td ratio_c_ctbulk=$r_tdc ratio_batched_ctbulk=$r_c (external $have / $t_have, committed $committed / $t_committed)"
  echo "{$meta,\"run\":$r,\"outcome\":\"$outcome\",\"external_conntrackd\":$have,\"external_tandem\":$t_have,\"committed_conntrackd\":$committed,\"committed_tandem\":$t_committed,\"conntrackd_c_rate\":$cd_rate,\"tandem_c_rate\":$td_rate,\"tandem_batched_rate\":$t_rate,\"ctbulk_rate\":$c_rate}" >> "$results"
  if [ "$outcome" = ok ]; then echo "$cd_rate $td_rate $t_rate $c_rate $r_td $r_tdc $r_c" >> "$work/ok"; else failed=$((failed + 1)); echo "FAILED run $r: $outcome" >&2; fi
done
col() { awk -v c="$1" '{print $c}' "$work/ok" | summary_range; }
echo "== $N flows, medians (min-max) over the good runs of $RUNS; failed runs: $failed"
printf '%-44s %s\n' "conntrackd -c (one message per ACK), flows/s" "$(col 1)"
printf '%-44s %s\n' "tandem conntrackd -c, flows/s" "$(col 2)"
printf '%-44s %s\n' "tandem batched create, flows/s" "$(col 3)"
printf '%-44s %s\n' "ctbulk (kernel ceiling), flows/s" "$(col 4)"
printf '%-44s %s\n' "ratio tandem -c / conntrackd -c (per run)" "$(col 5)"
printf '%-44s %s\n' "ratio tandem -c / ctbulk (per run)" "$(col 6)"
printf '%-44s %s\n' "ratio tandem batched / ctbulk (per run)" "$(col 7)"
echo "raw results: $results"
[ "$failed" = 0 ] || { echo "$failed run(s) failed" >&2; exit 1; }
