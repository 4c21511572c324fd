#!/usr/bin/env bash
# Split-brain report latency against 2 x Master_Down_Interval (issue #19, item 4).
# Two `tandem run` nodes on one veth (A priority 200 master, B 100 backup, VRRP and FTFW
# sync on the link, both with --peer-view 3790). Per run a fresh pair; once both have
# heard each other, one part of the link is cut with nft in both namespaces:
#   vrrp: VRRP dropped both ways -> B takes over and must report `vrrpLostSyncAlive`;
#   sync: the sync port dropped both ways -> B (still hearing A's adverts) must report
#         `syncLostVRRPAlive`.
# Latency: from just before the cut to the report's start, read from B's
# `tandem status --json` (splitBrain.active[].sinceMs, taken away from the time the reply
# came: an upper bound by the status call's own few ms). MDI for B (priority 100):
# advert_int 1 (VRRPv2) 3.609 s, advert_int 0.1 (VRRPv3) 0.361 s. A run whose report does
# not come within LIMIT s is failed, kept out of the summary, and makes the script exit
# non-zero. Raw results: bench/results/split-brain-*.jsonl.
# Namespaces tob-sa-PID / tob-sb-PID; every process started here is stopped by PID on exit.
# Usage: RUNS=5 ADVERTS="1 0.1" CUTS="vrrp sync" bench/split-brain.sh
#        BIN: the directory holding a release tandem (default $SCRATCH/release)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
need_root bench/split-brain.sh
scripts/install-deps.sh
RUNS=${RUNS:-5}
ADVERTS=${ADVERTS:-"1 0.1"}
CUTS=${CUTS:-"vrrp sync"}
LIMIT=${LIMIT:-15}
BIN=${BIN:-$PWD/$SCRATCH/release}
build_release tandem
T=$BIN/tandem
work=$(mktemp -d /tmp/tob-split-brain.XXXXXX)
a="tob-sa-$$"; b="tob-sb-$$"
pids=()
cleanup() {
  stop_pids
  ip netns del "$a" 2>/dev/null || true; ip netns del "$b" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
out=$(results_file split-brain)
failed=0

write_configs() { # dir self peer dev priority state advert
  local v3="" auth="  authentication {
    auth_type PASS
    auth_pass 1111
  }"
  case $7 in *.*) v3="  version 3"; auth="" ;; esac
  mkdir -p "$1"
  cat > "$1/keepalived.conf" <<CONF
vrrp_instance V {
  state $6
  interface $4
  virtual_router_id 51
  priority $5
  advert_int $7
$v3
  unicast_src_ip $2
  unicast_peer {
    $3
  }
$auth
  virtual_ipaddress {
    10.77.9.100/24 dev $4
  }
}
CONF
  cat > "$1/conntrackd.conf" <<CONF
Sync {
    Mode FTFW {
        CommitTimeout 180
        PurgeTimeout 5
    }
    UDP {
        IPv4_address $2
        IPv4_Destination_Address $3
        Port 3780
        Interface $4
    }
}
General {
    LockFile $1/lock
    UNIX {
        Path $1/ctl
    }
}
CONF
}

now_ns() { date +%s%N; }

# The started report of KIND on B: "sinceMs" of the active entry, or nothing.
active_since() { # kind
  ip netns exec "$b" "$T" status --json -C "$work/b/conntrackd.conf" 2>/dev/null | python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
except Exception:
    sys.exit(0)
for x in ((d.get("splitBrain") or {}).get("active") or []):
    if x.get("kind") == sys.argv[1]:
        print(x.get("sinceMs")); break
' "$1"
}

drop() { # ns rule...
  ip netns exec "$1" nft add table inet tobsb
  ip netns exec "$1" nft add chain inet tobsb in '{ type filter hook input priority 0; }'
  ip netns exec "$1" nft add rule inet tobsb in "${@:2}"
}

run_once() { # advert cut run
  local advert=$1 cut=$2 run=$3 kind mdi_ms
  case $cut in vrrp) kind=vrrpLostSyncAlive ;; sync) kind=syncLostVRRPAlive ;; esac
  case $advert in 1) mdi_ms=3609.375 ;; 0.1) mdi_ms=360.937 ;; *) echo "no MDI known for advert_int $advert" >&2; exit 2 ;; esac
  veth_pair "$a" "$b" tobsa tobsb 10.77.9.1/24 10.77.9.2/24
  write_configs "$work/a" 10.77.9.1 10.77.9.2 tobsa 200 MASTER "$advert"
  write_configs "$work/b" 10.77.9.2 10.77.9.1 tobsb 100 BACKUP "$advert"
  ip netns exec "$a" "$T" run --keepalived-config "$work/a/keepalived.conf" --conntrackd-config "$work/a/conntrackd.conf" \
    --peer-view 3790 >"$work/a.log" 2>&1 & pids+=($!)
  for _ in $(seq 1 150); do ip -n "$a" -br addr show tobsa | grep -q 10.77.9.100 && break; sleep 0.1; done
  ip netns exec "$b" "$T" run --keepalived-config "$work/b/keepalived.conf" --conntrackd-config "$work/b/conntrackd.conf" \
    --peer-view 3790 >"$work/b.log" 2>&1 & pids+=($!)
  sleep 3
  local t0 since="" tq status=ok latency_ms=-
  t0=$(now_ns)
  case $cut in
    vrrp) drop "$a" ip protocol vrrp drop; drop "$b" ip protocol vrrp drop ;;
    sync) drop "$a" udp dport 3780 drop; drop "$b" udp dport 3780 drop ;;
  esac
  local deadline=$(( $(now_ns) + LIMIT * 1000000000 ))
  while [ "$(now_ns)" -lt "$deadline" ]; do
    since=$(active_since "$kind")
    tq=$(now_ns)
    [ -n "$since" ] && break
    sleep 0.02
  done
  if [ -n "$since" ]; then
    latency_ms=$(awk -v q="$tq" -v t="$t0" -v s="$since" 'BEGIN { printf "%.1f", (q - t) / 1e6 - s }')
  else
    status=failed; failed=$((failed + 1))
  fi
  local within=false
  [ "$status" = ok ] && awk -v l="$latency_ms" -v m="$mdi_ms" 'BEGIN { exit !(l <= 2 * m) }' && within=true
  printf '{%s,"bench":"split-brain","binary":"%s","advert_int":%s,"cut":"%s","kind":"%s","run":%d,"status":"%s","latency_ms":%s,"mdi_ms":%s,"within_2mdi":%s}\n' \
    "$(results_meta)" "$T" "$advert" "$cut" "$kind" "$run" "$status" "$([ "$status" = ok ] && echo "$latency_ms" || echo null)" \
    "$mdi_ms" "$within" >> "$out"
  echo "advert_int $advert cut $cut run $run: $status latency ${latency_ms} ms (2 x MDI = $(awk -v m="$mdi_ms" 'BEGIN { print 2 * m }') ms)"
  stop_pids
  ip netns del "$a"; ip netns del "$b"
}

for advert in $ADVERTS; do
  for cut in $CUTS; do
    for run in $(seq 1 "$RUNS"); do run_once "$advert" "$cut" "$run"; done
  done
done

echo "raw: $out"
for advert in $ADVERTS; do
  for cut in $CUTS; do
    m=$(python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
rows = [r for r in rows if r["advert_int"] == float(sys.argv[2]) and r["cut"] == sys.argv[3]]
ok = [r["latency_ms"] for r in rows if r["status"] == "ok"]
within = sum(1 for r in rows if r["within_2mdi"])
print(" ".join(str(x) for x in ok), "|", within, "of", len(rows), "within 2 x MDI")
' "$out" "$advert" "$cut")
    echo "advert_int $advert, $cut cut: latency ms median (min-max) $(echo "${m%%|*}" | tr ' ' '\n' | summary_range); ${m##*|}"
  done
done
[ "$failed" = 0 ] || { echo "$failed run(s) failed" >&2; exit 1; }
