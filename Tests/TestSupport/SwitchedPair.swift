import Foundation

/// Two routers' namespaces joined through a third that bridges each segment, so one
/// router's link can go down without the other losing carrier (a plain veth pair would
/// take both ends down together). Segment s: a = 10.77.s.1, b = 10.77.s.2.
public final class SwitchedPair: @unchecked Sendable {
    public let a: TestNamespace
    public let b: TestNamespace
    public let sw: TestNamespace
    public let segments: Int
    private static let lock = NSLock()
    nonisolated(unsafe) private static var next = 0
    private let id: Int
    /// Names of namespaces and links start with it; segment s is `network`.s.0/24.
    public let prefix: String
    public let network: String

    public init(tag: String, segments: Int = 1, prefix: String = "tdt", network: String = "10.77") throws {
        self.prefix = prefix
        self.network = network
        Self.lock.lock()
        Self.next += 1
        id = Self.next
        Self.lock.unlock()
        a = try TestNamespace("\(tag)a", prefix: prefix)
        b = try TestNamespace("\(tag)b", prefix: prefix)
        sw = try TestNamespace("\(tag)s", prefix: prefix)
        self.segments = segments
        for s in 0..<segments {
            let bridge = "br\(s)"
            var commands: [[String]] = [
                ["ip", "-n", sw.name, "link", "add", bridge, "type", "bridge"],
                ["ip", "-n", sw.name, "link", "set", bridge, "up"],
            ]
            for (side, ns, host) in [("a", a, 1), ("b", b, 2)] {
                let inner = interface(side, s), outer = "p\(side)\(s)"
                commands += [
                    ["ip", "link", "add", inner, "netns", ns.name, "type", "veth", "peer", "name", outer, "netns", sw.name],
                    ["ip", "-n", sw.name, "link", "set", outer, "master", bridge],
                    ["ip", "-n", sw.name, "link", "set", outer, "up"],
                    ["ip", "-n", ns.name, "addr", "add", "\(network).\(s).\(host)/24", "dev", inner],
                    ["ip", "-n", ns.name, "link", "set", inner, "up"],
                ]
            }
            for argv in commands {
                let r = Shell.run(argv)
                if r.status != 0 { remove(); throw TestSetupError("\(argv): \(r.stderr)") }
            }
        }
    }

    /// The router-side interface name on segment `s` of side "a" or "b".
    public func interface(_ side: String, _ s: Int) -> String { "\(prefix)\(getpid() % 100000)\(id % 10)\(side)\(s)" }
    public func address(_ side: String, _ s: Int) -> String { "\(network).\(s).\(side == "a" ? 1 : 2)" }
    public func namespace(_ side: String) -> TestNamespace { side == "a" ? a : b }

    /// Drops (or lets through again) IP protocol 112 between the routers in the bridge, so
    /// both can become master on their own before they hear each other.
    public func blockVRRP(_ block: Bool) {
        if block {
            sw.run(["nft", "add table bridge tdt; add chain bridge tdt filt { type filter hook forward priority 0; };"
                + " add rule bridge tdt filt ip protocol 112 drop"])
        } else {
            sw.run(["nft", "delete table bridge tdt"])
        }
    }

    /// Whether `address` is configured on any interface of the side's namespace.
    public func holds(_ side: String, _ address: String) -> Bool {
        Shell.run(["ip", "-n", namespace(side).name, "-4", "-br", "addr"]).stdout.contains(address + "/")
    }

    public func remove() {
        a.remove()
        b.remove()
        sw.remove()
    }
}

/// Polls `condition` every 20 ms for at most `timeout` seconds.
public func eventually(within timeout: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    repeat {
        if condition() { return true }
        usleep(20_000)
    } while Date() < deadline
    return condition()
}
