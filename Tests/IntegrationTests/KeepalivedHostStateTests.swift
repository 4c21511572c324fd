import Foundation
import TestSupport
import Testing

/// What keepalived 2.2.7 puts on the host besides the VIPs, side by side with Tandem: each
/// runs the same keepalived.conf in its own namespace (a lone router, its own VRID) and
/// the kernel's tables are compared with `ip`. The control runs the same files without
/// the keywords and finds nothing installed by either.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("keepalived"), "needs root and keepalived"))
struct KeepalivedHostStateTests {
    static func config(_ dev: String, vrid: Int, keywords: Bool, global: String = "") -> String {
        let extra = !keywords ? "" : """
            virtual_ipaddress_excluded {
                10.82.0.5/24 dev \(dev)
                10.92.0.6/24 dev \(dev) scope host
                2001:db8:82::5/64 dev \(dev)
            }
            virtual_rules {
                from 10.83.0.0/16 table 100 priority 200
                to 10.84.0.0/16 iif \(dev) fwmark 0x10/0xff lookup 1000 priority 201
                not from 10.85.0.0/16 blackhole priority 202 no_track
                to 10.89.0.0/16 table 102
                from 10.94.0.0/16 ipproto tcp sport 1000-2000 dport 80-90 uidrange 100-200 suppress_prefixlength 8 table 103 priority 220
            }
        """
        let statics = !keywords ? "" : """
        static_ipaddress {
            10.86.0.5/24 dev \(dev)
            10.91.0.6/24 dev \(dev) scope link
        }
        static_routes {
            10.87.0.0/24 via 10.81.0.254 dev \(dev)
        }
        static_rules {
            from 10.88.0.0/16 table 101 priority 300
        }

        """
        return """
        global_defs {
            router_id tk1-\(vrid)
        \(global)}
        \(statics)vrrp_instance HS {
            state BACKUP
            interface \(dev)
            virtual_router_id \(vrid)
            priority 100
            version 3
            advert_int 0.2
            virtual_ipaddress {
                10.81.0.100/24 dev \(dev)
            }
        \(extra)
        }

        """
    }

    static let ownAddress = try! NSRegularExpression(pattern: "10\\.81\\.0\\.[12](?![0-9])")

    /// The side's rules, addresses and routes with its interface name and own address taken out.
    static func picture(_ ns: TestNamespace, _ dev: String) -> (rules: String, addresses: String, routes: String) {
        func clean(_ s: String) -> String {
            s.split(separator: "\n").map { line in
                let l = line.replacingOccurrences(of: dev, with: "IF").trimmingCharacters(in: .whitespaces)
                return ownAddress.stringByReplacingMatches(in: l, range: NSRange(l.startIndex..., in: l), withTemplate: "SELF")
            }
                .filter { !$0.contains("valid_lft") && !$0.contains("fe80::") }.sorted().joined(separator: "\n")
        }
        let rules = ns.run(["ip", "-4", "rule"]).stdout + ns.run(["ip", "-6", "rule"]).stdout
        // Each address with its scope: "10.86.0.6/24 scope link".
        let addresses = ns.run(["ip", "-o", "addr", "show", "dev", dev]).stdout.split(separator: "\n").map { line in
            let words = line.split(separator: " ")
            let at = words.firstIndex { $0 == "inet" || $0 == "inet6" }.map { words.index(after: $0) }
            let scope = words.firstIndex(of: "scope").map { words.index(after: $0) }
            return [at, scope].compactMap { $0.flatMap { $0 < words.endIndex ? String(words[$0]) : nil } }.joined(separator: " scope ")
        }.joined(separator: "\n")
        let routes = ns.run(["ip", "route", "show", "table", "all"]).stdout
        return (clean(rules), clean(addresses), clean(routes))
    }

    @Test(arguments: [true, false])
    func bothInstallTheSameRulesAddressesAndRoutes(keywords: Bool) throws {
        let pair = try SwitchedPair(tag: "hs", prefix: "tk1", network: "10.81")
        defer { pair.remove() }
        // Both sides carry the same addresses on their own interface; only the VRIDs differ,
        // so each is a lone master.
        let tandem = try VRRPRouter(.tandem, in: pair.a, config: Self.config(pair.interface("a", 0), vrid: 81, keywords: keywords))
        defer { tandem.remove() }
        let keepalived = try VRRPRouter(.keepalived, in: pair.b, config: Self.config(pair.interface("b", 0), vrid: 82, keywords: keywords))
        defer { keepalived.remove() }
        try #require(eventually(within: 15) { pair.holds("a", "10.81.0.100") && pair.holds("b", "10.81.0.100") },
                     "\(tandem.log)\n\(keepalived.log)")
        // Masters settle their host state within the same turn as the VIPs; a moment for keepalived's.
        _ = eventually(within: 5) { Self.picture(pair.b, pair.interface("b", 0)).rules.contains("10.89.0.0/16") == keywords
                                    && Self.picture(pair.a, pair.interface("a", 0)).rules.contains("10.89.0.0/16") == keywords }
        let ours = Self.picture(pair.a, pair.interface("a", 0))
        let theirs = Self.picture(pair.b, pair.interface("b", 0))
        #expect(ours.rules == theirs.rules, "tandem:\n\(ours.rules)\nkeepalived:\n\(theirs.rules)")
        #expect(ours.addresses == theirs.addresses, "tandem:\n\(ours.addresses)\nkeepalived:\n\(theirs.addresses)")
        #expect(ours.routes == theirs.routes, "tandem:\n\(ours.routes)\nkeepalived:\n\(theirs.routes)")
        let expected = ["200:\tfrom 10.83.0.0/16 lookup 100 proto keepalived",
                        "201:\tfrom all to 10.84.0.0/16 fwmark 0x10/0xff iif IF lookup 1000 proto keepalived",
                        "202:\tnot from 10.85.0.0/16 blackhole", "300:\tfrom 10.88.0.0/16 lookup 101 proto keepalived",
                        "16384:\tfrom all to 10.89.0.0/16 lookup 102 proto keepalived",
                        "220:\tfrom 10.94.0.0/16 uidrange 100-200 ipproto tcp sport 1000-2000 dport 80-90 lookup 103 suppress_prefixlength 8 proto keepalived"]
        for line in expected { #expect(ours.rules.contains(line) == keywords, "\(line)\n\(ours.rules)") }
        for address in ["10.82.0.5/24 scope global", "2001:db8:82::5/64 scope global", "10.86.0.5/24 scope global",
                        "10.92.0.6/24 scope host", "10.91.0.6/24 scope link"] {
            #expect(ours.addresses.contains(address) == keywords, "\(address)\n\(ours.addresses)")
        }
        #expect(ours.routes.contains("10.87.0.0/24 via 10.81.0.254 dev IF proto keepalived") == keywords, "\(ours.routes)")
        // The excluded addresses ride in no advert: a master's lists only its VIP.
        if keywords {
            #expect(tandem.data().contains("Virtual IP Excluded :"))
            #expect(!tandem.log.contains("cannot"), "\(tandem.log)")
        }
        // At stop both take everything out, the static entries included.
        tandem.stop()
        keepalived.stop()
        #expect(eventually(within: 10) {
            let a = Self.picture(pair.a, pair.interface("a", 0)), b = Self.picture(pair.b, pair.interface("b", 0))
            return a.rules == b.rules && a.addresses == b.addresses && a.routes == b.routes && !a.rules.contains("keepalived")
                && !a.addresses.contains("10.86.0.5") && !a.addresses.contains("10.82.0.5")
        }, "tandem:\n\(Self.picture(pair.a, pair.interface("a", 0)))\nkeepalived:\n\(Self.picture(pair.b, pair.interface("b", 0)))")
    }

    /// SIGHUP with statics and rules changed: both daemons take out what left the file and
    /// put in what came, and end with the same rules and addresses; the control reload (the
    /// file unchanged) leaves Tandem's first picture as it was. One deliberate difference:
    /// keepalived 2.2.7 loses its static route on a reload, even an unchanged one, where
    /// Tandem keeps it (docs/compatibility.md), so routes are compared without it.
    @Test(arguments: [true, false])
    func reloadAppliesTheDifference(changed: Bool) throws {
        let pair = try SwitchedPair(tag: "rl", prefix: "tk1", network: "10.81")
        defer { pair.remove() }
        let devA = pair.interface("a", 0), devB = pair.interface("b", 0)
        let tandem = try VRRPRouter(.tandem, in: pair.a, config: Self.config(devA, vrid: 91, keywords: true))
        defer { tandem.remove() }
        let keepalived = try VRRPRouter(.keepalived, in: pair.b, config: Self.config(devB, vrid: 92, keywords: true))
        defer { keepalived.remove() }
        try #require(eventually(within: 15) {
            Self.picture(pair.a, devA).rules.contains("10.89.0.0/16") && Self.picture(pair.b, devB).rules.contains("10.89.0.0/16")
        }, "\(tandem.log)\n\(keepalived.log)")
        let before = Self.picture(pair.a, devA)
        func edited(_ text: String) -> String {
            guard changed else { return text }
            return text.replacingOccurrences(of: "from 10.88.0.0/16 table 101 priority 300", with: "from 10.98.0.0/16 table 101 priority 301")
                .replacingOccurrences(of: "        to 10.89.0.0/16 table 102\n", with: "")
                .replacingOccurrences(of: "10.91.0.6/24", with: "10.93.0.6/24")
        }
        for r in [tandem, keepalived] {
            try edited(Vectors.readText(r.configPath)).write(toFile: r.configPath, atomically: true, encoding: .utf8)
            r.signal(SIGHUP)
        }
        func withoutStaticRoute(_ s: String) -> String { s.split(separator: "\n").filter { !$0.contains("10.87.0.0/24") }.joined(separator: "\n") }
        let settled = eventually(within: 10) {
            let a = Self.picture(pair.a, devA), b = Self.picture(pair.b, devB)
            return a.rules == b.rules && a.addresses == b.addresses && withoutStaticRoute(a.routes) == withoutStaticRoute(b.routes)
                && a.rules.contains("10.98.0.0/16") == changed && b.rules.contains("10.98.0.0/16") == changed
        }
        let a = Self.picture(pair.a, devA), b = Self.picture(pair.b, devB)
        #expect(settled, "tandem:\n\(a)\nkeepalived:\n\(b)\n\(tandem.log)")
        #expect(a.routes.contains("10.87.0.0/24 via 10.81.0.254 dev IF proto keepalived"), "\(a.routes)")
        if changed {
            #expect(!a.rules.contains("10.88.0.0/16") && !a.rules.contains("10.89.0.0/16") && a.rules.contains("301:"), "\(a.rules)")
            #expect(a.addresses.contains("10.93.0.6/24 scope link") && !a.addresses.contains("10.91.0.6"), "\(a.addresses)")
        } else {
            #expect(a == before, "\(a)\n\(before)")
        }
    }

    /// An earlier run's virtual rule (a master that died) is taken out when an instance
    /// starts, as its VIPs are, so a BACKUP does not route by it; the control, the same
    /// rule with no virtual_rules naming it, is left alone.
    @Test(arguments: [true, false])
    func staleVirtualRulesGoAtStart(named: Bool) throws {
        let pair = try SwitchedPair(tag: "st", prefix: "tk1", network: "10.81")
        defer { pair.remove() }
        let dev = pair.interface("a", 0)
        pair.a.run(["ip", "rule", "add", "from", "10.83.0.0/16", "table", "100", "priority", "200", "protocol", "keepalived"])
        // The delay keeps the instance in BACKUP for the whole test.
        var text = Self.config(dev, vrid: 93, keywords: named, global: "    vrrp_startup_delay 60\n")
        if !named { text = text.replacingOccurrences(of: "vrrp_instance HS {", with: "vrrp_instance HS {\n    virtual_rules {\n        from 10.99.0.0/16 table 100 priority 210\n    }") }
        let tandem = try VRRPRouter(.tandem, in: pair.a, config: text)
        defer { tandem.remove() }
        try #require(eventually(within: 10) { tandem.log.contains("Entering BACKUP STATE") }, "\(tandem.log)")
        let gone = eventually(within: 3) { !Self.picture(pair.a, dev).rules.contains("10.83.0.0/16") }
        #expect(gone == named, "\(Self.picture(pair.a, dev).rules)\n\(tandem.log)")
        #expect(!pair.holds("a", "10.81.0.100"))
    }

    /// More VIPs than an advert holds at the interface's MTU (200 bytes: 37 IPv4 addresses
    /// in a VRRPv2 advert): both daemons advertise the first 37, install all 40, and say so
    /// in their data dumps; the control at MTU 1500 advertises all 40 and excludes none.
    @Test(arguments: [200, 1500])
    func excessVIPsAreInstalledButNotAdvertised(mtu: Int) throws {
        let pair = try SwitchedPair(tag: "ev", prefix: "tk1", network: "10.81")
        defer { pair.remove() }
        for side in ["a", "b"] {
            pair.namespace(side).run(["ip", "link", "set", pair.interface(side, 0), "mtu", "\(mtu)"])
        }
        func text(_ side: String, _ vrid: Int) -> String {
            let vips = (1...40).map { "        10.90.0.\($0)/24 dev \(pair.interface(side, 0))" }.joined(separator: "\n")
            return "vrrp_instance EV {\n    interface \(pair.interface(side, 0))\n    virtual_router_id \(vrid)\n    advert_int 1\n"
                + "    priority 255\n    state MASTER\n    virtual_ipaddress {\n\(vips)\n    }\n}\n"
        }
        let tandem = try VRRPRouter(.tandem, in: pair.a, config: text("a", 89))
        defer { tandem.remove() }
        let keepalived = try VRRPRouter(.keepalived, in: pair.b, config: text("b", 90))
        defer { keepalived.remove() }
        try #require(eventually(within: 15) { pair.holds("a", "10.90.0.40") && pair.holds("b", "10.90.0.40") },
                     "\(tandem.log)\n\(keepalived.log)")
        let advertised = mtu == 200 ? 37 : 40
        for (name, dump) in [("tandem", tandem.data()), ("keepalived", keepalived.data())] {
            #expect(dump.contains("Virtual IP (\(advertised)):"), "\(name):\n\(dump)")
            #expect(dump.contains("Virtual IP Excluded :") == (mtu == 200), "\(name):\n\(dump)")
        }
        for n in 1...40 { #expect(pair.holds("a", "10.90.0.\(n)"), "10.90.0.\(n)") }
    }

    /// vrrp_startup_delay: with a long delay neither daemon becomes MASTER while the control
    /// pair (the same files without it) has long done so.
    @Test func startupDelayHoldsBothInBackup() throws {
        let pair = try SwitchedPair(tag: "sd", prefix: "tk1", network: "10.81")
        defer { pair.remove() }
        let control = try SwitchedPair(tag: "sc", prefix: "tk1", network: "10.81")
        defer { control.remove() }
        func text(_ p: SwitchedPair, _ side: String, _ vrid: Int, delay: Bool) -> String {
            Self.config(p.interface(side, 0), vrid: vrid, keywords: false, global: delay ? "    vrrp_startup_delay 60\n" : "")
        }
        let routers = [
            try VRRPRouter(.tandem, in: pair.a, config: text(pair, "a", 83, delay: true)),
            try VRRPRouter(.keepalived, in: pair.b, config: text(pair, "b", 84, delay: true)),
            try VRRPRouter(.tandem, in: control.a, config: text(control, "a", 85, delay: false)),
            try VRRPRouter(.keepalived, in: control.b, config: text(control, "b", 86, delay: false)),
        ]
        defer { for r in routers { r.remove() } }
        try #require(eventually(within: 15) { control.holds("a", "10.81.0.100") && control.holds("b", "10.81.0.100") },
                     "\(routers[2].log)\n\(routers[3].log)")
        // Several down intervals (0.2 s adverts) after the control's masters took over.
        usleep(1_500_000)
        #expect(!pair.holds("a", "10.81.0.100"), "\(routers[0].log)")
        #expect(!pair.holds("b", "10.81.0.100"), "\(routers[1].log)")
        #expect(routers[0].log.contains("Delaying startup for 60 seconds"), "\(routers[0].log)")
        #expect(routers[1].log.contains("Delaying startup for 60 seconds"), "\(routers[1].log)")
    }

    /// vrrp_priority: keepalived's VRRP process and Tandem's VRRP thread run at the nice
    /// value given; the control (no keyword) leaves both at 0.
    @Test(arguments: [true, false])
    func processPriorityRenicesTheVRRPSide(set: Bool) throws {
        let pair = try SwitchedPair(tag: "np", prefix: "tk1", network: "10.81")
        defer { pair.remove() }
        let global = set ? "    vrrp_priority -7\n" : ""
        let tandem = try VRRPRouter(.tandem, in: pair.a, config: Self.config(pair.interface("a", 0), vrid: 87, keywords: false, global: global))
        defer { tandem.remove() }
        let keepalived = try VRRPRouter(.keepalived, in: pair.b, config: Self.config(pair.interface("b", 0), vrid: 88, keywords: false, global: global))
        defer { keepalived.remove() }
        try #require(eventually(within: 15) { pair.holds("a", "10.81.0.100") && pair.holds("b", "10.81.0.100") })
        func nices(_ pid: pid_t) -> [String] {
            Shell.run(["ps", "-L", "-o", "nice=", "-p", "\(pid)"]).stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        let theirs = nices(try #require(keepalived.vrrpPID))
        let ours = nices(tandem.process.pid)
        #expect(theirs == [set ? "-7" : "0"], "\(theirs)")
        #expect(ours.contains(set ? "-7" : "0") && (set || !ours.contains("-7")), "\(ours)")
    }
}
