#!/usr/bin/env bash
# A million flows (issue #18 item 3): replication, commit and resync after a peer restart
# at N flows, conntrackd 1.4.7 against `tandem conntrackd`, with CPU and peak RSS per flow.
# One pair per implementation and run (the same conntrackd.conf for both, FTFW over UDP,
# external cache on), in three phases:
#   replication  ctbulk makes N flows in A's kernel (batches of 1,000, RATE flows/s, 0 =
#                flat out); `conntrack-bench watch` asks B's control socket every 10 ms
#                until its external cache holds N (or what A's internal cache holds, when
#                the sender itself missed kernel events: sender_has). CPU of A (the
#                sender) and of B during it, from each process's CPU clock (its ended
#                threads included; files before 2026-12-06T18:30Z summed its live
#                threads' schedstat and missed the commit's writer thread).
#                insert_errs (creates the inserter saw refused) and kernel_a (A's kernel
#                count afterwards) tell a sender that lost events from one never given them.
#   commit       B's `-c`, timed from outside: until both the client has returned and B's
#                kernel holds what A's internal cache held (ctbulk's 1-ms sampler of
#                nf_conntrack_count in B's namespace, which tracks nothing else); lost =
#                what A's internal cache held minus what B's kernel holds after it.
#   resync       B is stopped, its kernel flushed, started again; once its control socket
#                answers, `-n` asks A for its table. Timed from B's start until B's
#                external cache holds what A holds; CPU of A during it.
#   event floor  (impl "reader") no daemon: `conntrack-bench read-events` in A's namespace
#                reads the same N flow events as Tandem's sender reads them (recvmmsg
#                batches, its 500-µs rest after a read that emptied the socket), decodes
#                none, and sends 76 bytes per event to B in datagrams of 1,400 (a UDP sink
#                there), while ctbulk inserts as above; its CPU per flow
#                (cpu_a_rep_us_per_flow) is the kernel's price of taking the events in and
#                the replication out, which any event-driven sender pays before doing
#                anything of its own. Reported beside the senders, ratio to conntrackd's.
# Peak RSS per flow: (VmHWM − VmRSS before the flows) × 1024 / N, per daemon: A after all
# phases (its resync sending included), B's first process after its commit once it has
# settled (under 2% of a CPU for 1.5 s: settle_secs; the CPU it used meanwhile is
# cpu_b_settle_us_per_flow); the same after replication alone as
# rss_a_rep_bytes_per_flow / rss_b_rep_bytes_per_flow, and B's at the commit's end, before
# settling, as rss_b_commit_bytes_per_flow (where the peak is).
# Ratios Tandem / conntrackd are taken per run (the same iteration) and summarised as
# median (min-max). A run whose replication hits LIMIT, or whose commit leaves flows out,
# is reported as failed and kept out of the summaries; the script then exits non-zero.
# NS (default "100000 250000 1000000"), RUNS (default 5, what a published figure needs),
# LIMIT (seconds per phase, default 300). nf_conntrack_max is raised for the largest N
# and restored on exit. The 1-minute load average is recorded at each phase's start.
# Namespaces tcm-sa-PID / tcm-sb-PID (10.238.97.0/24); every daemon is stopped by PID.
# Raw results: bench/results/scale-<UTC>-<commit>.jsonl. KEEP_LOGS=DIR keeps both daemons'
# logs of each run there (B's with the resync's start time appended); with CAPTURE=1 also
# a capture of the sync link (headers only) during the resync phase, and with TRACE_SENDER=1
# an strace of A's socket calls then (it slows A: timings of such a run are not figures);
# with PROFILE_SENDER=1 a `perf record -g` of A during replication, for `perf report -i`
# (the sampling costs A a little: such a run's timings are not figures either).
# STEP=primary: B's commit phase is primary-backup.sh's whole primary step, `-c -f -R -B`
# one after the other (as keepalived's notify runs it), not `-c` alone; the records say
# "step":"primary", and the commit's time and CPU are those of the four requests.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
need_root bench/scale.sh
scripts/install-deps.sh
NS=${NS:-"100000 250000 1000000"}
RUNS=${RUNS:-5}
STEP=${STEP:-commit}
case "$STEP" in commit) steps="-c" ;; primary) steps="-c -f -R -B" ;; *) echo "STEP is commit or primary, not $STEP" >&2; exit 64 ;; esac
RATE=${RATE:-0}
LIMIT=${LIMIT:-300}
work=$(mktemp -d)
a="tcm-sa-$$"; b="tcm-sb-$$"
pids=()
# Daemons are started inside command substitutions (subshells, whose `pids` the exit trap
# does not see): each start is also written to $work/started, and the exit stops those
# still running a conntrackd.
cleanup() {
  stop_pids
  # The event floor's reader and sink (each also bounded by LIMIT).
  if [ -f "$work/helpers" ]; then
    for p in $(cat "$work/helpers"); do kill "$p" 2>/dev/null || true; done
  fi
  if [ -f "$work/started" ]; then
    while read -r p; do
      grep -q conntrackd "/proc/$p/cmdline" 2>/dev/null && kill "$p" 2>/dev/null || true
    done < "$work/started"
    sleep 1
    while read -r p; do
      grep -q conntrackd "/proc/$p/cmdline" 2>/dev/null && kill -9 "$p" 2>/dev/null || true
    done < "$work/started"
  fi
  ip netns del "$a" 2>/dev/null || true; ip netns del "$b" 2>/dev/null || true
  restore_conntrack_max
  rm -rf "$work"
}
trap cleanup EXIT
largest=$(echo $NS | tr ' ' '\n' | sort -n | tail -1)
raise_conntrack_max "$largest"
build_ctbulk "$work/ctbulk"
build_release tandem conntrack-bench
T=$PWD/$SCRATCH/release/tandem
CB=$PWD/$SCRATCH/release/conntrack-bench
hash=$((largest > 262144 ? largest : 262144))

conf() { # name self peer dev
  cat > "$work/$1.conf" <<CONF
Sync {
    Mode FTFW {
        DisableExternalCache Off
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
    UNIX { Path $work/$1.ctl }
    NetlinkBufferSize 67108864
    NetlinkBufferSizeMaxGrowth 67108864
    NetlinkOverrunResync 5
}
CONF
}

field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
# CPU in microseconds, exited threads included (`cpu_us`, bench/lib.sh).
cpu() { cpu_us "$1"; }
hwm() { awk '/VmHWM/{print $2}' "/proc/$1/status"; }
rss() { awk '/VmRSS/{print $2}' "/proc/$1/status"; }
load() { cut -d' ' -f1 /proc/loadavg; }
kernel_flows() { ip netns exec "$1" cat /proc/sys/net/netfilter/nf_conntrack_count; }
per_flow() { printf '%.3f' "$(echo "$1 / $2" | bc -l)"; }
now() { date +%s.%N; }

start() { # impl node → pid
  local cli
  if [ "$1" = tandem ]; then cli="$T conntrackd"; else cli=conntrackd; fi
  rm -f "$work/$2.lock" "$work/$2.ctl"
  ip netns exec "${!2}" $cli -C "$work/$2.conf" >>"$work/$2.out" 2>&1 &
  echo $! >> "$work/started"
  echo $!
}
client() { # impl node args...
  local impl=$1 node=$2; shift 2
  if [ "$impl" = tandem ]; then "$T" conntrackd -C "$work/$node.conf" "$@"; else conntrackd -C "$work/$node.conf" "$@"; fi
}
answers() { # impl node: the control socket is up
  for _ in $(seq 1 100); do client "$1" "$2" -s >/dev/null 2>&1 && return 0; sleep 0.05; done
  return 1
}
settle() { # pid → seconds until it has used under 2% of a CPU for 1.5 s (at most LIMIT)
  local t0 c0 c1 idle=0; t0=$(now); c0=$(cpu "$1")
  for _ in $(seq 1 $((LIMIT * 2))); do
    sleep 0.5; c1=$(cpu "$1"); echo "$((c1 - c0))" >> "$work/settle.trace"
    if [ $((c1 - c0)) -lt 10000 ]; then idle=$((idle + 1)); else idle=0; fi
    c0=$c1
    [ "$idle" -ge 3 ] && break
  done
  echo "$(now) - $t0" | bc
}
stop_one() { # pid: SIGTERM, up to 5 s, then SIGKILL
  kill "$1" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true
}

# One run of one implementation at N flows; prints one result line of key=value pairs.
run() {
  local impl=$1 n=$2
  ip netns del "$a" 2>/dev/null || true; ip netns del "$b" 2>/dev/null || true
  veth_pair "$a" "$b" tcmsa0 tcmsb0 10.238.97.1/24 10.238.97.2/24
  conf a 10.238.97.1 10.238.97.2 tcmsa0
  conf b 10.238.97.2 10.238.97.1 tcmsb0
  : > "$work/a.out"; : > "$work/b.out"
  local pa pb; pa=$(start "$impl" a); pids+=("$pa"); pb=$(start "$impl" b); pids+=("$pb")
  answers "$impl" a; answers "$impl" b
  # The pair settles before the burst (Tandem's first plain message waits for the peer's
  # 1-s alive tick after its HELLO).
  sleep 4
  local base_a base_b ca0 cb0 t0 w l_rep
  base_a=$(rss "$pa"); base_b=$(rss "$pb"); ca0=$(cpu "$pa"); cb0=$(cpu "$pb"); l_rep=$(load)
  t0=$(now)
  "$CB" watch --receiver "$work/b.ctl" --sender "$work/a.ctl" --target "$n" --since "$t0" --timeout "$LIMIT" > "$work/watch" &
  local pw=$!
  local profiler=""
  if [ -n "${KEEP_LOGS:-}" ] && [ -n "${PROFILE_SENDER:-}" ]; then
    mkdir -p "$KEEP_LOGS"
    perf record -q -g -F 2000 -o "$KEEP_LOGS/$impl-$n-a-replication.perf" -p "$pa" >/dev/null 2>&1 & profiler=$!
    sleep 0.5
  fi
  # The inserter's own count of refused creates, and A's kernel count once replication is
  # over: a sender short of N whose kernel is short too was not given the flows (a global
  # table still full of the last run's namespaces, for one), not a sender that lost events.
  local inserted; inserted=$(ip netns exec "$a" "$work/ctbulk" insert "$n" --batch 1000 --rate "$RATE" --timeout 3600)
  wait "$pw"
  if [ -n "$profiler" ]; then kill -INT "$profiler" 2>/dev/null || true; wait "$profiler" 2>/dev/null || true; fi
  local insert_errs kernel_a; insert_errs=$(field "$inserted" errs); kernel_a=$(kernel_flows "$a")
  w=$(cat "$work/watch")
  local rep_outcome rep_have sender rep_secs ca1 cb1
  rep_outcome=$(field "$w" outcome); rep_have=$(field "$w" have); sender=$(field "$w" sender_has); rep_secs=$(field "$w" secs)
  ca1=$(cpu "$pa"); cb1=$(cpu "$pb")
  # Where each peak is reached: after replication alone, before B's commit and A's resync answer.
  local hwm_a_rep hwm_b_rep; hwm_a_rep=$(hwm "$pa"); hwm_b_rep=$(hwm "$pb")
  # Commit: B's -c from outside (STEP=primary: -c -f -R -B).
  local l_com c0 c1 cb2 kernel_b
  l_com=$(load)
  # Until B's kernel holds what A held (ctbulk's 1-ms sampler): a client that returns
  # before the daemon's commit is done would otherwise flatter it.
  ip netns exec "$b" "$work/ctbulk" waitcount "$sender" --timeout "$LIMIT" > "$work/sampler" 2>&1 & local sp=$!
  c0=$(now)
  for step in $steps; do client "$impl" b "$step" >/dev/null 2>&1 || true; done
  c1=$(now)
  wait "$sp" || true
  local reached; reached=$(sed -n 's/^op=waitcount reached=1 .* t_ns=\([0-9]*\).*/\1/p' "$work/sampler")
  if [ -n "$reached" ]; then c1=$(echo "scale=9; if ($reached / 1000000000 > $c1) $reached / 1000000000 else $c1" | bc); fi
  cb2=$(cpu "$pb"); kernel_b=$(kernel_flows "$b")
  local hwm_b_commit hwm_b settle_secs; hwm_b_commit=$(hwm "$pb")
  # B's peak is read once B has settled: Tandem dumps the kernel table a second after a
  # quiet commit (to send what changed while its events were off), and conntrackd takes its
  # commit's own events into its internal cache after the client returns. Read at once, both
  # peaks missed that work (files before 2026-12-06T18Z).
  : > "$work/settle.trace"
  settle_secs=$(settle "$pb"); hwm_b=$(hwm "$pb"); local cb_settled; cb_settled=$(cpu "$pb")
  # Resync after a restart of B: a new process with empty caches and an empty kernel.
  stop_one "$pb"
  ip netns exec "$b" "$work/ctbulk" flush >/dev/null
  local l_res r0 ca2 pb2 res_outcome res_have res_secs
  local cap=""
  l_res=$(load)
  if [ -n "${KEEP_LOGS:-}" ] && [ -n "${CAPTURE:-}" ]; then
    mkdir -p "$KEEP_LOGS"
    ip netns exec "$a" timeout 60 tcpdump -i tcmsa0 -s 96 -w "$KEEP_LOGS/$impl-$n-resync.pcap" udp port 3780 2>/dev/null & cap=$!
    sleep 0.5
  fi
  local tracer=""
  if [ -n "${KEEP_LOGS:-}" ] && [ -n "${TRACE_SENDER:-}" ]; then
    strace -f -tt -e trace=sendmmsg,sendto,sendmsg,ppoll,poll,recvmmsg,recvfrom,recvmsg -o "$KEEP_LOGS/$impl-$n-a.strace" -p "$pa" 2>/dev/null & tracer=$!
    sleep 0.5
  fi
  ca2=$(cpu "$pa"); r0=$(now)
  pb2=$(start "$impl" b); pids+=("$pb2")
  answers "$impl" b
  client "$impl" b -n >/dev/null 2>&1 || true
  "$CB" watch --receiver "$work/b.ctl" --sender "$work/a.ctl" --target "$sender" --since "$r0" --timeout "$LIMIT" > "$work/watch2"
  w=$(cat "$work/watch2")
  res_outcome=$(field "$w" outcome); res_have=$(field "$w" have); res_secs=$(field "$w" secs)
  local ca3 hwm_a; ca3=$(cpu "$pa"); hwm_a=$(hwm "$pa")
  if [ -n "$cap" ]; then kill "$cap" 2>/dev/null || true; wait "$cap" 2>/dev/null || true; fi
  if [ -n "$tracer" ]; then kill "$tracer" 2>/dev/null || true; wait "$tracer" 2>/dev/null || true; fi
  if [ -n "${KEEP_LOGS:-}" ]; then
    mkdir -p "$KEEP_LOGS"
    { client "$impl" a -s network; ip netns exec "$a" cat /proc/net/snmp; ip netns exec "$a" ss -uamn; } \
      > "$KEEP_LOGS/$impl-$n-a-after-resync.txt" 2>&1 || true
  fi
  stop_pids
  if [ -n "${KEEP_LOGS:-}" ]; then
    mkdir -p "$KEEP_LOGS"
    local tag; tag="$impl-$n-$(date -u +%H%M%S)"
    cp "$work/a.out" "$KEEP_LOGS/$tag-a.log"; cp "$work/b.out" "$KEEP_LOGS/$tag-b.log"
    echo "resync_started=$r0" >> "$KEEP_LOGS/$tag-b.log"
    echo "settling, CPU µs per 0.5 s: $(tr '\n' ' ' < "$work/settle.trace")" >> "$KEEP_LOGS/$tag-b.log"
  fi
  local lost=$((sender - kernel_b))
  printf '%s n=%s rep_outcome=%s rep_have=%s sender_has=%s rep_secs=%s cpu_a_rep_us_per_flow=%s cpu_b_rep_us_per_flow=%s commit_secs=%.3f cpu_b_commit_us_per_flow=%s kernel_b=%s lost=%s res_outcome=%s res_have=%s res_secs=%s cpu_a_res_us_per_flow=%s rss_a_bytes_per_flow=%s rss_b_bytes_per_flow=%s rss_a_rep_bytes_per_flow=%s rss_b_rep_bytes_per_flow=%s rss_b_commit_bytes_per_flow=%s settle_secs=%.1f cpu_b_settle_us_per_flow=%s hwm_a_kib=%s hwm_b_kib=%s load_rep=%s load_commit=%s load_resync=%s insert_errs=%s kernel_a=%s\n' \
    "$impl" "$n" "$rep_outcome" "$rep_have" "$sender" "$rep_secs" "$(per_flow $((ca1 - ca0)) "$n")" "$(per_flow $((cb1 - cb0)) "$n")" \
    "$(echo "$c1 - $c0" | bc)" "$(per_flow $((cb2 - cb1)) "$n")" "$kernel_b" "$lost" "$res_outcome" "$res_have" "$res_secs" \
    "$(per_flow $((ca3 - ca2)) "$n")" "$(( (hwm_a - base_a) * 1024 / n ))" "$(( (hwm_b - base_b) * 1024 / n ))" \
    "$(( (hwm_a_rep - base_a) * 1024 / n ))" "$(( (hwm_b_rep - base_b) * 1024 / n ))" \
    "$(( (hwm_b_commit - base_b) * 1024 / n ))" "$settle_secs" "$(per_flow $((cb_settled - cb2)) "$n")" "$hwm_a" "$hwm_b" \
    "$l_rep" "$l_com" "$l_res" "${insert_errs:--}" "${kernel_a:--}"
}

# The event floor at N: a reader alone in A's namespace while ctbulk inserts N flows.
run_reader() {
  local n=$1
  ip netns del "$a" 2>/dev/null || true; ip netns del "$b" 2>/dev/null || true
  veth_pair "$a" "$b" tcmsa0 tcmsb0 10.238.97.1/24 10.238.97.2/24
  # B's side of the link: a socket that takes the datagrams (so no port-unreachable
  # comes back) and throws them away.
  ip netns exec "$b" timeout "$LIMIT" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 24)
s.bind(("10.238.97.2", 3780))
while True:
    s.recv(2048)
' 2>/dev/null & local ps=$!
  ip netns exec "$a" "$CB" read-events --target "$n" --seconds "$LIMIT" --relay 10.238.97.2:3780 > "$work/reader" 2>&1 & local pr=$!
  # This runs in a command substitution: the exit trap learns these pids from the file.
  echo "$ps $pr" >> "$work/helpers"
  # Subscribed before the first insert, or the run is void: right after a 1M run the
  # previous namespaces' teardown can hold a new process's start-up for seconds (two
  # readers that waited 5 s missed the first 3,000 events).
  local ready=0
  for _ in $(seq 1 "$((LIMIT * 10))"); do grep -q '^ready' "$work/reader" && { ready=1; break; }; sleep 0.1; done
  if [ "$ready" = 0 ]; then
    kill "$pr" "$ps" 2>/dev/null || true; wait "$pr" "$ps" 2>/dev/null || true
    printf 'reader n=%s events=0 overruns=0 rest_us=- relayed_datagrams=0 cpu_a_rep_us_per_flow=0 load_rep=%s insert_errs=- kernel_a=- ready=0\n' "$n" "$(load)"
    ip netns del "$a" 2>/dev/null || true; ip netns del "$b" 2>/dev/null || true
    return
  fi
  local l_rep; l_rep=$(load)
  local inserted; inserted=$(ip netns exec "$a" "$work/ctbulk" insert "$n" --batch 1000 --rate "$RATE" --timeout 3600)
  wait "$pr" || true
  local r; r=$(grep '^op=read-events' "$work/reader" || echo "op=read-events events=0 overruns=0 cpu_us=0")
  local events cpu_us; events=$(field "$r" events); cpu_us=$(field "$r" cpu_us)
  kill "$ps" 2>/dev/null || true; wait "$ps" 2>/dev/null || true
  printf 'reader n=%s events=%s overruns=%s rest_us=%s relayed_datagrams=%s cpu_a_rep_us_per_flow=%s load_rep=%s insert_errs=%s kernel_a=%s\n' \
    "$n" "$events" "$(field "$r" overruns)" "$(field "$r" rest_us)" "$(field "$r" relayed_datagrams)" "$(per_flow "$cpu_us" "$n")" "$l_rep" "$(field "$inserted" errs)" "$(kernel_flows "$a")"
  ip netns del "$a" 2>/dev/null || true; ip netns del "$b" 2>/dev/null || true
}

results=$(results_file scale)
settings="$(results_meta),\"step\":\"$STEP\",$([ -n "${KEEP_LOGS:-}" ] && [ -n "${PROFILE_SENDER:-}" ] && echo '\"profiled\":\"sender\",' || :)\"runs\":$RUNS,\"insert_rate\":$RATE,\"limit_secs\":$LIMIT,\"hash_size\":$hash,\"timing\":\"control-socket sampler 10 ms (replication, resync), commit until the last client ($steps) returned and B kernel held the flows (ctbulk waitcount 1 ms)\""
record() { # one result line → one JSON object
  echo "$1" | awk -v settings="$settings" -v good="$2" '{
    printf "{%s,\"impl\":\"%s\",\"outcome\":\"%s\"", settings, $1, good
    for (i = 2; i <= NF; i++) { split($i, kv, "="); v = kv[2]; if (v ~ /^-?[0-9.]+$/) { if (v ~ /^\./) v = "0" v; printf ",\"%s\":%s", kv[1], v } else printf ",\"%s\":\"%s\"", kv[1], v }
    print "}" }' >> "$results"
}
# Good: B got what A held, its kernel holds it after the commit, and the resync refilled
# it. conntrackd 1.4.7 missing kernel events as a sender (sender_has < N) is its own loss,
# reported, not a failed run; Tandem's sender must hold N.
good() {
  local line=$1
  if [ "${line%% *}" = reader ]; then
    [ "$(field "$line" events)" = "$(field "$line" n)" ] && [ "$(field "$line" overruns)" = 0 ]
    return
  fi
  [ "$(field "$line" rep_outcome)" = limit ] && return 1
  [ "$(field "$line" lost)" -gt 0 ] && return 1
  [ "$(field "$line" res_outcome)" = complete ] || return 1
  [ "${line%% *}" = tandem ] && [ "$(field "$line" sender_has)" -lt "$(field "$line" n)" ] && return 1
  return 0
}
echo "NS=$NS RUNS=$RUNS RATE=$RATE, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
failed=0
: > "$work/ok"
metrics="rep_secs cpu_a_rep_us_per_flow cpu_b_rep_us_per_flow commit_secs cpu_b_commit_us_per_flow res_secs cpu_a_res_us_per_flow rss_a_bytes_per_flow rss_b_bytes_per_flow rss_b_commit_bytes_per_flow lost"
for n in $NS; do
  for r in $(seq 1 "$RUNS"); do
    c=$(run conntrackd "$n"); echo "$c"
    t=$(run tandem "$n"); echo "$t"
    f=$(run_reader "$n"); echo "$f"
    fg=ok
    good "$f" || { fg=failed; failed=$((failed + 1)); echo "FAILED: $f" >&2; }
    cg=ok; tg=ok
    good "$c" || { cg=failed; failed=$((failed + 1)); echo "FAILED: $c" >&2; }
    good "$t" || { tg=failed; failed=$((failed + 1)); echo "FAILED: $t" >&2; }
    record "$c" "$cg"; record "$t" "$tg"; record "$f" "$fg"
    [ "$cg" = ok ] && echo "$c" >> "$work/ok"
    [ "$tg" = ok ] && echo "$t" >> "$work/ok"
    [ "$fg" = ok ] && echo "$f" >> "$work/ok"
    if [ "$cg" = ok ] && [ "$fg" = ok ]; then
      cv=$(field "$c" cpu_a_rep_us_per_flow); fv=$(field "$f" cpu_a_rep_us_per_flow)
      if [ "$(echo "$cv > 0" | bc)" = 1 ]; then echo "ratio n=$n floor_cpu $(echo "$fv / $cv" | bc -l)" >> "$work/ok"; fi
    fi
    if [ "$cg" = ok ] && [ "$tg" = ok ]; then
      for m in cpu_a_rep_us_per_flow rss_a_bytes_per_flow rss_b_bytes_per_flow commit_secs res_secs; do
        cv=$(field "$c" "$m"); tv=$(field "$t" "$m")
        if [ "$(echo "$cv > 0" | bc)" = 1 ]; then echo "ratio n=$n $m $(echo "$tv / $cv" | bc -l)" >> "$work/ok"; fi
      done
    fi
  done
done
echo "== medians (min-max) over good runs; failed runs: $failed"
for n in $NS; do
  for impl in conntrackd tandem; do
    for m in $metrics; do
      printf 'N=%-8s %-10s %-26s %s\n' "$n" "$impl" "$m" \
        "$(grep "^$impl n=$n " "$work/ok" | while read -r line; do field "$line" "$m"; done | summary_range)"
    done
  done
  for m in cpu_a_rep_us_per_flow rss_a_bytes_per_flow rss_b_bytes_per_flow commit_secs res_secs; do
    printf 'N=%-8s ratio tandem/conntrackd %-26s %s\n' "$n" "$m" "$(awk -v n="n=$n" -v m="$m" '$1 == "ratio" && $2 == n && $3 == m {print $4}' "$work/ok" | summary_range)"
  done
  printf 'N=%-8s event floor (reader) cpu_a_rep_us_per_flow %s; ratio reader/conntrackd %s\n' "$n" \
    "$(grep "^reader n=$n " "$work/ok" | while read -r line; do field "$line" cpu_a_rep_us_per_flow; done | summary_range)" \
    "$(awk -v n="n=$n" '$1 == "ratio" && $2 == n && $3 == "floor_cpu" {print $4}' "$work/ok" | summary_range)"
done
echo "raw results: $results"
[ "$failed" = 0 ] || { echo "$failed run(s) failed" >&2; exit 1; }
