#!/usr/bin/env bash
# VIPs up after the master dies, with DisableExternalCache On (issue #18 item 2): replicated
# flows go straight into the backup's kernel as they arrive, so a promotion has no table to
# commit and should take no longer at 250k flows than at 1k. Measured from SIGKILL of the
# master's `tandem run` (no priority-0 advert: the backup waits out Master_Down_Interval)
# until the VIP appears on the backup's interface, read from `ip -ts monitor address` in the
# backup's namespace. Target: within Master_Down_Interval + 20 ms, at every N.
# Before each kill the backup's kernel must hold every flow (else the run is failed).
# NS="1000 250000" (flow counts), RUNS per N (default 5, what a published figure needs). Two namespaces (tqc-va-PID,
# tqc-vb-PID) joined by one veth (10.238.98.0/24) carry VRRP and the sync link.
# Raw results: bench/results/vips-up-<UTC>-<commit>.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
need_root bench/vips-up.sh
scripts/install-deps.sh
NS=${NS:-"1000 250000"}
RUNS=${RUNS:-5}
work=$(mktemp -d)
a="tqc-va-$$"; b="tqc-vb-$$"
pids=()
mp=""
cleanup() {
  if [ -n "$mp" ]; then kill "$mp" 2>/dev/null || true; fi  # a dead monitor must not end the cleanup (set -e)
  stop_pids
  ip netns del "$a" 2>/dev/null || true; ip netns del "$b" 2>/dev/null || true
  restore_conntrack_max
  rm -rf "$work"
}
trap cleanup EXIT
largest=$(echo $NS | tr ' ' '\n' | sort -n | tail -1)
raise_conntrack_max "$largest"
build_ctbulk "$work/ctbulk"
build_release tandem
T=$PWD/.build/release/tandem
veth_pair "$a" "$b" tqcva0 tqcvb0 10.238.98.1/24 10.238.98.2/24
hash=$((largest > 262144 ? largest : 262144))
conntrackd_conf() { # name self peer dev
  cat > "$work/$1.conf" <<CONF
Sync {
    Mode FTFW {
        DisableExternalCache On
        CommitTimeout 180
        PurgeTimeout 5
        ResendQueueSize 1048576
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
    HashSize $hash
    HashLimit $((hash * 4))
    LogFile $work/$1.log
    LockFile $work/$1.lock
    UNIX { Path $work/$1.ctl
           Backlog 20 }
    NetlinkBufferSize 33554432
    NetlinkBufferSizeMaxGrowth 67108864
    NetlinkEventsReliable on
    NetlinkOverrunResync 5
    Filter From Userspace {
        Address Ignore {
            IPv4_address 10.238.98.1
            IPv4_address 10.238.98.2
            IPv4_address 10.238.98.100
        }
    }
}
CONF
}
PRIO_B=50
keepalived_conf() { # name state priority self peer dev
  cat > "$work/$1-k.conf" <<CONF
vrrp_instance P {
    state $2
    interface $6
    virtual_router_id 62
    priority $3
    advert_int 1
    unicast_src_ip $4
    unicast_peer {
        $5
    }
    virtual_ipaddress {
        10.238.98.100/24 dev $6
    }
}
CONF
}
conntrackd_conf a 10.238.98.1 10.238.98.2 tqcva0
conntrackd_conf b 10.238.98.2 10.238.98.1 tqcvb0
keepalived_conf a MASTER 100 10.238.98.1 10.238.98.2 tqcva0
keepalived_conf b BACKUP $PRIO_B 10.238.98.2 10.238.98.1 tqcvb0
# RFC 3768 / 5798: Master_Down_Interval = 3 × advert + skew, skew = (256 − priority) / 256 s.
mdi_ms=$(echo "scale=3; 3000 + (256 - $PRIO_B) * 1000 / 256" | bc)
bench_flows() { ip netns exec "$1" conntrack -L -p tcp -d 172.20.0.1 --dport 80 2>/dev/null | wc -l; }
flush_kernels() { ip netns exec "$a" "$work/ctbulk" flush >/dev/null; ip netns exec "$b" "$work/ctbulk" flush >/dev/null; }
results=$(results_file vips-up)
settings="\"runs\":$RUNS,\"advert_int\":1,\"backup_priority\":$PRIO_B,\"disable_external_cache\":true,\"timing\":\"SIGKILL to ip -ts monitor address on the backup\""
failed=0
: > "$work/ok"
for n in $NS; do
  for run in $(seq 1 "$RUNS"); do
    rm -f "$work"/*.lock "$work"/*.ctl "$work"/*.log
    ip netns exec "$a" "$T" run --keepalived-config "$work/a-k.conf" --conntrackd-config "$work/a.conf" 2>"$work/a.run.log" & pa=$!; pids+=($pa)
    for _ in $(seq 1 100); do ip -n "$a" -4 -o addr show | grep -q " 10.238.98.100/" && break; sleep 0.1; done
    ip netns exec "$b" "$T" run --keepalived-config "$work/b-k.conf" --conntrackd-config "$work/b.conf" 2>"$work/b.run.log" & pids+=($!)
    sleep 2
    ip netns exec "$a" "$work/ctbulk" insert "$n" --batch 1000 --timeout 3600 >/dev/null
    have=0
    for _ in $(seq 1 $((60 + n / 1000))); do have=$(bench_flows "$b"); [ "$have" -ge "$n" ] && break; sleep 0.5; done
    # Past the last adverts' jitter: the kill lands at a random point of the advert interval.
    sleep 0.$((RANDOM % 9 + 1))
    # The VIP must be on the master only, or the run measures nothing.
    split=""; ip -n "$b" -4 -o addr show | grep -q " 10.238.98.100/" && split=1
    ip -n "$b" -ts monitor address > "$work/monitor" 2>&1 & mp=$!
    sleep 0.2
    t0=$(date +%s.%N)
    kill -KILL "$pa"
    up=""
    for _ in $(seq 1 1000); do
      up=$(grep -m1 "10.238.98.100/" "$work/monitor" | sed -n 's/^\[\([^]]*\)\].*/\1/p' || true)
      [ -n "$up" ] && break; sleep 0.01
    done
    kill "$mp" 2>/dev/null || true; wait "$mp" 2>/dev/null || true
    outcome=ok; ms=0
    if [ -n "$split" ]; then outcome="the backup held the VIP before the kill"
    elif [ "$have" -lt "$n" ]; then outcome="the backup's kernel held $have of $n before the kill"
    elif [ -z "$up" ]; then outcome="the VIP never came up on the backup"
    else ms=$(echo "($(date -d "$up" +%s.%N) - $t0) * 1000" | bc); ms=$(printf '%.1f' "$ms"); fi
    over=$(echo "$ms - $mdi_ms" | bc)
    within=$(echo "$ms <= $mdi_ms + 20" | bc)
    stop_pids; flush_kernels
    echo "N=$n run $run: $outcome VIP up after $ms ms (Master_Down_Interval $mdi_ms ms, over by $over ms; within +20 ms: $within)"
    echo "{$(results_meta),$settings,\"n\":$n,\"run\":$run,\"outcome\":\"$outcome\",\"vip_ms\":$ms,\"master_down_interval_ms\":$mdi_ms,\"backup_kernel_flows\":$have}" >> "$results"
    if [ "$outcome" = ok ]; then echo "$n $ms $over" >> "$work/ok"; else failed=$((failed + 1)); echo "FAILED N=$n run $run: $outcome" >&2; fi
  done
done
echo "== VIPs up after SIGKILL of the master, DisableExternalCache On; medians (min-max); failed runs: $failed"
for n in $NS; do
  printf 'N=%-8s VIP up (ms) %s   over Master_Down_Interval (ms) %s\n' "$n" \
    "$(awk -v n="$n" '$1 == n {print $2}' "$work/ok" | summary_range)" "$(awk -v n="$n" '$1 == n {print $3}' "$work/ok" | summary_range)"
done
echo "raw results: $results"
[ "$failed" = 0 ] || { echo "$failed run(s) failed" >&2; exit 1; }
