#!/usr/bin/env bash
# Installs the Debian packages Tandem's tests and demo use, only those missing, so a warm
# machine skips apt entirely. Needs root.
set -euo pipefail
need=()
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
# gcc and libmnl-dev build the benches' C yardstick (../shared/bench/ctbulk.c).
# python3-jsonschema checks `tandem status --json` against docs/status.schema.json with a
# full draft 2020-12 validator (StatusJSONTests), besides the tests' own subset.
# python3-prometheus-client parses /metrics with the reference text parser (MetricsScrapeTests);
# curl fetches it in MetricsServerTests.
for p in iproute2 nftables iptables conntrack conntrackd keepalived tcpdump strace iputils-ping python3 python3-jsonschema python3-prometheus-client curl gcc libmnl-dev bc; do
  have "$p" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
# The Swift toolchain is not a Debian package: it cannot be installed from here.
# 6.1 is Package.swift's swift-tools-version: an older SwiftPM refuses the package.
need_swift="Tandem needs the Swift toolchain for Linux, 6.1 or newer (tested with 6.3.1), on PATH: download it from swift.org's Linux install page for Debian 12 and unpack it, e.g. under /opt/swift"
command -v swift >/dev/null || { echo "swift not found. $need_swift" >&2; exit 1; }
major=$(swift --version 2>/dev/null | sed -n 's/.*Swift version \([0-9][0-9]*\)\.\([0-9][0-9]*\).*/\1/p' | head -1)
minor=$(swift --version 2>/dev/null | sed -n 's/.*Swift version \([0-9][0-9]*\)\.\([0-9][0-9]*\).*/\2/p' | head -1)
if [ -z "$major" ] || [ -z "$minor" ] || [ "$major" -lt 6 ] || { [ "$major" = 6 ] && [ "$minor" -lt 1 ]; }; then
  echo "found $(swift --version 2>/dev/null | head -1). $need_swift" >&2
  exit 1
fi
echo "swift: $(swift --version 2>/dev/null | head -1)"
