#if canImport(Glibc)
import Glibc
#endif
import IPAddressing

/// The host state keepalived manages besides the virtual addresses: static_ipaddress,
/// static_routes and static_rules (kept whatever the state), an instance's excluded
/// addresses and virtual_rules, and the VIPs an advert has no room for.
extension KeepalivedConfigParser {
    /// keepalived's fallback when a static address names no device and global_defs names
    /// no default_interface.
    static let defaultInterface = "eth0"
    /// keepalived numbers rules without a preference downwards from here, per family, in
    /// the order they are read, so a master's rules always go in in the same order.
    static let firstAutomaticRulePriority: UInt32 = 16384

    mutating func staticAddresses(_ n: Node) {
        for x in n.children ?? [] {
            guard let (group, rest) = takeTrackGroup(x.arguments, of: x.keyword.text),
                  var v = virtualAddress(Node(keyword: x.keyword, arguments: rest, children: x.children), isStatic: true) else { continue }
            if v.device == nil {
                // keepalived looks the default up once, at the first address that needs it:
                // a default_interface written after that line changes nothing.
                let name = usedDefaultInterface ?? config.defaultInterface ?? Self.defaultInterface
                usedDefaultInterface = name
                v.device = name
            }
            v.trackGroup = group
            requireInterface(v.device!, for: "ip address \(x.keyword.text)", x)
            config.staticAddresses.append(v)
            staticAddressLocations.append(x.keyword.location)
        }
    }

    /// keepalived reports a line naming an interface the host lacks (and runs without
    /// it); the daemon then reports the address, route or rule it cannot install.
    mutating func requireInterface(_ name: String, for what: String, _ line: Node) {
        guard if_nametoindex(name) == 0 else { return }
        tolerate("WARNING - interface \(name) for \(what) doesn't exist", line.keyword)
    }

    mutating func staticRoutes(_ n: Node) {
        for x in n.children ?? [] {
            let line = ([x.keyword] + x.arguments).map(\.text).joined(separator: " ")
            guard let (group, rest) = takeTrackGroup([x.keyword] + x.arguments, of: line) else { continue }
            do {
                var r = try VirtualRoute(rest.map(\.text))
                if let d = r.device { requireInterface(d, for: "VROUTE nexthop", x) }
                // As for virtual_routes: keepalived says so (-t exits 5) and never puts
                // such a route back.
                if r.device == nil && !r.noTrack {
                    let dest = r.destination.map { "\($0)/\(r.prefix)" } ?? "default"
                    tolerate("Warning - cannot track route \(dest) with no interface specified, not tracking", x.keyword)
                }
                if group != nil && r.device == nil {
                    tolerate("Static route cannot have track group if no oif specified", x.keyword)
                } else {
                    r.trackGroup = group
                }
                config.staticRoutes.append(r)
                staticRouteLocations.append(x.keyword.location)
            } catch {
                let text = error.message.hasPrefix("virtual_routes: ") ? String(error.message.dropFirst(16)) : error.message
                self.error("static_routes: \(text)", x.keyword)
            }
        }
    }

    /// An instance's `virtual_routes`: each line is read now, so `-t` names a bad one at its
    /// file:line:column as keepalived does (a configuration error, exit 5); a bad line is
    /// left out, as keepalived leaves it out.
    mutating func virtualRoutes(_ n: Node, into v: inout KeepalivedConfiguration.Instance) {
        for x in n.children ?? [] {
            let words = [x.keyword.text] + x.arguments.map(\.text)
            do {
                let r = try VirtualRoute(words)
                if let d = r.device { requireInterface(d, for: "VROUTE nexthop", x) }
                // keepalived tracks a route through its interface; without one it says so
                // (its -t exits 5) and installs the route untracked, as Tandem does.
                if r.device == nil && !words.contains("no_track") {
                    let dest = r.destination.map { "\($0)/\(r.prefix)" } ?? "default"
                    tolerate("Warning - cannot track route \(dest) with no interface specified, not tracking", x.keyword)
                }
                v.virtualRoutes.append(words)
            } catch {
                self.error("(\(v.name)) \(error.message)", x.keyword)
            }
        }
    }

    mutating func staticRules(_ n: Node) {
        for (r, at) in rules(n, isStatic: true) {
            config.staticRules.append(r)
            staticRuleLocations.append(at)
        }
    }

    /// Rule lines of `static_rules` or `virtual_rules`, each with where it was written; a
    /// bad line is reported and left out, as keepalived leaves it out. Only a static rule
    /// may name a track_group.
    mutating func rules(_ n: Node, isStatic: Bool = false) -> [(VirtualRule, SourceLocation)] {
        var parsed: [(VirtualRule, SourceLocation)] = []
        for x in n.children ?? [] {
            var tokens = [x.keyword] + x.arguments
            var group: String?
            if isStatic {
                // The words left keep their places in the file, for the errors about them.
                guard let taken = takeTrackGroup(tokens, of: tokens.map(\.text).joined(separator: " ")) else { continue }
                (group, tokens) = taken
            }
            do {
                var r = try VirtualRule(tokens.map(\.text))
                if r.priority == nil {
                    let next = nextRulePriority[r.family, default: Self.firstAutomaticRulePriority]
                    nextRulePriority[r.family] = next - 1
                    r.priority = next
                    tolerate("Rule has no preference specified - setting to \(next). This is probably not what you want.", x.keyword)
                }
                for d in [r.inputInterface, r.outputInterface].compactMap({ $0 }) { requireInterface(d, for: "rule", x) }
                for p in r.problems { tolerate(p.message, tokens[min(p.word, tokens.count - 1)]) }
                if group != nil && r.inputInterface == nil {
                    tolerate("Static rule cannot have track_group if dev/iif not specified", x.keyword)
                } else {
                    r.trackGroup = group
                }
                parsed.append((r, x.keyword.location))
            } catch {
                let t = tokens[min(error.word, tokens.count - 1)]
                if error.unsupported { unsupported("\(n.keyword.text) \(error.message)", t) } else { self.error(error.message, t) }
            }
        }
        return parsed
    }

    mutating func excludedAddresses(_ n: Node, into v: inout KeepalivedConfiguration.Instance) {
        // Unlike the advertised ones, these may be of the other address family.
        for x in n.children ?? [] {
            guard let address = virtualAddress(x) else { continue }
            if let d = address.device { requireInterface(d, for: "ip address \(x.keyword.text)", x) }
            v.excludedAddresses.append(address)
        }
    }

    /// An advert carries at most 255 addresses, and no more than fit in the interface's
    /// MTU; keepalived moves the rest to the excluded addresses and reports it.
    mutating func moveExcessAddresses(mtu: (String) -> Int? = KeepalivedConfigParser.interfaceMTU) {
        for i in config.instances.indices {
            let v = config.instances[i]
            let limit = Self.advertisableAddresses(v, mtu: v.interface.flatMap(mtu) ?? 1500)
            guard v.virtualAddresses.count > limit else { continue }
            tolerate("(\(v.name)) Number of VIPs (\(v.virtualAddresses.count)) exceeds maximum/space available in packet (max \(limit) addresses) - excess moved to eVIPs",
                     Token(kind: .word, text: v.name, location: v.location, startsLine: true))
            config.instances[i].excludedAddresses = Array(v.virtualAddresses[limit...]) + v.excludedAddresses
            config.instances[i].virtualAddresses = Array(v.virtualAddresses[..<limit])
        }
    }

    /// keepalived's sum: an Ethernet frame of the MTU less the headers, one address each.
    static func advertisableAddresses(_ v: KeepalivedConfiguration.Instance, mtu: Int) -> Int {
        let ipv6 = v.virtualAddresses.first?.address.family == AddressFamily.inet6
        var header = 14 + (ipv6 ? 40 : 20) + 8
        if !ipv6 && v.effectiveVersion == 2 {
            header += 8
            if v.authenticationType == "AH" { header += 24 }
        }
        return max(0, min(255, (mtu - header) / (ipv6 ? 16 : 4)))
    }

    /// The interface's MTU (SIOCGIFMTU), nil when there is no such interface.
    public static func interfaceMTU(_ name: String) -> Int? {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var request = ifreq()
        let bytes = Array(name.utf8.prefix(Int(IFNAMSIZ) - 1))
        withUnsafeMutableBytes(of: &request.ifr_ifrn.ifrn_name) { raw in
            for (k, b) in bytes.enumerated() { raw[k] = b }
        }
        guard ioctl(fd, UInt(SIOCGIFMTU), &request) == 0 else { return nil }
        return Int(request.ifr_ifru.ifru_mtu)
    }
}
