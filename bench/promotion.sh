#!/usr/bin/env bash
# Promotion benchmark (issue #5): how long a backup holding N replicated flows needs to
# become a master whose kernel holds them all, and how many it loses.
#   reference: conntrackd 1.4.7 on both nodes; the backup runs primary-backup.sh's
#              primary step by hand: conntrackd -c, -f, -R, -B (timed together).
#   tandem:    `tandem run` on both nodes; the master is stopped (SIGTERM, priority 0).
# Both timed the same way from outside: from the trigger (the reference's `-c`; Tandem's
# SIGTERM) until the backup's kernel holds every replicated flow (ctbulk's 1-ms sampler
# of nf_conntrack_count). Tandem's own log figures (commit done, VIPs up) are printed
# beside. After each Tandem run, the kernel's ceiling in the same namespace: ctbulk alone
# inserting N into B's emptied table (with A's flows still held, then without), against
# the promotion's commit rate by the daemon's clock ("Committed N new entries" / "commit
# has taken", with TANDEM_COMMIT_TIMING's per-phase line kept in the raw results).
# RUNS iterations (default 5), per-run ratios summarised as median (min-max); a run that
# fails (incomplete replication, a kernel that never holds the flows, a promotion
# that never completes) is reported as failed and makes the script exit non-zero. Raw
# results: bench/results/promotion-*.jsonl.
# Two namespaces (tdp-a-PID, tdp-b-PID) joined by one veth carry VRRP and the sync link;
# everything is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
need_root bench/promotion.sh
scripts/install-deps.sh
N=${N:-250000}
work=$(mktemp -d)
# PREFIX names the namespaces (a session running benches beside others passes its own).
a="${PREFIX:-tdp}-a-$$"; b="${PREFIX:-tdp}-b-$$"
pids=()
cleanup() {
  stop_pids
  ip netns del "$a" 2>/dev/null || true; ip netns del "$b" 2>/dev/null || true
  restore_conntrack_max
  rm -rf "$work"
}
trap cleanup EXIT
raise_conntrack_max "$N"
# MASTER_STOP: the signal that ends Tandem's master (TERM, the default, resigns with
# priority 0; KILL leaves the backup to wait out Master_Down_Interval, by which time the
# master's exit no longer shares this machine's CPUs with the backup's commit).
MASTER_STOP=${MASTER_STOP:-TERM}
case "$MASTER_STOP" in TERM|KILL) ;; *) echo "MASTER_STOP must be TERM or KILL, not $MASTER_STOP" >&2; exit 2;; esac
# RATE: ctbulk's insert pace in flows/s (0, the default, is flat out).
RATE=${RATE:-0}
hash=$((N > 262144 ? N : 262144))
build_ctbulk "$work/ctbulk"
build_release tandem
T=$PWD/$SCRATCH/release/tandem
veth_pair "$a" "$b" tdpa0 tdpb0 172.31.98.1/24 172.31.98.2/24

conntrackd_conf() { # name self peer dev
  cat > "$work/$1.conf" <<CONF
Sync {
    Mode FTFW {
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
            IPv4_address 172.31.98.1
            IPv4_address 172.31.98.2
            IPv4_address 172.31.98.100
        }
    }
}
CONF
}
keepalived_conf() { # name state priority self peer dev
  cat > "$work/$1-k.conf" <<CONF
vrrp_instance P {
    state $2
    interface $6
    virtual_router_id 61
    priority $3
    advert_int 1
    unicast_src_ip $4
    unicast_peer {
        $5
    }
    virtual_ipaddress {
        172.31.98.100/24 dev $6
    }
}
CONF
}
conntrackd_conf a 172.31.98.1 172.31.98.2 tdpa0
conntrackd_conf b 172.31.98.2 172.31.98.1 tdpb0
keepalived_conf a MASTER 100 172.31.98.1 172.31.98.2 tdpa0
keepalived_conf b BACKUP 50 172.31.98.2 172.31.98.1 tdpb0

external() { # the backup's external cache size, asked over its control socket
  ip netns exec "$b" "$T" conntrackd -C "$work/b.conf" -s 2>/dev/null | awk '/cache external/{f=1} f && /current active/{print $NF; exit}'
}
wait_external() { # until N arrived, or the count stops growing for 10 s (a lossy peer)
  local last=-1 still=0 now
  for _ in $(seq 1 600); do
    now=$(external); now=${now:-0}
    [ "$now" -ge "$N" ] && break
    if [ "$now" = "$last" ]; then still=$((still + 1)); [ "$still" -ge 20 ] && break; else still=0; fi
    last=$now
    sleep 0.5
  done
  external
}
# The benchmark's own flows in a node's kernel (ctbulk: 10.64.x.x → 172.20.0.1:80), so
# that the node's VRRP and sync flows never count as replicated ones.
bench_flows() { ip netns exec "$1" conntrack -L -p tcp -d 172.20.0.1 --dport 80 2>/dev/null | wc -l; }
flush_kernels() { ip netns exec "$a" "$work/ctbulk" flush >/dev/null; ip netns exec "$b" "$work/ctbulk" flush >/dev/null; }

# The same clock for both: from the moment the promotion is triggered (the reference's
# `conntrackd -c`, as keepalived would run primary-backup.sh; Tandem's master stopped with
# SIGTERM) until the backup's kernel holds every flow, read by ctbulk's 1-ms sampler of
# nf_conntrack_count inside the backup's namespace.
real_ns() { date +%s%N; }
sampled_ns() { sed -n 's/^op=waitcount reached=1 .* t_ns=\([0-9]*\).*/\1/p' "$work/sampler"; }
results=$(results_file promotion)
RUNS=${RUNS:-5}
meta="$(results_meta),\"n\":$N,\"insert_rate\":$RATE,\"loadavg_1m\":$(cut -d' ' -f1 /proc/loadavg),\"runs\":$RUNS,\"reference\":$([ -n "${SKIP_REFERENCE:-}" ] && echo false || echo true),\"sampler\":\"ctbulk waitcount, 1 ms\",\"master_stop\":\"$MASTER_STOP\""
failed=0
: > "$work/ok"
for run in $(seq 1 "$RUNS"); do
ref_fail=""
if [ -z "${SKIP_REFERENCE:-}" ]; then
ip netns exec "$a" conntrackd -C "$work/a.conf" >/dev/null 2>&1 & pids+=($!)
ip netns exec "$b" conntrackd -C "$work/b.conf" >/dev/null 2>&1 & pids+=($!)
sleep 1
ip netns exec "$a" "$work/ctbulk" insert "$N" --batch 1000 --rate "$RATE" --timeout 3600 >/dev/null
ref_have=$(wait_external); ref_have=${ref_have:-0}
base=$(ip netns exec "$b" cat /proc/sys/net/netfilter/nf_conntrack_count)
ip netns exec "$b" "$work/ctbulk" waitcount $((base + ref_have)) --timeout 120 > "$work/sampler" 2>&1 & sp=$!
sleep 0.05
t0=$(real_ns)
for step in -c -f -R -B; do ip netns exec "$b" conntrackd -C "$work/b.conf" $step >/dev/null 2>&1; done
t1=$(real_ns)
wait "$sp" || true
ref_reached=$(sampled_ns)
ref_kernel=$(bench_flows "$b")
[ -n "$ref_reached" ] || ref_fail="reference: the backup's kernel never held the $ref_have replicated flows"
ref_s=$(echo "scale=3; (${ref_reached:-$t1} - $t0) / 1000000000" | bc)
ref_steps_s=$(echo "scale=3; ($t1 - $t0) / 1000000000" | bc)
stop_pids
flush_kernels
rm -f "$work"/*.lock "$work"/*.ctl
else ref_have=0 ref_kernel=0 ref_s=- ref_steps_s=-; fi

ip netns exec "$a" "$T" run --keepalived-config "$work/a-k.conf" --conntrackd-config "$work/a.conf" 2>"$work/a.run.log" & pids+=($!)
for _ in $(seq 1 100); do ip -n "$a" -4 -o addr show | grep -q " 172.31.98.100/" && break; sleep 0.1; done
TANDEM_COMMIT_TIMING=1 ip netns exec "$b" "$T" run --keepalived-config "$work/b-k.conf" --conntrackd-config "$work/b.conf" 2>"$work/b.run.log" & pids+=($!)
sleep 2
ip netns exec "$a" "$work/ctbulk" insert "$N" --batch 1000 --rate "$RATE" --timeout 3600 >/dev/null
tan_have=$(wait_external); tan_have=${tan_have:-0}
if [ -n "${DEBUG:-}" ]; then
  echo "A's kernel: $(ip netns exec "$a" conntrack -C)"
  for n in a b; do echo "-- $n"; ip netns exec "${!n}" "$T" conntrackd -C "$work/$n.conf" -s | head -4; done
  grep -v "Entering\|priority" "$work/a.run.log" | tail -5
fi
base=$(ip netns exec "$b" cat /proc/sys/net/netfilter/nf_conntrack_count)
ip netns exec "$b" "$work/ctbulk" waitcount $((base + tan_have)) --timeout 120 > "$work/sampler" 2>&1 & sp=$!
sleep 0.05
t0=$(real_ns)
kill -"$MASTER_STOP" "${pids[0]}"
wait "$sp" || true
tan_reached=$(sampled_ns)
for _ in $(seq 1 200); do grep -q "addresses added" "$work/b.run.log" && break; sleep 0.05; done
for _ in $(seq 1 200); do grep -q "all master actions done" "$work/b.run.log" && break; sleep 0.05; done
line=$(grep -E "master actions|internal cache reloaded" "$work/b.run.log" | tail -2)
added=$(grep "addresses added" "$work/b.run.log" | tail -1 | sed -n 's/.*announced \([0-9.]*\) ms.*/\1/p')
done_ms=$(grep "all master actions done" "$work/b.run.log" | tail -1 | sed -n 's/.*done \([0-9.]*\) ms.*/\1/p')
overruns_a=$(grep -c "overrun" "$work/a.run.log" || true)
tan_kernel=$(bench_flows "$b")
# The promotion's commit by the daemon's own clock (conntrackd's two lines, which `tandem
# run` logs too), and its per-phase line: the rate the ceiling below is compared with.
committed=$(grep "Committed [0-9]* new entries" "$work/b.run.log" | tail -1 | sed -n 's/.*Committed \([0-9]*\) new.*/\1/p')
commit_secs=$(grep "commit has taken" "$work/b.run.log" | tail -1 | sed -n 's/.*taken \([0-9.]*\) seconds.*/\1/p')
timing=$(grep "commit timing:" "$work/b.run.log" | tail -1 | sed 's/.*commit timing: //; s/"/'"'"'/g')
tan_fail=""
[ -n "$tan_reached" ] || tan_fail="tandem: the backup's kernel never held the $tan_have replicated flows"
[ -n "$done_ms" ] || tan_fail="${tan_fail:+$tan_fail; }tandem's promotion never logged \"all master actions done\""
[ -n "$added" ] || tan_fail="${tan_fail:+$tan_fail; }tandem never logged \"addresses added\""
[ -n "$committed" ] && [ -n "$commit_secs" ] || tan_fail="${tan_fail:+$tan_fail; }tandem's promotion logged no \"Committed N new entries\" and \"commit has taken\" lines"
tan_s=$(echo "scale=3; (${tan_reached:-$t0} - $t0) / 1000000000" | bc)
tan_log_s=$(echo "scale=3; ${done_ms:-0} / 1000" | bc)
tan_vip=$(echo "scale=3; ${added:-0} / 1000" | bc)
stop_pids
rm -f "$work"/*.lock "$work"/*.ctl
# The ceiling in the same namespace, right after, with no daemon and no listener: ctbulk
# inserting N into B's emptied table, by its own clock and timed from outside; first while
# A's kernel still holds its N flows, as it did during the promotion (one host, so one
# conntrack hash table for both namespaces: A's flows lengthen the chains B's inserts
# walk), then with A's flushed too.
ip netns exec "$b" "$work/ctbulk" flush >/dev/null
a_held=$(ip netns exec "$a" cat /proc/sys/net/netfilter/nf_conntrack_count)
read -r c_rate c_wall < <(ctbulk_insert_rate "$b" "$work/ctbulk" "$N")
flush_kernels
read -r ce_rate ce_wall < <(ctbulk_insert_rate "$b" "$work/ctbulk" "$N")
flush_kernels
[ "$c_rate" != 0 ] && [ "$ce_rate" != 0 ] || tan_fail="${tan_fail:+$tan_fail; }no rate from ctbulk in B"
t_rate=0
[ -z "$commit_secs" ] || [ "$(echo "$commit_secs > 0" | bc)" != 1 ] || t_rate=$(echo "${committed:-0} / $commit_secs" | bc)
c_ratio=0; ce_ratio=0
[ "$c_rate" = 0 ] || c_ratio=$(echo "scale=3; $t_rate / $c_rate" | bc)
[ "$ce_rate" = 0 ] || ce_ratio=$(echo "scale=3; $t_rate / $ce_rate" | bc)

outcome=ok
[ "$ref_have" -ge "$N" ] || [ -n "${SKIP_REFERENCE:-}" ] || ref_fail="${ref_fail:+$ref_fail; }reference replicated only $ref_have of $N"
[ "$tan_have" -ge "$N" ] || tan_fail="${tan_fail:+$tan_fail; }tandem replicated only $tan_have of $N"
if [ -n "$ref_fail$tan_fail" ]; then outcome="$ref_fail${ref_fail:+${tan_fail:+; }}$tan_fail"; fi
# Without the reference (SKIP_REFERENCE) there is no ratio, and its fields are null in the
# raw results rather than a stand-in figure a report could take for a measured one.
ratio=-
[ -n "${SKIP_REFERENCE:-}" ] || [ "$(echo "$ref_s > 0" | bc)" != 1 ] || ratio=$(echo "scale=3; $tan_s / $ref_s" | bc)
printf 'run %s: %s reference %s s (-c -f -R -B %s s, %s of %s in the kernel), tandem %s s (log %.3f s, VIPs %.3f s, %s of %s in the kernel), ratio %s; promotion commit %s flows/s, ctbulk %s flows/s (wall %s) beside the %s flows A held, ratio %s; ctbulk into an empty table %s flows/s, ratio %s\n' \
  "$run" "$outcome" "$ref_s" "$ref_steps_s" "$ref_kernel" "$N" "$tan_s" "$tan_log_s" "$tan_vip" "$tan_kernel" "$N" "$ratio" "$t_rate" "$c_rate" "$c_wall" "$a_held" "$c_ratio" "$ce_rate" "$ce_ratio"
num() { printf '%.3f' "$1"; }
if [ -n "${SKIP_REFERENCE:-}" ]; then
  ref_json='"reference_secs":null,"reference_steps_secs":null,"reference_replicated":null,"reference_kernel":null'
else
  ref_json="\"reference_secs\":$(num "$ref_s"),\"reference_steps_secs\":$(num "$ref_steps_s"),\"reference_replicated\":$ref_have,\"reference_kernel\":$ref_kernel"
fi
echo "{$meta,\"run\":$run,\"outcome\":\"$outcome\",$ref_json,\"tandem_secs\":$(num "$tan_s"),\"tandem_log_secs\":$(num "$tan_log_s"),\"tandem_vips_secs\":$(num "$tan_vip"),\"tandem_replicated\":$tan_have,\"tandem_kernel\":$tan_kernel,\"master_overrun_lines\":$overruns_a,\"tandem_committed\":${committed:-0},\"tandem_commit_secs\":$(num "${commit_secs:-0}"),\"tandem_commit_rate\":$t_rate,\"ctbulk_rate\":$c_rate,\"ctbulk_wall_rate\":$c_wall,\"ctbulk_peer_table\":$a_held,\"ctbulk_empty_table_rate\":$ce_rate,\"ctbulk_empty_table_wall_rate\":$ce_wall,\"tandem_commit_timing\":\"$timing\"}" >> "$results"
if [ "$outcome" = ok ]; then
  if [ -n "${SKIP_REFERENCE:-}" ]; then ref_lost=-; else ref_lost=$((N - ref_kernel)); fi
  echo "$ref_s $tan_s $ratio $ref_lost $((N - tan_kernel)) $tan_vip $t_rate $c_rate $c_ratio $ce_rate $ce_ratio" >> "$work/ok"
else
  failed=$((failed + 1)); echo "FAILED run $run: $outcome" >&2
  grep -v "Entering\|priority" "$work/b.run.log" | tail -10 >&2
fi
done

col() { awk -v c="$1" '{print $c}' "$work/ok" | summary_range; }
echo "== $N flows, medians (min-max) over the good runs of $RUNS; failed runs: $failed"
printf '%-44s %s\n' "reference: trigger to all flows in the kernel (s)" "$(col 1)"
printf '%-44s %s\n' "tandem: trigger to all flows in the kernel (s)" "$(col 2)"
printf '%-44s %s\n' "ratio tandem / reference (per run)" "$(col 3)"
printf '%-44s %s\n' "tandem: VIPs up after its transition (s)" "$(col 6)"
printf '%-44s %s\n' "tandem: promotion commit, flows/s (its log)" "$(col 7)"
printf '%-44s %s\n' "ctbulk in B, A's flows held, flows/s" "$(col 8)"
printf '%-44s %s\n' "ratio promotion commit / that (per run)" "$(col 9)"
printf '%-44s %s\n' "ctbulk in B, both tables empty, flows/s" "$(col 10)"
printf '%-44s %s\n' "ratio promotion commit / that (per run)" "$(col 11)"
printf '%-44s %s\n' "flows lost, reference" "$(col 4)"
printf '%-44s %s\n' "flows lost, tandem" "$(col 5)"
echo "raw results: $results"
[ "$failed" = 0 ] || { echo "$failed run(s) failed" >&2; exit 1; }
