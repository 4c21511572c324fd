import Foundation

/// client ── router ── server, each in its own namespace, with IPv4 and IPv6, forwarding
/// and an nft ruleset on the router that tracks, NATs (masquerade out, DNAT :8080 → :80)
/// and attaches the FTP helper to port 21. Only addresses inside these namespaces are used.
public final class RoutedTopology: @unchecked Sendable {
    public let client: TestNamespace
    public let router: TestNamespace
    public let server: TestNamespace
    public static let serverV4 = "10.77.2.2"
    public static let serverV6 = "fd77:2::2"
    public static let routerClientSide = "10.77.1.1"

    public init(tag: String) throws {
        client = try TestNamespace("\(tag)c")
        router = try TestNamespace("\(tag)r")
        server = try TestNamespace("\(tag)s")
        do { try build() } catch { remove(); throw error }
    }

    private func build() throws {
        let suffix = String(getpid() % 100000)
        let cr = "tc\(suffix)", rc = "tr\(suffix)", rs = "ts\(suffix)", sr = "tv\(suffix)"
        try must(["ip", "link", "add", cr, "netns", client.name, "type", "veth", "peer", "name", rc, "netns", router.name])
        try must(["ip", "link", "add", rs, "netns", router.name, "type", "veth", "peer", "name", sr, "netns", server.name])
        let steps: [[String]] = [
            ["ip", "-n", client.name, "addr", "add", "10.77.1.2/24", "dev", cr],
            ["ip", "-n", client.name, "addr", "add", "fd77:1::2/64", "dev", cr, "nodad"],
            ["ip", "-n", client.name, "link", "set", cr, "up"],
            ["ip", "-n", client.name, "route", "add", "default", "via", "10.77.1.1"],
            ["ip", "-n", client.name, "-6", "route", "add", "default", "via", "fd77:1::1"],
            ["ip", "-n", router.name, "addr", "add", "10.77.1.1/24", "dev", rc],
            ["ip", "-n", router.name, "addr", "add", "fd77:1::1/64", "dev", rc, "nodad"],
            ["ip", "-n", router.name, "addr", "add", "10.77.2.1/24", "dev", rs],
            ["ip", "-n", router.name, "addr", "add", "fd77:2::1/64", "dev", rs, "nodad"],
            ["ip", "-n", router.name, "link", "set", rc, "up"],
            ["ip", "-n", router.name, "link", "set", rs, "up"],
            ["ip", "-n", server.name, "addr", "add", "10.77.2.2/24", "dev", sr],
            ["ip", "-n", server.name, "addr", "add", "fd77:2::2/64", "dev", sr, "nodad"],
            ["ip", "-n", server.name, "link", "set", sr, "up"],
            ["ip", "-n", server.name, "route", "add", "default", "via", "10.77.2.1"],
            ["ip", "-n", server.name, "-6", "route", "add", "default", "via", "fd77:2::1"],
            ["ip", "netns", "exec", router.name, "sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"],
        ]
        for s in steps { try must(s) }
        let ruleset = """
        table inet tdt {
            ct helper ftp-std { type "ftp" protocol tcp; }
            chain prerouting_nat { type nat hook prerouting priority dstnat; tcp dport 8080 dnat ip to 10.77.2.2:80; }
            chain forward_filter {
                type filter hook forward priority 0; policy accept;
                tcp dport 21 ct helper set "ftp-std"
                ct state established,related,new accept
            }
            chain postrouting_nat { type nat hook postrouting priority srcnat; oifname "\(rs)" masquerade; }
        }
        """
        let path = NSTemporaryDirectory() + "tdt-rules-\(getpid()).nft"
        try ruleset.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try must(["ip", "netns", "exec", router.name, "nft", "-f", path])
    }

    private func must(_ argv: [String]) throws {
        let r = Shell.run(argv)
        if r.status != 0 { throw TestSetupError("\(argv.joined(separator: " ")): \(r.stderr)") }
    }

    /// A server on :80 and :21 (answering PASV with a 227 reply the FTP helper turns into
    /// an expectation) that exits by itself after `seconds`.
    public static let serverScript = """
    import socket, threading, time, sys
    deadline = time.time() + float(sys.argv[1])
    def serve(port, ftp):
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", port)); s.listen(8); s.settimeout(0.2)
        while time.time() < deadline:
            try: c, _ = s.accept()
            except socket.timeout: continue
            def handle(c=c):
                c.settimeout(0.5)
                if ftp:
                    c.sendall(b"220 tandem test\\r\\n")
                    while time.time() < deadline:
                        try: d = c.recv(100)
                        except socket.timeout: continue
                        if not d: break
                        if d.startswith(b"PASV"): c.sendall(b"227 Entering Passive Mode (10,77,2,2,195,80).\\r\\n")
                else:
                    while time.time() < deadline:
                        try: d = c.recv(100)
                        except socket.timeout: continue
                        if not d: break
                        c.sendall(d)
            threading.Thread(target=handle, daemon=True).start()
    for port, ftp in ((80, False), (21, True)):
        threading.Thread(target=serve, args=(port, ftp), daemon=True).start()
    while time.time() < deadline: time.sleep(0.1)
    """

    /// Opens a DNAT'd echo session (router:8080), an FTP control session with PASV, sends
    /// one UDP datagram; prints READY once all are up, then holds them for `seconds`.
    public static let clientScript = """
    import socket, time, sys
    hold = float(sys.argv[1])
    def connect(addr):
        for _ in range(100):
            try: return socket.create_connection(addr, timeout=1)
            except OSError: time.sleep(0.05)
        raise SystemExit("cannot connect to %s" % (addr,))
    web = connect(("10.77.1.1", 8080)); web.sendall(b"ping"); web.recv(10)
    ftp = connect(("10.77.2.2", 21)); ftp.recv(100); ftp.sendall(b"PASV\\r\\n"); ftp.recv(100)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.sendto(b"x", ("10.77.2.2", 5353))
    print("READY", flush=True)
    time.sleep(hold)
    """

    public func remove() {
        client.remove()
        router.remove()
        server.remove()
    }
}
