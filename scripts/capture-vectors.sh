#!/usr/bin/env bash
# Regenerates Tests/ConntrackTests/Vectors/*.hex: the exact netlink bytes the real
# conntrack(8) 1.4.7 sends (requests) and receives (kernel dump replies), taken with
# strace because this kernel has no nlmon. Run as root; uses its own namespace.
set -euo pipefail
out=${1:-$(cd "$(dirname "$0")/.." && pwd)/Tests/ConntrackTests/Vectors}
ns="tdvec-$$"
ip netns add "$ns"
trap 'ip netns del "$ns" 2>/dev/null || true' EXIT
mkdir -p "$out"
N="ip netns exec $ns"
$N sysctl -qw net.netfilter.nf_conntrack_acct=1 net.netfilter.nf_conntrack_timestamp=1

cat > "$out/.parse.py" <<'PY'
import re, sys
raw, dst = sys.argv[1], sys.argv[2]
msgs, cur, kind = [], None, None
for line in open(raw):
    m = re.match(r'^(sendto|sendmsg|recvmsg|recvfrom)\(', line)
    if m:
        if cur: msgs.append((kind, cur))
        kind = 'send' if m.group(1).startswith('send') else 'recv'
        cur = []
        continue
    m = re.match(r'^ \| [0-9a-f]{5}  ((?:[0-9a-f]{2} {1,2}){1,16})', line)
    if m and cur is not None:
        cur.extend(m.group(1).split())
if cur: msgs.append((kind, cur))
with open(dst, 'w') as f:
    for kind, b in msgs:
        if b: f.write(kind + ' ' + ''.join(b) + '\n')
PY

# name | conntrack arguments
cases=(
 "tcp4-create|-I -p tcp -s 10.1.1.1 -d 10.2.2.2 --sport 1000 --dport 80 --state ESTABLISHED -t 100 -u ASSURED,SEEN_REPLY -m 7"
 "udp4-create|-I -p udp -s 10.1.1.1 -d 10.2.2.2 --sport 1000 --dport 53 -t 30"
 "icmp4-create|-I -p icmp -s 10.1.1.1 -d 10.2.2.2 --icmp-type 8 --icmp-code 0 --icmp-id 77 -t 30"
 "icmp6-create|-I -p icmpv6 -s ::1 -d ::2 --icmpv6-type 128 --icmpv6-code 0 --icmpv6-id 5 -t 30"
 "tcp6-create-zone|-I -p tcp -s 2001:db8::1 -d 2001:db8::2 --sport 5 --dport 6 --state SYN_SENT -t 30 -w 3"
 "sctp4-create|-I -p sctp -s 10.1.1.1 -d 10.2.2.2 --sport 5 --dport 6 --state ESTABLISHED --orig-vtag 10 --reply-vtag 11 -t 30"
 "dccp4-create|-I -p dccp -s 10.1.1.1 -d 10.2.2.2 --sport 5 --dport 6 --state OPEN --role client -t 30"
 "gre4-create|-I -p gre -s 10.1.1.1 -d 10.2.2.2 --srckey 5 --dstkey 6 -t 30"
 "udplite4-create|-I -p udplite -s 10.1.1.1 -d 10.2.2.2 --sport 5 --dport 6 -t 30"
 "tcp4-create-reply|-I -p tcp -s 10.3.3.3 -d 10.4.4.4 --sport 22 --dport 2222 -r 10.4.4.4 -q 10.9.9.9 --reply-port-src 2222 --reply-port-dst 22 --sport 22 --state ESTABLISHED -t 50 -m 1"
 "tcp4-update-mark|-U -p tcp -s 10.1.1.1 -d 10.2.2.2 --sport 1000 --dport 80 -m 9"
 "tcp4-get|-G -p tcp -s 10.1.1.1 -d 10.2.2.2 --sport 1000 --dport 80"
 "udp4-delete|-D -p udp -s 10.1.1.1 -d 10.2.2.2 --sport 1000 --dport 53"
 "dump-all|-L"
 "dump-ipv6|-L -f ipv6"
 "dump-mark|-L -m 7/0xff"
 "dump-zone|-L -w 3"
 "flush|-F"
)
capture() { # name, then conntrack's arguments
  local name=$1; shift
  $N strace -e trace=sendto,sendmsg,recvmsg,recvfrom -e write=all -e read=all -o "$out/.raw" conntrack "$@" >"$out/$name.stdout" 2>"$out/$name.stderr" || true
  python3 "$out/.parse.py" "$out/.raw" "$out/$name.hex"
}
for c in "${cases[@]}"; do
  # shellcheck disable=SC2086
  capture "${c%%|*}" ${c#*|}
done

# Expectations need a master flow with a helper: real FTP control traffic through a
# router namespace with the ftp helper attached, then conntrack(8)'s expect commands.
c="tdvc-$$"; s="tdvs-$$"
ip netns add "$c"; ip netns add "$s"
trap 'ip netns del "$ns" 2>/dev/null || true; ip netns del "$c" 2>/dev/null || true; ip netns del "$s" 2>/dev/null || true' EXIT
ip link add tdvc0 netns "$c" type veth peer name tdvr0 netns "$ns"
ip link add tdvr1 netns "$ns" type veth peer name tdvs0 netns "$s"
ip -n "$c" addr add 10.77.1.2/24 dev tdvc0; ip -n "$c" link set tdvc0 up; ip -n "$c" route add default via 10.77.1.1
ip -n "$ns" addr add 10.77.1.1/24 dev tdvr0; ip -n "$ns" addr add 10.77.2.1/24 dev tdvr1
ip -n "$ns" link set tdvr0 up; ip -n "$ns" link set tdvr1 up
ip -n "$s" addr add 10.77.2.2/24 dev tdvs0; ip -n "$s" link set tdvs0 up; ip -n "$s" route add default via 10.77.2.1
$N sysctl -qw net.ipv4.ip_forward=1
$N nft -f - <<'NFT'
table inet tdv {
  ct helper ftp-std { type "ftp" protocol tcp; }
  chain forward_filter { type filter hook forward priority 0; policy accept; tcp dport 21 ct helper set "ftp-std"; ct state established,related,new accept; }
}
NFT
ip netns exec "$s" timeout 8 python3 -c '
import socket
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0",21)); s.listen(1)
c,_=s.accept(); c.sendall(b"220 x\r\n"); c.recv(100); c.sendall(b"227 Entering Passive Mode (10,77,2,2,195,80).\r\n"); c.recv(100)' &
sleep 0.3
ip netns exec "$c" timeout 8 python3 -c '
import socket,time
f=socket.create_connection(("10.77.2.2",21)); f.recv(100); f.sendall(b"PASV\r\n"); f.recv(100); time.sleep(3)' &
sleep 1
sport=$($N conntrack -L -p tcp --dport 21 2>/dev/null | sed -n 's/.*sport=\([0-9]*\) dport=21 .*/\1/p' | head -1)
xcases=(
 "expect-dump|-L expect"
 "ftp-master-dump|-L -p tcp --dport 21"
 "expect-create|-I expect -p tcp -s 10.77.1.2 -d 10.77.2.2 --sport $sport --dport 21 --tuple-src 10.77.1.2 --tuple-dst 10.77.2.2 --tuple-port-src 0 --tuple-port-dst 50001 --mask-src 255.255.255.255 --mask-dst 255.255.255.255 --mask-port-src 0 --mask-port-dst 0xffff -t 100"
 "expect-dump-after-create|-L expect"
)
for c2 in "${xcases[@]}"; do
  # shellcheck disable=SC2086
  capture "${c2%%|*}" ${c2#*|}
done
wait
rm -f "$out/.raw" "$out/.parse.py"
