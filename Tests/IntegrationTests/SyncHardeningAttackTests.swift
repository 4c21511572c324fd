import Foundation
import IPAddressing
import Netlink
import StateSync
import TestSupport
import Testing

/// Attacks on the sync link without a key (docs/sync-hardening.md), from a third namespace:
/// two Tandem daemons replicate over a bridge (A 10.236.1.1, B 10.236.1.2) that the attacker
/// X (10.236.2.9, another subnet, same wire) is also on. Each attack runs against its control
/// (`TANDEM_TEST_NO_SYNC_HARDENING=1`), where it must succeed. Traffic is a handful of
/// datagrams, every wait bounded.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("conntrack"), "needs root and conntrack"))
struct SyncHardeningAttackTests {
    /// The flow the attacker tries to plant in B's external cache.
    static let forgedSource = "10.236.66.6"
    static let forgedDestination = "10.236.77.7"

    final class Lab {
        let a: TestNamespace, b: TestNamespace, x: TestNamespace, s: TestNamespace
        let dir: String
        let channel: String
        var daemons: [Spawned] = []
        let tag: String
        func interface(_ node: String) -> String { "tqh\(getpid() % 100000)\(tag)\(node)" }

        init(_ tag: String, channel: String, hardened: Bool, environment extra: [String] = []) throws {
            self.tag = tag
            self.channel = channel
            dir = NSTemporaryDirectory() + "tqh-\(tag)-\(getpid())"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            a = try TestNamespace("\(tag)a", prefix: "tqh")
            b = try TestNamespace("\(tag)b", prefix: "tqh")
            x = try TestNamespace("\(tag)x", prefix: "tqh")
            s = try TestNamespace("\(tag)s", prefix: "tqh")
            let bridge = "tqh\(getpid() % 100000)\(tag)br"
            var steps: [[String]] = [
                ["ip", "-n", s.name, "link", "add", bridge, "type", "bridge", "mcast_snooping", "0"],
                ["ip", "netns", "exec", s.name, "sh", "-c", "echo 0 > /proc/sys/net/bridge/bridge-nf-call-iptables || true"],
                ["ip", "-n", s.name, "link", "set", bridge, "up"],
            ]
            for (node, ns, address) in [("a", a, "10.236.1.1/24"), ("b", b, "10.236.1.2/24"), ("x", x, "10.236.2.9/24")] {
                let dev = interface(node)
                steps += [
                    ["ip", "link", "add", dev, "netns", ns.name, "type", "veth", "peer", "name", dev + "s", "netns", s.name],
                    ["ip", "-n", s.name, "link", "set", dev + "s", "master", bridge],
                    ["ip", "-n", s.name, "link", "set", dev + "s", "up"],
                    ["ip", "-n", ns.name, "addr", "add", address, "dev", dev],
                    ["ip", "-n", ns.name, "link", "set", dev, "up"],
                ]
            }
            // The attacker reaches the peers' subnet and the group on the shared wire; B can
            // answer it (a TCP handshake needs that).
            steps += [
                ["ip", "-n", x.name, "route", "add", "10.236.1.0/24", "dev", interface("x")],
                ["ip", "-n", x.name, "route", "add", "224.0.0.0/4", "dev", interface("x")],
                ["ip", "-n", b.name, "route", "add", "10.236.2.0/24", "dev", interface("b")],
            ]
            for argv in steps {
                let r = Shell.run(argv)
                if r.status != 0 { remove(); throw TestSetupError("\(argv): \(r.stderr)") }
            }
            // No ARP from the attacker: its requests must not teach B anything.
            let mac = b.run(["cat", "/sys/class/net/\(interface("b"))/address"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            Shell.run(["ip", "-n", x.name, "neigh", "replace", "10.236.1.2", "lladdr", mac, "dev", interface("x"), "nud", "permanent"])
            try config("a", "10.236.1.1", "10.236.1.2")
            try config("b", "10.236.1.2", "10.236.1.1")
            let environment = (hardened ? [] : ["TANDEM_TEST_NO_SYNC_HARDENING=1"]) + extra
            for (name, ns) in [("a", a), ("b", b)] {
                do {
                    daemons.append(try ns.start(["env"] + environment + [Shell.tandem, "conntrackd", "-C", "\(dir)/\(name).conf"],
                                                stdout: "\(dir)/\(name).out", stderr: "\(dir)/\(name).err"))
                } catch {
                    remove()
                    throw error
                }
            }
        }

        func config(_ name: String, _ me: String, _ peer: String) throws {
            let dev = interface(name)
            let link = channel == "Multicast"
                ? "Multicast {\n IPv4_address 225.0.0.50\n Group 3780\n IPv4_interface \(me)\n Interface \(dev)\n Checksum on\n }"
                : "\(channel) {\n IPv4_address \(me)\n IPv4_Destination_Address \(peer)\n Port 3780\n Interface \(dev)\n Checksum on\n }"
            let text = """
            Sync {
                Mode FTFW {
                    DisableExternalCache Off
                    CommitTimeout 180
                    PurgeTimeout 5
                }
                \(link)
            }
            General {
                HashSize 8192
                HashLimit 65536
                LogFile \(dir)/\(name).log
                LockFile \(dir)/\(name).lock
                UNIX {
                    Path \(dir)/\(name).ctl
                }
                NetlinkEventsReliable on
            }
            """
            try text.write(toFile: "\(dir)/\(name).conf", atomically: true, encoding: .utf8)
        }

        func tandem(_ node: String, _ args: [String]) -> String {
            (node == "a" ? a : b).run([Shell.tandem, "conntrackd", "-C", "\(dir)/\(node).conf"] + args).stdout
        }

        var external: String { tandem("b", ["-e"]) }

        func eventually(_ seconds: Double, _ condition: () -> Bool) -> Bool { TestSupport.eventually(within: seconds, condition) }

        /// Both daemons up, through the handshake, and replicating: one flow made on A is seen on B.
        func ready() -> Bool {
            guard eventually(10, { FileManager.default.fileExists(atPath: "\(dir)/b.ctl") && FileManager.default.fileExists(atPath: "\(dir)/a.ctl") })
            else { return false }
            usleep(1_500_000)
            a.run(["conntrack", "-I", "-p", "udp", "-s", "10.236.50.1", "-d", "10.236.51.1", "--sport", "999", "--dport", "53", "-t", "120"])
            return eventually(10) { external.contains("src=10.236.50.1 ") }
        }

        /// `count` UDP flows made on A after the attack.
        func makeFlows(_ count: Int) {
            for i in 0 ..< count {
                a.run(["conntrack", "-I", "-p", "udp", "-s", "10.236.60.\(i + 1)", "-d", "10.236.61.1", "--sport", "1000", "--dport", "53", "-t", "120"])
            }
        }

        func arrived(_ count: Int) -> Int {
            let e = external
            return (0 ..< count).filter { e.contains("src=10.236.60.\($0 + 1) ") }.count
        }

        func refusals() -> String { tandem("b", ["-s", "network"]) }

        func log(_ node: String) -> String { Vectors.readText("\(dir)/\(node).log") }

        func remove() {
            for d in daemons { d.stop() }
            for ns in [a, b, x, s] { ns.remove() }
            try? FileManager.default.removeItem(atPath: dir)
        }
    }

    /// A forged NEW message for the planted flow, its sequence number far ahead of any
    /// the peers use (theirs start at the time of day).
    static func forgedMessage() -> [UInt8] {
        var f = SyncedFlow()
        f.source = IPAddress(forgedSource)
        f.destination = IPAddress(forgedDestination)
        f.protocolNumber = 6
        f.ports = SyncPorts(source: 4444, destination: 22)
        f.tcpState = 3
        f.status = 0xe
        f.timeout = 300
        var out: [UInt8] = []
        let sequence = UInt32(truncatingIfNeeded: time(nil)) &+ 2_000_000
        SyncMessage(type: .flowNew, sequence: sequence, body: .flow(f)).encode(into: &out)
        return out
    }

    /// The count on a line of `-s network`'s "refused" block.
    static func refused(_ network: String, _ reason: String) -> Int {
        network.split(separator: "\n").first { $0.contains("\(reason):") }
            .flatMap { Int($0.split(separator: "\t").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "") } ?? -1
    }

    /// A UDP datagram from inside `ns`, bound to `source`, to `destination`:3780.
    static func sendDatagram(in ns: TestNamespace, from source: String, to destination: String, _ bytes: [UInt8]) throws {
        try NetworkNamespace.run(named: ns.name) {
            let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            guard fd >= 0 else { throw TestSetupError("socket: \(errno)") }
            defer { close(fd) }
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            inet_pton(AF_INET, source, &local.sin_addr)
            _ = withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            var target = sockaddr_in()
            target.sin_family = sa_family_t(AF_INET)
            target.sin_port = UInt16(3780).bigEndian
            inet_pton(AF_INET, destination, &target.sin_addr)
            let n = bytes.withUnsafeBytes { raw in
                withUnsafePointer(to: &target) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(fd, raw.baseAddress, raw.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            }
            guard n == bytes.count else { throw TestSetupError("sendto \(destination): \(errno)") }
        }
    }

    /// A TCP connection from inside `ns` to `destination`:3780 that writes `bytes` and
    /// stays open `hold` seconds (bounded), then closes.
    static func sendStream(in ns: TestNamespace, to destination: String, _ bytes: [UInt8], hold: UInt32 = 1) throws {
        try NetworkNamespace.run(named: ns.name) {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw TestSetupError("socket: \(errno)") }
            defer { close(fd) }
            var timeout = timeval(tv_sec: 3, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var target = sockaddr_in()
            target.sin_family = sa_family_t(AF_INET)
            target.sin_port = UInt16(3780).bigEndian
            inet_pton(AF_INET, destination, &target.sin_addr)
            let rc = withUnsafePointer(to: &target) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            guard rc == 0 else { throw TestSetupError("connect \(destination): \(errno)") }
            _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            sleep(hold)
        }
    }

    /// The same datagram with a forged source address (the peer's), through a raw socket:
    /// IPv4 header, UDP header (checksum 0: none, allowed over IPv4), the message.
    static func sendSpoofed(in lab: Lab, from source: String, to destination: String, _ bytes: [UInt8]) throws {
        let sender = try RawIPv4Sender(namespace: lab.x.name, interface: lab.interface("x"))
        let length = 8 + bytes.count
        let udp: [UInt8] = [0x0e, 0xc4, 0x0e, 0xc4, UInt8(length >> 8), UInt8(length & 0xff), 0, 0] + bytes
        func octets(_ s: String) -> [UInt8] { s.split(separator: ".").map { UInt8($0)! } }
        try sender.send(source: octets(source), destination: octets(destination), ttl: 64, protocolNumber: 17, payload: udp)
    }

    // MARK: a foreign source cannot insert a flow

    /// Multicast: the attacker, on the same wire but not on the link's subnet, sends the
    /// forged flow to the group and straight to B's address. Hardened, B reads neither (the
    /// first refused and counted as not from the peer, the second never reaches a socket
    /// bound to the group) and replication carries on; unhardened, the flow is planted.
    @Test(arguments: [true, false]) func multicastForeignSourceCannotInsertAFlow(hardened: Bool) throws {
        let lab = try Lab(hardened ? "mh" : "mc", channel: "Multicast", hardened: hardened)
        defer { lab.remove() }
        #expect(lab.ready(), "B: \(lab.log("b"))")
        let forged = Self.forgedMessage()
        for _ in 0 ..< 3 {
            try Self.sendDatagram(in: lab.x, from: "10.236.2.9", to: "225.0.0.50", forged)
            try Self.sendDatagram(in: lab.x, from: "10.236.2.9", to: "10.236.1.2", forged)
        }
        if hardened {
            #expect(lab.eventually(5) { Self.refused(lab.refusals(), "not-from-peer") >= 1 }, "\(lab.refusals())")
            lab.makeFlows(5)
            #expect(lab.eventually(10) { lab.arrived(5) == 5 }, "\(lab.external)")
            #expect(!lab.external.contains("src=\(Self.forgedSource) "), "\(lab.external)")
            #expect(lab.log("b").contains("not from the peer, last from 10.236.2.9"), "\(lab.log("b"))")
        } else {
            #expect(lab.eventually(5) { lab.external.contains("src=\(Self.forgedSource) ") }, "control: \(lab.external)")
        }
    }

    /// TCP: the attacker connects to B's sync port and writes the forged flow. Hardened, the
    /// connection is closed unread and counted; unhardened, it replaces A's and the flow is planted.
    @Test(arguments: [true, false]) func tcpForeignSourceCannotInsertAFlow(hardened: Bool) throws {
        let lab = try Lab(hardened ? "th" : "tc", channel: "TCP", hardened: hardened)
        defer { lab.remove() }
        #expect(lab.ready(), "B: \(lab.log("b"))")
        try Self.sendStream(in: lab.x, to: "10.236.1.2", Self.forgedMessage())
        if hardened {
            #expect(lab.eventually(5) { Self.refused(lab.refusals(), "not-from-peer") >= 1 }, "\(lab.refusals())")
            lab.makeFlows(5)
            #expect(lab.eventually(10) { lab.arrived(5) == 5 }, "\(lab.external)")
            #expect(!lab.external.contains("src=\(Self.forgedSource) "), "\(lab.external)")
        } else {
            #expect(lab.eventually(5) { lab.external.contains("src=\(Self.forgedSource) ") }, "control: \(lab.external)")
        }
    }

    /// TCP: a second connection from the peer's own address (here from A's namespace,
    /// beside A's live one) writes the forged flow. Hardened, it is closed unread and counted
    /// while A's connection, heard within 3 s, is kept; unhardened, it displaces A's.
    @Test(arguments: [true, false]) func tcpSecondConnectionDoesNotDisplaceALiveOne(hardened: Bool) throws {
        let lab = try Lab(hardened ? "sh" : "sc", channel: "TCP", hardened: hardened)
        defer { lab.remove() }
        #expect(lab.ready(), "B: \(lab.log("b"))")
        try Self.sendStream(in: lab.a, to: "10.236.1.2", Self.forgedMessage())
        if hardened {
            #expect(lab.eventually(5) { Self.refused(lab.refusals(), "tcp-second-connection") >= 1 }, "\(lab.refusals())")
            lab.makeFlows(5)
            #expect(lab.eventually(10) { lab.arrived(5) == 5 }, "\(lab.external)")
            #expect(!lab.external.contains("src=\(Self.forgedSource) "), "\(lab.external)")
        } else {
            #expect(lab.eventually(5) { lab.external.contains("src=\(Self.forgedSource) ") }, "control: \(lab.external)")
        }
    }

    // MARK: costly control messages

    /// Twenty RESYNC requests from the peer's address (spoofed), numbered a little ahead of
    /// the peer's own line so that the sequence guard lets them through: hardened, B answers
    /// one with a bulk send and counts the rest as rate-limited; unhardened, it answers
    /// every one.
    @Test(arguments: [true, false]) func resyncRequestsCostOneBulkSendASecond(hardened: Bool) throws {
        let lab = try Lab(hardened ? "rh" : "rc", channel: "UDP", hardened: hardened)
        defer { lab.remove() }
        #expect(lab.ready(), "B: \(lab.log("b"))")
        // A's numbers start at the time of day it started, a few seconds ago, and it has
        // sent a few messages since: this is within the window ahead of them.
        let first = UInt32(truncatingIfNeeded: time(nil)) &+ 5_000
        for i in 0 ..< 20 {
            var bytes: [UInt8] = []
            ControlMessage(flags: .resync, sequence: first &+ UInt32(i), range: ClosedRangeOfSequences(from: 0, to: 0)).encode(into: &bytes)
            try Self.sendSpoofed(in: lab, from: "10.236.1.1", to: "10.236.1.2", bytes)
        }
        let answered = { lab.log("b").components(separatedBy: "resync requested by other node").count - 1 }
        if hardened {
            #expect(lab.eventually(5) { Self.refused(lab.refusals(), "rate-limited") >= 18 }, "\(lab.refusals())")
            #expect(answered() <= 2, "\(lab.log("b"))")
        } else {
            #expect(lab.eventually(5) { answered() >= 15 }, "control: \(lab.log("b"))")
        }
    }

    // MARK: one forged sequence jump does not stop replication

    /// UDP: one spoofed datagram from the peer's address numbered 5,000 ahead of its line,
    /// within the window: taken as loss, its flow planted (only a key stops that). Hardened,
    /// the peer's own messages, arriving as "before", show the gap forged once its line has
    /// been silent 2 s: B resumes the peer's line, NACKs what it dropped meanwhile, and every
    /// flow made afterwards arrives. Unhardened, they never do.
    @Test(arguments: [true, false]) func aForgedGapWithinTheWindowIsUndone(hardened: Bool) throws {
        let lab = try Lab(hardened ? "wh" : "wc", channel: "UDP", hardened: hardened)
        defer { lab.remove() }
        #expect(lab.ready(), "B: \(lab.log("b"))")
        var bytes = Self.forgedMessage()
        let sequence = UInt32(truncatingIfNeeded: time(nil)) &+ 5_000
        bytes.replaceSubrange(4 ..< 8, with: [UInt8(sequence >> 24), UInt8(sequence >> 16 & 0xff), UInt8(sequence >> 8 & 0xff), UInt8(sequence & 0xff)])
        try Self.sendSpoofed(in: lab, from: "10.236.1.1", to: "10.236.1.2", bytes)
        #expect(lab.eventually(5) { lab.external.contains("src=\(Self.forgedSource) ") }, "\(lab.external)")
        lab.makeFlows(20)
        if hardened {
            #expect(lab.eventually(15) { lab.arrived(20) == 20 }, "\(lab.external)\n\(lab.log("b"))")
            #expect(lab.log("b").contains("a sequence gap was forged"), "\(lab.log("b"))")
        } else {
            usleep(4_000_000)
            #expect(lab.arrived(20) < 20, "control: the forged gap should have stalled replication: \(lab.external)")
        }
    }

    /// One datagram from the peer's own address (spoofed through a raw socket; over
    /// Multicast, sent to the group) jumps B's sequence 2 million ahead: the source checks
    /// cannot tell it from the peer's. Hardened, it is refused as an unconfirmed jump, its
    /// flow is not planted, and every flow made afterwards arrives. Unhardened, the jump is
    /// adopted: the planted flow arrives, and A's genuine messages then count as old, so
    /// the flows made afterwards do not.
    @Test(arguments: ["UDP", "Multicast"], [true, false]) func aForgedJumpDoesNotStopReplication(channel: String, hardened: Bool) throws {
        let lab = try Lab("j\(channel.prefix(1).lowercased())\(hardened ? "h" : "c")", channel: channel, hardened: hardened)
        defer { lab.remove() }
        #expect(lab.ready(), "B: \(lab.log("b"))")
        try Self.sendSpoofed(in: lab, from: "10.236.1.1", to: channel == "UDP" ? "10.236.1.2" : "225.0.0.50", Self.forgedMessage())
        usleep(300_000)
        lab.makeFlows(20)
        if hardened {
            #expect(lab.eventually(10) { lab.arrived(20) == 20 }, "\(lab.external)")
            #expect(Self.refused(lab.refusals(), "sequence-jump-unconfirmed") >= 1, "\(lab.refusals())")
            #expect(!lab.external.contains("src=\(Self.forgedSource) "), "\(lab.external)")
            #expect(lab.log("b").contains("refused 1 message(s) from the sync link"), "\(lab.log("b"))")
        } else {
            #expect(lab.eventually(5) { lab.external.contains("src=\(Self.forgedSource) ") }, "control: \(lab.external)")
            usleep(3_000_000)
            #expect(lab.arrived(20) < 20, "control: the jump should have stalled replication: \(lab.external)")
        }
    }
}
