# Sourced by the benches (from the repository's root): the set-up they all repeat. Also
# brings in bench/record.sh (results file, record fields, median and range).
#
# need_root NAME                  refuse to run without root, naming the bench
# build_release PRODUCT...        release builds, unless SKIP_BUILD is set, into SCRATCH
#                                 (the SwiftPM build folder, default .build; a worktree may
#                                 keep its own)
# build_ctbulk OUT                the C yardstick (../shared/bench/ctbulk.c, or $SHARED's)
# ctbulk_insert_rate NS CTBULK N  ctbulk inserts N in NS: "own_rate wall_rate", flows/s
# veth_pair NS_A NS_B IF_A IF_B ADDR_A ADDR_B
#                                 two new namespaces joined by one veth, ADDR_* with their
#                                 prefix (10.0.0.1/24), both ends and lo up
# stop_pids                       stop every PID in the array `pids` (SIGTERM, up to 5 s,
#                                 then SIGKILL), reap them, and empty the array
# ftfw_conf DIR NAME SELF PEER DEV [GENERAL_LINES]
#                                 DIR/NAME.conf: FTFW over UDP from SELF to PEER (port 3780,
#                                 DEV), an external cache, log, lock and control socket in
#                                 DIR; SOCKET_BUFFER, HASH_SIZE, NETLINK_BUFFER and
#                                 NETLINK_GROWTH size it; GENERAL_LINES go into General
# raise_conntrack_max N           raise the global nf_conntrack_max to N + N/4 when N would
#                                 not fit, and nf_conntrack_buckets with it (the hash is
#                                 global: two namespaces of 1M flows each on 262,144 buckets
#                                 made chains of 8, and a quarter of a backup's CPU went to
#                                 __nf_conntrack_find_get); restore_conntrack_max puts both back
# shellcheck source=bench/record.sh
. "$(dirname "${BASH_SOURCE[0]}")/record.sh"

SCRATCH=${SCRATCH:-.build}

# CPU in microseconds that process $1 has used, the threads it has ended included: the
# kernel's CPU clock of the process (clock_gettime on the clock id of pid $1, nanoseconds).
# Summing /proc/PID/task/*/schedstat, as these scripts did before 2026-12-06T18:30Z, missed
# every thread that had exited: Tandem's pipelined netlink conversations (a commit's, a
# dump's) write on a thread of their own that ends with them. 0 once the process is gone.
cpu_us() {
  python3 -c 'import sys, time; p = int(sys.argv[1]); print(int(time.clock_gettime(((~p) << 3) | 2) * 1e6))' "$1" 2>/dev/null || echo 0
}

need_root() {
  [ "$(id -u)" = 0 ] || { echo "$1 needs root" >&2; exit 1; }
}

build_release() {
  [ -n "${SKIP_BUILD:-}" ] && return 0
  local product
  for product in "$@"; do scripts/build-release --scratch-path "$SCRATCH" --product "$product" >/dev/null; done
}

build_ctbulk() {
  gcc -O2 -Wall -o "$1" "${SHARED:-../shared}/bench/ctbulk.c" -lmnl
}

# ctbulk_insert_rate NS CTBULK N: ctbulk inserts N flows (batches of 1,000) in namespace NS,
# the kernel's ceiling; prints "own_rate wall_rate" in flows/s (ctbulk's own clock, then
# timed from outside). ctbulk failing or printing no rate gives 0 for its own.
ctbulk_insert_rate() {
  local t0 t1 out
  t0=$(date +%s%N); out=$(ip netns exec "$1" "$2" insert "$3" --batch 1000 || true); t1=$(date +%s%N)
  out=$(echo "$out" | tr ' ' '\n' | sed -n 's/^rate=//p')
  echo "${out:-0} $(( $3 * 1000000000 / (t1 - t0) ))"
}

veth_pair() {
  local na=$1 nb=$2 ia=$3 ib=$4 aa=$5 ab=$6
  ip netns add "$na"; ip netns add "$nb"
  ip link add "$ia" netns "$na" type veth peer name "$ib" netns "$nb"
  ip -n "$na" addr add "$aa" dev "$ia"; ip -n "$na" link set "$ia" up; ip -n "$na" link set lo up
  ip -n "$nb" addr add "$ab" dev "$ib"; ip -n "$nb" link set "$ib" up; ip -n "$nb" link set lo up
}

stop_pids() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  pids=()
}

ftfw_conf() {
  local dir=$1 name=$2
  cat > "$dir/$name.conf" <<CONF
Sync {
    Mode FTFW {
        DisableExternalCache Off
        CommitTimeout 180
        PurgeTimeout 5
    }
    UDP {
        IPv4_address $3
        IPv4_Destination_Address $4
        Port 3780
        Interface $5
        SndSocketBuffer $SOCKET_BUFFER
        RcvSocketBuffer $SOCKET_BUFFER
        Checksum on
    }
}
General {
    HashSize $HASH_SIZE
    HashLimit 1048576
    LogFile $dir/$name.log
    LockFile $dir/$name.lock
    UNIX { Path $dir/$name.ctl }
    NetlinkBufferSize $NETLINK_BUFFER
    NetlinkBufferSizeMaxGrowth $NETLINK_GROWTH
    ${6:-}
}
CONF
}

saved_conntrack_max=""
raise_conntrack_max() {
  saved_conntrack_max=$(cat /proc/sys/net/netfilter/nf_conntrack_max)
  saved_conntrack_buckets=$(cat /proc/sys/net/netfilter/nf_conntrack_buckets)
  if [ "$1" -gt $((saved_conntrack_max - 1000)) ]; then
    echo $(($1 + $1 / 4)) > /proc/sys/net/netfilter/nf_conntrack_max
    echo $(($1 + $1 / 4)) > /proc/sys/net/netfilter/nf_conntrack_buckets
  fi
}
restore_conntrack_max() {
  [ -z "$saved_conntrack_max" ] || echo "$saved_conntrack_max" > /proc/sys/net/netfilter/nf_conntrack_max
  [ -z "${saved_conntrack_buckets:-}" ] || echo "$saved_conntrack_buckets" > /proc/sys/net/netfilter/nf_conntrack_buckets
}
