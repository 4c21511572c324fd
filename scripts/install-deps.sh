#!/usr/bin/env bash
# Installs the Debian packages Tandem's tests and demo use, only those missing, so a warm
# machine skips apt entirely. Needs root.
set -euo pipefail
need=()
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for p in iproute2 nftables iptables conntrack conntrackd keepalived tcpdump strace iputils-ping python3 libmnl-dev bc; do
  have "$p" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "swift 6 toolchain not found on PATH" >&2; exit 1; }
