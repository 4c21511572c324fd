#!/usr/bin/env bash
# The commit producer's cost per flow, stage by stage (issue #18), with no kernel involved:
# `conntrack-bench profile-commit N` times the general path a commit took per flow before
# the packed one (decompress the external-cache entry, seven times over; build a Flow;
# the commit's copy; re-pack it to adopt; encode it) against the packed path (convert
# on bits; encode straight into the batch). RUNS iterations (default 5) of N flows
# (default 100000); the load average is recorded with each, since the machine is shared.
# Raw results: bench/results/producer-profile-<UTC>-<commit>.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-100000}
RUNS=${RUNS:-5}
SCRATCH=${SCRATCH:-.build}
scripts/build-release --scratch-path "$SCRATCH" --product conntrack-bench >/dev/null
B=$PWD/$SCRATCH/release/conntrack-bench
. bench/record.sh
results=$(results_file producer-profile)
for r in $(seq 1 "$RUNS"); do
  load=$(cut -d' ' -f1 /proc/loadavg)
  line=$("$B" profile-commit "$N")
  echo "run $r (load $load): $line"
  fields=$(echo "$line" | tr ' ' '\n' | grep '_ns=\|_per_flow=' | sed 's/^\([a-z_]*\)=\(.*\)$/"\1":\2/' | paste -sd, -)
  echo "{$(results_meta),\"n\":$N,\"run\":$r,\"loadavg\":$load,$fields}" >> "$results"
done
echo "raw results: $results"
