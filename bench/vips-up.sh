#!/usr/bin/env bash
# VIPs up after the master dies, with DisableExternalCache On (issue #18 item 2): replicated
# flows go straight into the backup's kernel as they arrive, so a promotion has no table to
# commit and should take no longer at 1M flows than at 1k. The master's `tandem run` is
# killed with SIGKILL (no priority-0 advert: the backup waits out Master_Down_Interval).
# Two clocks per run, both read on the backup's side:
#   from the last advert the backup received (tcpdump -tt in its namespace) to the VIP on
#   its interface (`ip -ts monitor address`): what Master_Down_Interval bounds, so the
#   target is <= Master_Down_Interval + 20 ms;
#   from the kill to the VIP: what a client sees, up to one advert interval less.
# Before each kill the backup's kernel must hold every flow (nf_conntrack_count in its
# namespace: a new namespace tracks nothing else) and the VIP must be on the master only,
# else the run is failed. Also recorded: the 1-minute load average at the kill, and the
# backup's own promotion log lines (its MASTER transition, from the last advert; commit; and
# "addresses added ... after the transition"); the backup's whole log goes to
# bench/results/vips-up-<UTC>-<commit>.backup-logs.txt. The flows are made only after the
# backup's start-up purge (PurgeTimeout after it enters BACKUP), which would flush them.
# NS (flow counts, default "1000 250000 1000000"), RUNS per N (default 5, what a published
# figure needs), WAIT (seconds allowed for the replication, default 60 + N/2000), RATE (ctbulk's insert pace in flows/s, default 100000: a flat-out burst
# overruns the master's event socket and the bench would time the resync instead).
# nf_conntrack_max and nf_conntrack_buckets are raised for the largest N and restored on
# exit (the records' conntrack_buckets).
# Two namespaces (tcm-va-PID, tcm-vb-PID) joined by one veth (10.238.98.0/24) carry VRRP
# and the sync link; everything started here is stopped by PID.
# Raw results: bench/results/vips-up-<UTC>-<commit>.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
need_root bench/vips-up.sh
scripts/install-deps.sh
NS=${NS:-"1000 250000 1000000"}
RATE=${RATE:-100000}
RUNS=${RUNS:-5}
work=$(mktemp -d)
a="tcm-va-$$"; b="tcm-vb-$$"
pids=()
mp=""; dp=""
cleanup() {
  # A dead monitor must not end the cleanup (set -e).
  if [ -n "$mp" ]; then kill "$mp" 2>/dev/null || true; fi
  if [ -n "$dp" ]; then kill "$dp" 2>/dev/null || true; fi
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
T=$PWD/$SCRATCH/release/tandem
veth_pair "$a" "$b" tcmva0 tcmvb0 10.238.98.1/24 10.238.98.2/24
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
conntrackd_conf a 10.238.98.1 10.238.98.2 tcmva0
conntrackd_conf b 10.238.98.2 10.238.98.1 tcmvb0
keepalived_conf a MASTER 100 10.238.98.1 10.238.98.2 tcmva0
keepalived_conf b BACKUP $PRIO_B 10.238.98.2 10.238.98.1 tcmvb0
# RFC 3768 / 5798: Master_Down_Interval = 3 × advert + skew, skew = (256 − priority) / 256 s.
mdi_ms=$(echo "scale=3; 3000 + (256 - $PRIO_B) * 1000 / 256" | bc)
# A new namespace tracks nothing until a rule uses it: its count is the replicated flows.
kernel_flows() { ip netns exec "$1" cat /proc/sys/net/netfilter/nf_conntrack_count; }
flush_kernels() { ip netns exec "$a" "$work/ctbulk" flush >/dev/null; ip netns exec "$b" "$work/ctbulk" flush >/dev/null; }
epoch() { date -d "$1" +%s.%N; }
results=$(results_file vips-up)
settings="\"runs\":$RUNS,\"conntrack_buckets\":$(cat /proc/sys/net/netfilter/nf_conntrack_buckets),\"advert_int\":1,\"backup_priority\":$PRIO_B,\"disable_external_cache\":true,\"insert_rate\":$RATE,\"timing\":\"last advert received (tcpdump -tt on the backup) and SIGKILL, to ip -ts monitor address on the backup\""
failed=0
: > "$work/ok"
for n in $NS; do
  for run in $(seq 1 "$RUNS"); do
    rm -f "$work"/*.lock "$work"/*.ctl "$work"/*.log
    ip netns exec "$a" "$T" run --keepalived-config "$work/a-k.conf" --conntrackd-config "$work/a.conf" 2>"$work/a.run.log" & pa=$!; pids+=($pa)
    for _ in $(seq 1 100); do ip -n "$a" -4 -o addr show | grep -q " 10.238.98.100/" && break; sleep 0.1; done
    ip netns exec "$b" "$T" run --keepalived-config "$work/b-k.conf" --conntrackd-config "$work/b.conf" 2>"$work/b.run.log" & pids+=($!)
    # A node that starts as backup purges its kernel table PurgeTimeout (5 s) later, as
    # primary-backup.sh's `-t` does: flows replicated before that would be flushed with it.
    for _ in $(seq 1 150); do grep -q "kernel conntrack table flushed (purge)" "$work/b.run.log" && break; sleep 0.1; done
    sleep 0.5
    t_ins=$(date +%s.%N)
    ip netns exec "$a" "$work/ctbulk" insert "$n" --batch 1000 --rate "$RATE" --timeout 3600 >/dev/null
    # Bounded: WAIT seconds (default 60 s plus 1 s per 2,000 flows).
    have=$(kernel_flows "$b")
    for _ in $(seq 1 $((${WAIT:-$((60 + n / 2000))} * 2))); do have=$(kernel_flows "$b"); [ "$have" -ge "$n" ] && break; sleep 0.5; done
    replicated_s=$(printf '%.3f' "$(echo "$(date +%s.%N) - $t_ins" | bc)")
    # The VIP must be on the master only, or the run measures nothing.
    split=""; ip -n "$b" -4 -o addr show | grep -q " 10.238.98.100/" && split=1
    ip -n "$b" -ts monitor address > "$work/monitor" 2>&1 & mp=$!
    ip netns exec "$b" tcpdump -i tcmvb0 -tt -n -l -U 'ip proto 112 and src host 10.238.98.1' > "$work/adverts" 2>"$work/tcpdump.err" & dp=$!
    # The capture must have seen an advert before the kill (bounded: 5 s).
    for _ in $(seq 1 50); do [ -s "$work/adverts" ] && break; sleep 0.1; done
    # Past the last adverts' jitter: the kill lands at a random point of the advert interval.
    sleep 0.$((RANDOM % 9 + 1))
    load=$(cut -d' ' -f1 /proc/loadavg)
    t0=$(date +%s.%N)
    kill -KILL "$pa"
    up=""
    for _ in $(seq 1 1000); do
      up=$(grep -m1 "10.238.98.100/" "$work/monitor" | sed -n 's/^\[\([^]]*\)\].*/\1/p' || true)
      [ -n "$up" ] && break; sleep 0.01
    done
    kill "$mp" 2>/dev/null || true; wait "$mp" 2>/dev/null || true; mp=""
    kill "$dp" 2>/dev/null || true; wait "$dp" 2>/dev/null || true; dp=""
    # The last advert of the dead master that the backup saw before the kill.
    last=$(awk -v t0="$t0" '$1 ~ /^[0-9]+\.[0-9]+$/ && $1 + 0 <= t0 + 0 {t = $1} END {print t}' "$work/adverts")
    outcome=ok; ms=0; ms_advert=0
    if [ -n "$split" ]; then outcome="the backup held the VIP before the kill"
    elif [ "$have" -lt "$n" ]; then outcome="the backup's kernel held $have of $n before the kill"
    elif [ -z "$up" ]; then outcome="the VIP never came up on the backup"
    elif [ -z "$last" ]; then outcome="no advert of the master captured before the kill at $t0: $(tr '\n"' '  ' < "$work/adverts")"
    else
      ms=$(printf '%.1f' "$(echo "($(epoch "$up") - $t0) * 1000" | bc)")
      ms_advert=$(printf '%.1f' "$(echo "($(epoch "$up") - $last) * 1000" | bc)")
    fi
    over=$(printf '%.3f' "$(echo "$ms_advert - $mdi_ms" | bc)")
    within=$(echo "$ms_advert <= $mdi_ms + 20" | bc)
    promo=$(grep -m1 "addresses added and announced" "$work/b.run.log" | sed 's/"/'"'"'/g' || true)
    # The backup's own clock of its transition (its log, to the millisecond).
    became=$(grep -m1 "Entering MASTER STATE" "$work/b.run.log" | cut -d' ' -f1 || true)
    transition_ms=-; [ -n "$became" ] && [ -n "$last" ] && transition_ms=$(printf '%.1f' "$(echo "($(epoch "$became") - $last) * 1000" | bc)")
    { echo "== N=$n run $run: backup's log"; cat "$work/b.run.log"; } >> "${results%.jsonl}.backup-logs.txt"
    commit=$(grep -m1 "master actions" "$work/b.run.log" | sed 's/"/'"'"'/g' || true)
    stop_pids; flush_kernels
    echo "N=$n run $run: $outcome; VIP up $ms_advert ms after the last advert, $ms ms after the kill (Master_Down_Interval $mdi_ms ms, over by $over ms; within +20 ms: $within); load $load; replicated in ${replicated_s}s"
    echo "  backup: MASTER in its log $transition_ms ms after the last advert | ${commit:-no commit line} | ${promo:-no announce line}"
    echo "{$(results_meta),$settings,\"n\":$n,\"run\":$run,\"outcome\":\"$outcome\",\"vip_ms\":$ms,\"vip_after_last_advert_ms\":$ms_advert,\"over_mdi_ms\":$over,\"within_mdi_plus_20\":$within,\"master_down_interval_ms\":$mdi_ms,\"backup_kernel_flows\":$have,\"transition_after_last_advert_ms\":\"$transition_ms\",\"replicated_s\":$replicated_s,\"loadavg_1m\":$load,\"backup_commit_line\":\"$commit\",\"backup_announce_line\":\"$promo\"}" >> "$results"
    if [ "$outcome" = ok ]; then echo "$n $ms_advert $over $ms" >> "$work/ok"; else failed=$((failed + 1)); echo "FAILED N=$n run $run: $outcome" >&2; fi
  done
done
echo "== VIPs up after SIGKILL of the master, DisableExternalCache On; medians (min-max); failed runs: $failed"
for n in $NS; do
  printf 'N=%-8s after the last advert (ms) %s   over Master_Down_Interval (ms) %s   after the kill (ms) %s\n' "$n" \
    "$(awk -v n="$n" '$1 == n {print $2}' "$work/ok" | summary_range)" "$(awk -v n="$n" '$1 == n {print $3}' "$work/ok" | summary_range)" \
    "$(awk -v n="$n" '$1 == n {print $4}' "$work/ok" | summary_range)"
done
echo "raw results: $results"
[ "$failed" = 0 ] || { echo "$failed run(s) failed" >&2; exit 1; }
