#!/usr/bin/env bash
# Commit benchmark (issue #18): `conntrackd -c` (1.4.7) against `tandem conntrackd -c`, each
# after replicating the same N flows between two daemons of its own kind, with ctbulk (the
# C yardstick, ../shared/bench/ctbulk.c) and Tandem's batched create (conntrack-bench)
# inserting the same flows into the same empty namespace in the same run.
#
# Two namespaces (tqc-a-PID, tqc-b-PID) joined by a veth sync link (10.238.99.0/24). Flows
# made in A's kernel replicate into B's external cache over FTFW/UDP. Then, unless
# KEEP_PEER=1, node A's daemon is stopped and A's table flushed: any conntrack event
# listener anywhere on the host makes every insert ~3× slower (shared/notes/machine-facts),
# so a live peer measures the peer as much as the commit. Then B commits into an empty table.
#
# Two ceilings per run: ctbulk alone in B (no conntrack event listener anywhere, so the kernel
# gives new entries no event extension) and ctbulk with a DESTROY-only listener in B
# (`conntrack-bench listen-destroy`): what a correct commit runs beside, since it keeps
# destroys reported while it writes. The load average at each commit is recorded: the
# machine is shared, and the figures swing with it.
#
# Per run and implementation: the wall time of `-c` (the client returns once the daemon has
# written every flow; the count is then checked in the kernel) and the daemon's own figure
# ("commit has taken"); for Tandem the per-phase line TANDEM_COMMIT_TIMING=1 logs; for ctbulk
# its own rate and its wall rate; the number of other conntrack event listeners on the host
# (stray_listeners) at commit time, since they slow every figure of the run.
# RUNS iterations (default 5, what a published figure needs); a run whose replication or
# commit was incomplete, or that lacks a figure (no "commit has taken" line, no ctbulk or
# batched rate), is reported as failed, kept out of the summary, and makes the script exit
# non-zero.
# Raw results: bench/results/commit-<UTC>-<commit>.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
need_root bench/conntrackd-commit.sh
scripts/install-deps.sh
N=${N:-100000}
RUNS=${RUNS:-5}
KEEP_PEER=${KEEP_PEER:-0}
work=$(mktemp -d)
a="tqc-a-$$"; b="tqc-b-$$"
pids=()
cleanup() {
  stop_pids
  ip netns del "$a" 2>/dev/null || true; ip netns del "$b" 2>/dev/null || true
  restore_conntrack_max
  rm -rf "$work"
}
trap cleanup EXIT
# Above the default table size the global limit is raised for the run (restored on exit).
raise_conntrack_max "$N"
build_ctbulk "$work/ctbulk"
build_release conntrack-bench tandem
B=$PWD/$SCRATCH/release/conntrack-bench
T=${TANDEM:-$PWD/$SCRATCH/release/tandem}
veth_pair "$a" "$b" tqca0 tqcb0 10.238.99.1/24 10.238.99.2/24
hash=$((N > 262144 ? N : 262144))
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
    HashSize $hash
    HashLimit $((hash * 4))
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
conf a 10.238.99.1 10.238.99.2 tqca0
conf b 10.238.99.2 10.238.99.1 tqcb0
# Conntrack event listeners (NETLINK_NETFILTER sockets in groups 1-3) in every named namespace
# and the initial one, except namespace $1: what else slows the inserts on the host.
listeners() {
  local skip=$1 total=0 g
  for ns in "" $(ip netns list | awk '{print $1}'); do
    [ "$ns" = "$skip" ] && continue
    # Column 2 is the protocol (12: NETLINK_NETFILTER), column 4 the group bitmap in hex.
    for g in $(if [ -z "$ns" ]; then cat /proc/net/netlink; else ip netns exec "$ns" cat /proc/net/netlink 2>/dev/null; fi | awk 'NR > 1 && $2 == 12 {print $4}'); do
      (( 0x$g & 7 )) && total=$((total + 1))
    done
  done
  echo "$total"
}
now() { date +%s.%N; }
# Replicate N flows from A to B with the daemon `$1` (conntrackd or "$T conntrackd"), time
# B's commit; writes "have wall_rate committed daemon_secs stray" to stdout.
replicate_and_commit() {
  local cli=$1
  rm -f "$work/a.log" "$work/b.log"
  ip netns exec "$a" env TANDEM_COMMIT_TIMING=1 $cli -C "$work/a.conf" >/dev/null 2>&1 & local pa=$!; pids+=($pa)
  ip netns exec "$b" env TANDEM_COMMIT_TIMING=1 $cli -C "$work/b.conf" >/dev/null 2>&1 & pids+=($!)
  sleep 1
  ip netns exec "$a" "$work/ctbulk" insert "$N" --batch 1000 --timeout 3600 >/dev/null
  external() { ip netns exec "$b" $cli -C "$work/b.conf" -s 2>/dev/null | awk '/cache external/{f=1} f && /current active/{print $NF; exit}'; }
  for _ in $(seq 1 $((60 + N / 2000))); do
    [ "$(external)" -ge "$N" ] 2>/dev/null && break
    sleep 0.5
  done
  local have t0 t1 committed secs stray
  have=$(external)
  if [ "$KEEP_PEER" != 1 ]; then
    kill "$pa"; wait "$pa" 2>/dev/null || true
    ip netns exec "$a" "$work/ctbulk" flush >/dev/null
  fi
  ip netns exec "$b" "$work/ctbulk" flush >/dev/null
  stray=$(listeners "$b")
  cut -d' ' -f1 /proc/loadavg > "$work/load.$(basename "${cli%% *}")"
  t0=$(now)
  ip netns exec "$b" $cli -C "$work/b.conf" -c >/dev/null 2>&1
  t1=$(now)
  # The benchmark's own flows only (10.64.x.x → 172.20.0.1:80).
  committed=$(ip netns exec "$b" conntrack -L -p tcp -d 172.20.0.1 --dport 80 2>/dev/null | wc -l)
  sleep 0.2
  secs=$(sed -n 's/.*commit has taken \([0-9.]*\) seconds.*/\1/p' "$work/b.log" | tail -1)
  sed -n 's/.*\(commit timing: .*\)/\1/p' "$work/b.log" | tail -1 > "$work/timing"
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
  ip netns exec "$a" "$work/ctbulk" flush >/dev/null
  ip netns exec "$b" "$work/ctbulk" flush >/dev/null
  echo "$have $(echo "$committed / ($t1 - $t0)" | bc) $committed ${secs:-0} $stray"
}
# The same with a DESTROY-only listener in B: "own_rate wall_rate listener_result".
ctbulk_insert_beside_destroy_listener() {
  local lp out
  ip netns exec "$b" "$B" listen-destroy --seconds 600 > "$work/listener" 2>&1 & lp=$!; pids+=($lp)
  for _ in $(seq 1 100); do grep -q ready "$work/listener" && break; sleep 0.05; done
  out=$(ctbulk_insert_rate "$b" "$work/ctbulk" "$N")
  kill "$lp"; wait "$lp" 2>/dev/null || true
  echo "$out $(grep -c ready "$work/listener")"
}
rate_of() { [ "${2:-0}" = 0 ] && echo 0 || echo "$1 / $2" | bc; } # flows secs
ratio() { [ "${2:-0}" = 0 ] && echo 0 || echo "scale=3; $1 / $2" | bc; }
results=$(results_file commit)
meta="$(results_meta),\"n\":$N,\"keep_peer\":$KEEP_PEER,\"runs\":$RUNS,\"rates\":\"*_c_rate: the daemon's own commit time; *_c_wall_rate: the -c client timed from outside\""
failed=0
: > "$work/ok"
for r in $(seq 1 "$RUNS"); do
  # (Through a file, not a pipe: the function runs in this shell, so the trap knows its PIDs.)
  replicate_and_commit conntrackd > "$work/c.result"; read -r have cd_wall committed cd_secs cd_stray < "$work/c.result"
  replicate_and_commit "$T conntrackd" > "$work/t.result"; read -r t_have td_wall t_committed td_secs td_stray < "$work/t.result"
  timing=$(cat "$work/timing")
  read -r c_rate c_wall < <(ctbulk_insert_rate "$b" "$work/ctbulk" "$N")
  ip netns exec "$b" "$work/ctbulk" flush >/dev/null
  ctbulk_insert_beside_destroy_listener > "$work/cl.result"; read -r cl_rate cl_wall cl_ready < "$work/cl.result"
  ip netns exec "$b" "$work/ctbulk" flush >/dev/null
  load_c=$(cat "$work/load.conntrackd"); load_t=$(cat "$work/load.$(basename "$T")")
  out=$(ip netns exec "$b" "$B" insert "$N" --batch 1000)
  t_rate=$(echo "$out" | tr ' ' '\n' | sed -n 's/^rate=//p')
  ip netns exec "$b" "$work/ctbulk" flush >/dev/null
  c_rate=${c_rate:-0}; t_rate=${t_rate:-0}
  cd_rate=$(rate_of "$committed" "$cd_secs"); td_rate=$(rate_of "$t_committed" "$td_secs")
  outcome=ok
  # A run counts only when both replicated every flow and committed all they held.
  if [ "$have" -lt "$N" ] || [ "$t_have" -lt "$N" ]; then outcome="replication incomplete ($have / $t_have of $N)"
  elif [ "$committed" -lt "$have" ] || [ "$t_committed" -lt "$t_have" ]; then outcome="commit incomplete ($committed / $t_committed)"
  # A figure that is missing must not enter a median as 0 (nor a ratio as its divisor).
  elif [ "$cd_secs" = 0 ] || [ "$td_secs" = 0 ]; then outcome="no commit-has-taken line (conntrackd ${cd_secs}s, tandem ${td_secs}s)"
  elif [ "$c_rate" = 0 ] || [ "$t_rate" = 0 ]; then outcome="no rate from ctbulk ($c_rate) or conntrack-bench ($t_rate)"
  elif [ "$cl_ready" != 1 ]; then outcome="destroy listener did not start"; fi
  echo "run $r: $outcome conntrackd_c=$cd_rate (wall $cd_wall) tandem_c=$td_rate (wall $td_wall) ctbulk=$c_rate (wall $c_wall)" \
       "tandem_batched=$t_rate ratio_c_conntrackd=$(ratio "$td_rate" "$cd_rate") ratio_c_ctbulk=$(ratio "$td_rate" "$c_rate")" \
       "ratio_wall_c_ctbulk=$(ratio "$td_wall" "$c_wall") stray listeners $cd_stray/$td_stray" \
       "ctbulk_destroy_listener=$cl_rate ratio_c_ctbulk_destroy_listener=$(ratio "$td_rate" "$cl_rate") load $load_c/$load_t"
  echo "  $timing"
  echo "{$meta,\"run\":$r,\"outcome\":\"$outcome\",\"external_conntrackd\":$have,\"external_tandem\":$t_have,\"committed_conntrackd\":$committed,\"committed_tandem\":$t_committed,\"conntrackd_c_rate\":$cd_rate,\"conntrackd_c_wall_rate\":$cd_wall,\"conntrackd_c_secs\":$cd_secs,\"tandem_c_rate\":$td_rate,\"tandem_c_wall_rate\":$td_wall,\"tandem_c_secs\":$td_secs,\"tandem_batched_rate\":$t_rate,\"ctbulk_rate\":$c_rate,\"ctbulk_wall_rate\":$c_wall,\"ctbulk_destroy_listener_rate\":$cl_rate,\"ctbulk_destroy_listener_wall_rate\":$cl_wall,\"loadavg_conntrackd\":$load_c,\"loadavg_tandem\":$load_t,\"stray_listeners_conntrackd\":$cd_stray,\"stray_listeners_tandem\":$td_stray,\"tandem_timing\":\"$timing\"}" >> "$results"
  if [ "$outcome" = ok ]; then
    echo "$cd_rate $td_rate $t_rate $c_rate $(ratio "$td_rate" "$cd_rate") $(ratio "$td_rate" "$c_rate") $(ratio "$t_rate" "$c_rate") $td_wall $c_wall $(ratio "$td_wall" "$c_wall") $cl_rate $(ratio "$td_rate" "$cl_rate") $load_t" >> "$work/ok"
  else failed=$((failed + 1)); echo "FAILED run $r: $outcome" >&2; fi
done
col() { awk -v c="$1" '{print $c}' "$work/ok" | summary_range; }
echo "== $N flows, peer $([ "$KEEP_PEER" = 1 ] && echo kept running || echo stopped) during the commit; medians (min-max) over the good runs of $RUNS; failed runs: $failed"
printf '%-52s %s\n' "conntrackd -c (daemon's own time), flows/s" "$(col 1)"
printf '%-52s %s\n' "tandem conntrackd -c (daemon's own time), flows/s" "$(col 2)"
printf '%-52s %s\n' "tandem batched create, flows/s" "$(col 3)"
printf '%-52s %s\n' "ctbulk (kernel ceiling), flows/s" "$(col 4)"
printf '%-52s %s\n' "ratio tandem -c / conntrackd -c (per run)" "$(col 5)"
printf '%-52s %s\n' "ratio tandem -c / ctbulk (per run)" "$(col 6)"
printf '%-52s %s\n' "ratio tandem batched / ctbulk (per run)" "$(col 7)"
printf '%-52s %s\n' "tandem -c wall (client started to kernel holds all)" "$(col 8)"
printf '%-52s %s\n' "ctbulk wall (process started to exit)" "$(col 9)"
printf '%-52s %s\n' "ratio of walls tandem -c / ctbulk (per run)" "$(col 10)"
printf '%-52s %s\n' "ctbulk beside a DESTROY listener, flows/s" "$(col 11)"
printf '%-52s %s\n' "ratio tandem -c / ctbulk beside DESTROY listener" "$(col 12)"
printf '%-52s %s\n' "load average (1 min) at Tandem's commit" "$(col 13)"
echo "raw results: $results"
[ "$failed" = 0 ] || { echo "$failed run(s) failed" >&2; exit 1; }
