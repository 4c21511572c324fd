#!/usr/bin/env bash
# Soak benchmark (not in CI): a `tandem run` pair in the lab (namespaces tds-*, the seed's
# configs, stack tandem-run) for DURATION seconds under steady flow churn, failing the
# master over every FAILOVER_EVERY seconds, with SSH-like sessions streaming throughout.
# The work is `tandem lab soak` (Sources/Lab/Soak*.swift); this script builds, brings the
# lab up and down, and bench/soak_report.py prints the summary from the raw results.
#
#   DURATION=1800 FAILOVER_EVERY=30 CHURN_RATE=2000 FLOW_LIFETIME=5 MIN_AGE=1 \
#   STALL_LIMIT=10 LINK_DOWN=10 SESSIONS=4 KEEP_LOGS=dir PEER_VIEW=port bench/soak.sh
#
# PEER_VIEW=PORT runs both nodes with `tandem run --peer-view PORT` (docs/split-brain.md);
#   the records' meta says which ("peer_view").
#
# Churn: CHURN_RATE established TCP flows a second (10.64.0.x:p → 192.168.253.1:443, which
#   the seed's conntrackd.conf replicates: TCP, no ignored address) are created with
#   ctnetlink, as `lab failover --flows` makes its flows, in the kernel table of the firewall
#   the traffic reaches (the one holding both VIPs with its cables in), and each is
#   destroyed FLOW_LIFETIME seconds after its creation on that same firewall: about
#   CHURN_RATE × FLOW_LIFETIME flows are live. From a failure until the new master's loss
#   check the churn pauses (no firewall takes traffic); missed creations are skipped.
# Failovers: every FAILOVER_EVERY s the master fails, in turn by stop (SIGTERM), kill
#   (SIGKILL, cables unplugged) and link (cables unplugged at the switch, plugged in again
#   LINK_DOWN s later; the unplugged node sees its interfaces down, goes FAULT and purges
#   its table, and comes back as backup). A stopped or killed node is restarted as after a
#   reboot (VIPs and conntrack table cleared, `tandem run` started) once the backup has
#   taken over. A node back as backup must resync: `resync complete` in its log within 20 s.
#   The seed's fw1 is `state MASTER` with the higher priority, so once back it takes the
#   VIPs again (within 25 s): that failback is a transition too, checked the same way. A
#   failover waits (at most FAILOVER_EVERY s) for the pair to be whole again.
# Flow lost: at each transition (the VIPs moving to the other firewall) every churn flow
#   that was live when the churn stopped reaching the old master and had been created at
#   least MIN_AGE s before (default 1 s: FTFW's alive interval, the longest a lost message
#   waits before its gap is NACKed, well beyond the ms the sync takes to deliver and
#   acknowledge a flow) must be in the new master's kernel table, read with a ctnetlink dump
#   as soon as it holds the VIPs (`tandem run` commits before it adds them). A flow of
#   that set missing from the dump is lost. The same dump counts stale flows: churn flows
#   in the new master's table that were already destroyed (reported, not judged). A flow
#   younger than MIN_AGE that the new master lacks ("died_young" in the transition record)
#   is never judged after, so a quick failback does not count it lost (before 2026-12-04
#   such flows were counted lost at the next transition when it came within their
#   lifetime). It is still deleted at the end of its lifetime: absent at the check is not
#   dead, the old master's messages in flight can bring it to the new master a moment
#   later (a failback's old master stays up). The end record counts those deletes that
#   found it ("died_young_found_later") and those that did not ("died_young_gone"). Until
#   2026-12-04 17:00 such flows were no longer deleted and stayed stale for good.
# Session broken: one of the SESSIONS SSH-like TCP sessions of the lab's session engine
#   (client line every 50 ms, server echo and push every 50 ms, TCP_USER_TIMEOUT 15 s) that
#   saw a reset, EOF or error, or went silent for more than STALL_LIMIT s (default 10: a
#   kill or link failover stalls ~6.6 s through TCP's back-off; more means a retransmission
#   after the takeover was lost). The UDP stream and ping are reported, not judged.
# RSS / fds: VmRSS of /proc/PID/status and the entries of /proc/PID/fd of each firewall's
#   `tandem run`, sampled before the churn starts, at the end of every cycle (just before
#   each failover) and at the end. "Start" in the summary is the sample before the first
#   failover (churn at steady state); target: end within 10 % of it. A firewall's process
#   changes at each restart: the summary also gives the longest-lived process's own figures.
# CPU per flow: utime + stime of /proc/PID/stat of each firewall's `tandem run` (summed
#   over its successive processes, each from its own start) per churn flow created, per
#   interval between samples (one failover cycle, failover and resync included).
# Failed steps: lab up failing, a failover with no takeover (15 + 3 × advert_int s), a
#   `tandem run` that died, a sample that could not be taken, the pair not ready for a
#   scheduled failover (these end the soak early), no resync or failback within its limit
#   (the soak goes on): each is written as a "failure" record, counted, and makes this
#   script exit non-zero. Lost flows and broken sessions are results, not failures.
# Raw results: bench/results/soak-*.jsonl, one JSON object per event (start, sample,
#   transition, resync, failure, session, end).
# Bounds: everything stops with the soak (DURATION); the churn sends no packets (ctnetlink
#   entries only), keeps at most its ring's worth of live flows and holds about 2 ×
#   CHURN_RATE × FLOW_LIFETIME conntrack entries across its namespaces; the lab has no
#   route out of the host; no sysctl is changed; `lab down` (also on exit) removes tds-*.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "bench/soak.sh needs root" >&2; exit 1; }
DURATION=${DURATION:-1800}
FAILOVER_EVERY=${FAILOVER_EVERY:-30}
CHURN_RATE=${CHURN_RATE:-2000}
FLOW_LIFETIME=${FLOW_LIFETIME:-5}
MIN_AGE=${MIN_AGE:-1}
STALL_LIMIT=${STALL_LIMIT:-10}
LINK_DOWN=${LINK_DOWN:-10}
SESSIONS=${SESSIONS:-4}
KEEP_LOGS=${KEEP_LOGS:-}
PEER_VIEW=${PEER_VIEW:-}
scripts/install-deps.sh >/dev/null
# SCRATCH: the build folder (a soak runs for half an hour: build it apart from a checkout
# that is rebuilt meanwhile, or a restarted node runs another binary).
SCRATCH=${SCRATCH:-.build}
scripts/build-release --scratch-path "$SCRATCH" --product tandem >/dev/null
T=$(cd "$SCRATCH" && pwd)/release/tandem
prefix="tds-"
state=/run/tandem-lab/$prefix
tmp=$(mktemp -d)
cleanup() { "$T" lab down --prefix "$prefix" >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
. bench/record.sh
results=$(results_file soak)
meta="$(results_meta),\"peer_view\":${PEER_VIEW:-null}"

status=0
if ! "$T" lab up --prefix "$prefix" --stack tandem-run ${PEER_VIEW:+--peer-view "$PEER_VIEW"} >"$tmp/up" 2>&1; then
  tail -5 "$tmp/up" >&2
  reason=$(tail -1 "$tmp/up" | tr -d '"\\' | cut -c1-300)
  echo "{$meta,\"kind\":\"failure\",\"step\":\"lab up\",\"reason\":\"$reason\",\"t\":0}" >> "$results"
  status=1
else
  "$T" lab soak --prefix "$prefix" --duration "$DURATION" --every "$FAILOVER_EVERY" --rate "$CHURN_RATE" \
    --lifetime "$FLOW_LIFETIME" --min-age "$MIN_AGE" --stall-limit "$STALL_LIMIT" --link-down "$LINK_DOWN" \
    --sessions "$SESSIONS" --results "$results" --meta "$meta" || status=1
fi
if [ -n "$KEEP_LOGS" ]; then
  mkdir -p "$KEEP_LOGS"
  for fw in fw1 fw2; do cp "$state/$fw/tandem-run.log" "$KEEP_LOGS/$fw-tandem-run.log" 2>/dev/null || true; done
  echo "daemon logs: $KEEP_LOGS"
fi
"$T" lab down --prefix "$prefix" >/dev/null 2>&1 || { echo "lab down failed" >&2; status=1; }
python3 bench/soak_report.py "$results" || status=1
echo "raw results: $results"
exit $status
