#!/usr/bin/env bash
# Commit benchmark: conntrackd 1.4.7's own `conntrackd -c` against Tandem's batched
# create of the same flows, and `tandem conntrackd -c` after the same replication between
# two Tandem daemons. Two namespaces (tdc-a, tdc-b) joined by a veth sync link;
# flows made in A's kernel replicate into B's external cache over FTFW/UDP; then B
# commits them to its kernel. Tandem inserts the same flow set into an empty table.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 1; }
scripts/install-deps.sh
N=${N:-100000}
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
  committed=$(ip netns exec "$b" conntrack -C)
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
  ip netns exec "$a" "$work/ctbulk" flush >/dev/null
  ip netns exec "$b" "$work/ctbulk" flush >/dev/null
  echo "$have $(echo "$committed / ($t1 - $t0)" | bc) $committed"
}
# (Through a file, not a pipe: the function runs in this shell, so the trap knows its PIDs.)
replicate_and_commit conntrackd > "$work/c.result"; read -r have cd_rate committed < "$work/c.result"
replicate_and_commit "$T conntrackd" > "$work/t.result"; read -r t_have td_rate t_committed < "$work/t.result"
c_rate=$(ip netns exec "$b" "$work/ctbulk" insert "$N" --batch 1000 | tr ' ' '\n' | sed -n 's/^rate=//p')
ip netns exec "$b" "$work/ctbulk" flush >/dev/null
out=$(ip netns exec "$b" "$B" insert "$N" --batch 1000)
t_rate=$(echo "$out" | tr ' ' '\n' | sed -n 's/^rate=//p')
printf '%-44s %10s\n' "flows in B's external cache" "$have"
printf '%-44s %10s flows/s (%s committed)\n' "conntrackd -c (one message per ACK)" "$cd_rate" "$committed"
printf '%-44s %10s flows/s (%s committed of %s)\n' "tandem conntrackd -c" "$td_rate" "$t_committed" "$t_have"
printf '%-44s %10s flows/s\n' "tandem batched create (errors only)" "$t_rate"
printf '%-44s %10s flows/s\n' "ctbulk (kernel ceiling, same namespace)" "$c_rate"
printf '%-44s %10.2f   (target >= 1.3)\n' "ratio tandem conntrackd -c / conntrackd -c" "$(echo "$td_rate / $cd_rate" | bc -l)"
printf '%-44s %10.2f\n' "ratio tandem batched create / conntrackd" "$(echo "$t_rate / $cd_rate" | bc -l)"
printf '%-44s %10.2f\n' "ratio tandem / ctbulk" "$(echo "$t_rate / $c_rate" | bc -l)"
