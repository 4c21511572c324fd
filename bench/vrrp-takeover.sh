#!/usr/bin/env bash
# Takeover latency, Tandem vs keepalived 2.2.7, in namespaces created and removed here.
#
# Two routers of the same implementation (master priority 150 on side a, backup 100 on
# side b) share a bridged segment; tcpdump on the backup's interface timestamps every
# advert. Events:
#   kill  SIGKILL of the master's advertising process: latency from the signal, and from
#         the master's last advert (what the backup's down timer actually counts from), to
#         the backup's first advert. Target: Master_Down_Interval + 20 ms.
#   stop  SIGTERM of the master: from the signal, and from its priority-0 advert, to the
#         backup's first advert. Target: skew time + 20 ms.
# Modes: v2 with advert_int 1, v3 with advert_int 0.1. The implementations alternate within
# each iteration. Prints medians over the good runs, per-run Tandem/keepalived ratios as
# median (min-max) and the verdict against the targets; a run where no takeover was seen is
# reported as failed, counted in no median, and makes the script exit non-zero. Raw per-run
# results: bench/results/vrrp-takeover-*.jsonl (`bench/report` reads them).
#
# Usage: bench/vrrp-takeover.sh [-n RUNS] [-m "v2 v3"] [-i "tandem keepalived"]
#        TANDEM_BIN=path (default: a release build made here)
set -euo pipefail

RUNS=5
MODES="v2 v3"
IMPLS="tandem keepalived"
while getopts "n:m:i:" opt; do
    case $opt in
        n) RUNS=$OPTARG ;;
        m) MODES=$OPTARG ;;
        i) IMPLS=$OPTARG ;;
        *) echo "usage: $0 [-n RUNS] [-m MODES] [-i IMPLS]" >&2; exit 2 ;;
    esac
done
[ "$(id -u)" = 0 ] || { echo "$0: needs root (network namespaces)" >&2; exit 1; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
"$ROOT/scripts/install-deps.sh"
for tool in ip tcpdump awk; do command -v $tool >/dev/null || { echo "$0: needs $tool" >&2; exit 1; }; done
TANDEM_BIN=${TANDEM_BIN:-}
if [ -z "$TANDEM_BIN" ]; then
    "$ROOT/scripts/build-release" --product tandem >/dev/null
    TANDEM_BIN=$ROOT/.build/release/tandem
fi
KEEPALIVED_BIN=${KEEPALIVED_BIN:-/usr/sbin/keepalived}

TAG=$$
NA=tdk-a-$TAG NB=tdk-b-$TAG NS=tdk-s-$TAG
IFA=tdk${TAG}a IFB=tdk${TAG}b
WORK=$(mktemp -d /tmp/tdk-bench.XXXXXX)
PIDS=()

cleanup() {
    # Only what this script started, by PID.
    for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true; done
    for f in "$WORK"/*/kv.pid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null || true; done
    for n in $NA $NB $NS; do ip netns del $n 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

setup() {
    for n in $NA $NB $NS; do ip netns add $n; ip -n $n link set lo up; done
    ip -n $NS link add br0 type bridge
    ip -n $NS link set br0 up
    ip link add $IFA netns $NA type veth peer name pa netns $NS
    ip link add $IFB netns $NB type veth peer name pb netns $NS
    for p in pa pb; do ip -n $NS link set $p master br0; ip -n $NS link set $p up; done
    ip -n $NA addr add 10.78.0.1/24 dev $IFA; ip -n $NA link set $IFA up
    ip -n $NB addr add 10.78.0.2/24 dev $IFB; ip -n $NB link set $IFB up
}

# config SIDE PRIORITY VERSION INTERVAL
config() {
    local ifname=$IFA
    [ "$1" = b ] && ifname=$IFB
    cat <<CONF
global_defs {
  router_id tdk-$1
}
vrrp_instance VI_1 {
  state BACKUP
  interface $ifname
  virtual_router_id 77
  priority $2
  version $3
  advert_int $4
  virtual_ipaddress {
    10.78.0.100/24
  }
}
CONF
}

# start IMPL SIDE PRIORITY VERSION INTERVAL → sets STARTED_PID, writes $WORK/SIDE/
start() {
    local impl=$1 side=$2 dir=$WORK/$2 ns=$NA
    [ "$side" = b ] && ns=$NB
    rm -rf "$dir"; mkdir -p "$dir"
    config "$side" "$3" "$4" "$5" > "$dir/keepalived.conf"
    if [ "$impl" = tandem ]; then
        ip netns exec $ns env TMPDIR="$dir" "$TANDEM_BIN" keepalived -n -l -f "$dir/keepalived.conf" -p "$dir/k.pid" -r "$dir/kv.pid" \
            >"$dir/log" 2>&1 &
    else
        ip netns exec $ns env TMPDIR="$dir" "$KEEPALIVED_BIN" -n -l -P -R -f "$dir/keepalived.conf" -p "$dir/k.pid" -r "$dir/kv.pid" \
            -c "$dir/kc.pid" -b "$dir/kb.pid" >"$dir/log" 2>&1 &
    fi
    STARTED_PID=$!
    PIDS+=("$STARTED_PID")
}

holds_vip() { ip -n "$1" -4 -br addr | grep -q '10.78.0.100/'; }

# wait_for SECONDS COMMAND...: bounded polling
wait_for() {
    local limit=$1; shift
    local end=$(( $(date +%s%N) + limit * 1000000000 ))
    until "$@"; do
        [ "$(date +%s%N)" -lt $end ] || return 1
        sleep 0.02
    done
}

stop_pid() {
    kill -TERM "$1" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.05; done
    kill -9 "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# one IMPL VERSION INTERVAL EVENT → prints "from_signal from_packet" in ms, or "fail"
one() {
    local impl=$1 version=$2 interval=$3 event=$4
    start "$impl" a 150 "$version" "$interval"; local master=$STARTED_PID
    if ! wait_for 15 holds_vip $NA; then echo fail; stop_pid $master; return; fi
    start "$impl" b 100 "$version" "$interval"; local backup=$STARTED_PID
    ip netns exec $NB tcpdump -i $IFB -nn -tt -l --immediate-mode 'ip proto 112' >"$WORK/cap" 2>/dev/null &
    local dump=$!
    PIDS+=("$dump")
    # The backup must have heard a few adverts (and keepalived left its start-up FAULT).
    sleep "$(awk -v i="$interval" 'BEGIN { print (i * 4 > 2.5 ? i * 4 : 2.5) }')"
    local victim=$master
    [ "$impl" = keepalived ] && victim=$(cat "$WORK/a/kv.pid")
    local t0
    t0=$(date +%s.%N)
    if [ "$event" = kill ]; then kill -9 "$victim"; else kill -TERM "$master"; fi
    if ! wait_for 10 holds_vip $NB; then echo fail; else
        sleep 0.1
        awk -v t0="$t0" -v ev="$event" '
            $3 == "10.78.0.1" && $1 <= t0 + 0.5 { last = $1; if ($0 ~ /prio 0,/) zero = $1 }
            $3 == "10.78.0.2" && $1 >= t0 && first == "" { first = $1 }
            END {
                ref = (ev == "stop" ? zero : last)
                if (first == "" || ref == "") { print "fail"; exit }
                printf "%.1f %.1f\n", (first - t0) * 1000, (first - ref) * 1000
            }' "$WORK/cap"
    fi
    kill "$dump" 2>/dev/null || true; wait "$dump" 2>/dev/null || true
    stop_pid $backup
    stop_pid $master
    [ "$impl" = keepalived ] && [ -f "$WORK/a/kv.pid" ] && kill -9 "$(cat "$WORK/a/kv.pid")" 2>/dev/null || true
    sleep 0.2
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) { print "-"; exit } if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# targets in ms for the backup (priority 100)
target() {
    awk -v v="$1" -v i="$2" -v ev="$3" 'BEGIN {
        skew = (v == 2 ? (256 - 100) / 256 : (256 - 100) * i / 256)
        t = (ev == "kill" ? 3 * i + skew : skew)
        printf "%.1f\n", t * 1000 + 20 }'
}

setup
. bench/record.sh
results=$(results_file vrrp-takeover)
meta="$(results_meta),\"runs\":$RUNS,\"capture\":\"tcpdump -tt on the backup's interface\""
echo "# VRRP takeover, $RUNS run(s) each; tandem=$TANDEM_BIN; $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
printf "%-10s %-4s %-5s %-6s %12s %12s %10s %s\n" impl mode event failed "from-signal" "from-packet" target verdict
failed_total=0
for mode in $MODES; do
    if [ "$mode" = v2 ]; then version=2; interval=1; else version=3; interval=0.1; fi
    for event in kill stop; do
        tgt=$(target $version $interval $event)
        for impl in $IMPLS; do : >"$WORK/sig-$impl"; : >"$WORK/pkt-$impl"; echo 0 >"$WORK/failed-$impl"; done
        : >"$WORK/ratio"
        # The implementations alternate within each iteration, so a per-run ratio compares
        # two runs made under the same load.
        for run in $(seq 1 "$RUNS"); do
            declare -A PKT=()
            for impl in $IMPLS; do
                r=$(one "$impl" $version $interval $event)
                if [ "$r" = fail ]; then
                    echo $(( $(cat "$WORK/failed-$impl") + 1 )) >"$WORK/failed-$impl"
                    echo "FAILED run: $impl $mode $event run $run (no takeover seen within 10 s, or no advert captured)" >&2
                    echo "{$meta,\"impl\":\"$impl\",\"mode\":\"$mode\",\"version\":$version,\"advert_int\":$interval,\"event\":\"$event\",\"run\":$run,\"outcome\":\"failed\",\"target_ms\":$tgt}" >>"$results"
                    continue
                fi
                echo "${r% *}" >>"$WORK/sig-$impl"; echo "${r#* }" >>"$WORK/pkt-$impl"; PKT[$impl]=${r#* }
                echo "{$meta,\"impl\":\"$impl\",\"mode\":\"$mode\",\"version\":$version,\"advert_int\":$interval,\"event\":\"$event\",\"run\":$run,\"outcome\":\"ok\",\"from_signal_ms\":${r% *},\"from_packet_ms\":${r#* },\"target_ms\":$tgt}" >>"$results"
            done
            if [[ -n "${PKT[tandem]:-}" && -n "${PKT[keepalived]:-}" ]]; then
                awk -v t="${PKT[tandem]}" -v k="${PKT[keepalived]}" 'BEGIN { if (k > 0) printf "%.3f\n", t / k }' >>"$WORK/ratio"
            fi
            unset PKT
        done
        for impl in $IMPLS; do
            f=$(cat "$WORK/failed-$impl"); failed_total=$((failed_total + f))
            ms=$(median <"$WORK/sig-$impl"); mp=$(median <"$WORK/pkt-$impl")
            verdict=$(awk -v m="$mp" -v t="$tgt" 'BEGIN { if (m == "-") print "no data"; else print (m + 0 <= t + 0 ? "within" : "OVER") }')
            printf "%-10s %-4s %-5s %-6s %12s %12s %10s %s\n" "$impl" "$mode" "$event" "$f/$RUNS" "$ms" "$mp" "$tgt" "$verdict"
        done
        if [ -s "$WORK/ratio" ]; then
            echo "  ratio tandem/keepalived $mode $event, from-packet, per run: $(summary_range <"$WORK/ratio")"
        fi
    done
done
echo "# from-signal: SIGKILL/SIGTERM to the backup's first advert; from-packet: master's last advert (kill) or its priority-0 advert (stop) to the backup's first advert. Times in ms; medians over the good runs; failed runs are counted in no median."
echo "raw results: $results"
[ "$failed_total" = 0 ] || { echo "$failed_total run(s) failed" >&2; exit 1; }
