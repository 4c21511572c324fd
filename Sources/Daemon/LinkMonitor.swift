#if canImport(Glibc)
import Glibc
#endif
import Netlink
import LinkIO

/// Link state from rtnetlink (RTMGRP_LINK): the daemon learns of an interface going down
/// or coming back from the kernel's own events, as keepalived's netlink reflector does,
/// instead of polling.
package final class LinkMonitor {
    package struct Event: Hashable {
        package var name: String
        /// keepalived's notion of up: IFF_UP and IFF_RUNNING (carrier).
        package var up: Bool
    }

    static let linkGroup: UInt32 = 1
    /// RTMGRP_IPV4_IFADDR and RTMGRP_IPV6_IFADDR: a VIP deleted under a master.
    static let addressGroups: UInt32 = 0x10 | 0x100
    static let deleteAddress: UInt16 = 21
    package static let newLink: UInt16 = 16
    package static let deleteLink: UInt16 = 17
    static let interfaceNameAttribute: UInt16 = 3
    static let iffUp: UInt32 = 0x1
    static let iffRunning: UInt32 = 0x40

    let socket: NetlinkSocket
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)
    /// Events the kernel could not deliver (ENOBUFS): the caller re-reads every state.
    private(set) var overrun = false
    /// The addresses deleted since the last drain, as keepalived's netlink reflector sees them.
    private(set) var deletedAddresses: [DeletedAddress] = []
    /// keepalived's routes (protocol 18) and rules deleted since the last drain; heard only
    /// once `watchRoutesAndRules` joined their groups.
    private(set) var deletedRoutes: [DeletedRoute] = []
    private(set) var deletedRuleFamilies: Set<UInt8> = []
    /// Those deleted rules as the kernel described them, for matching a virtual rule.
    private(set) var deletedRules: [Rules.Rule] = []
    /// The families whose route and rule groups are joined.
    private(set) var watched = RouteWatch()

    /// Which deletions of keepalived's own routes and rules the reflector hears, by family:
    /// keepalived 2.2.7 joins these groups only when something is to be tracked there.
    package struct RouteWatch: Hashable {
        package var routes: Set<UInt8> = []
        package var rules: Set<UInt8> = []
        package init(routes: Set<UInt8> = [], rules: Set<UInt8> = []) {
            self.routes = routes
            self.rules = rules
        }
    }

    package struct DeletedRoute: Hashable {
        package var family: UInt8
        package var table: UInt32
        /// Network-order bytes; empty: a default route.
        package var destination: [UInt8]
        package var prefix: UInt8
        package var tos: UInt8
        /// RTA_PRIORITY (0 without), RTA_OIF: what a virtual route is matched on besides.
        package var metric: UInt32 = 0
        package var interface: UInt32?
    }

    package static let deleteRoute: UInt16 = 25
    package static let deleteRule: UInt16 = 33
    /// RTPROT_KEEPALIVED: routes and rules keepalived (or Tandem for it) put in.
    static let keepalivedProtocol: UInt8 = 18
    /// RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE, RTNLGRP_IPV4_RULE, RTNLGRP_IPV6_RULE.
    static let routeGroups: [UInt8: UInt32] = [2: 7, 10: 11]
    static let ruleGroups: [UInt8: UInt32] = [2: 8, 10: 19]

    package struct DeletedAddress: Hashable {
        package var interface: UInt32
        /// 4 or 16 network-order bytes: IFA_LOCAL, else IFA_ADDRESS.
        package var address: [UInt8]
    }

    init() throws {
        socket = try NetlinkSocket(protocol: NetlinkProtocol.route, groups: Self.linkGroup | Self.addressGroups)
        socket.setNonBlocking(true)
    }

    var descriptor: Int32 { socket.descriptor }

    /// Every event waiting; bounded by what the socket holds.
    func drain() -> [Event] {
        var events: [Event] = []
        overrun = false
        deletedAddresses = []
        deletedRoutes = []
        deletedRuleFamilies = []
        deletedRules = []
        for _ in 0..<256 {
            let n: Int
            do {
                guard case .data(let count) = try socket.receive(into: &buffer) else { break }
                n = count
            } catch .overrun {
                overrun = true
                continue
            } catch {
                break
            }
            var reader = MessageReader(buffer, count: n)
            while let m = reader.next() {
                if m.header.type == Self.deleteAddress {
                    if let d = Self.parseDeletedAddress(buffer, m.payload) { deletedAddresses.append(d) }
                    continue
                }
                if m.header.type == Self.deleteRoute {
                    if let d = Self.parseDeletedRoute(buffer, m.payload) { deletedRoutes.append(d) }
                    continue
                }
                if m.header.type == Self.deleteRule {
                    if let family = Self.parseDeletedRule(buffer, m.payload) {
                        deletedRuleFamilies.insert(family)
                        // An action Tandem never sets makes it no virtual rule's: nothing of ours
                        // is lost when it does not decode, and its family is recorded above, so
                        // the static rules there are still checked.
                        if let r = try? Rules.decode(Array(buffer[(m.payload.lowerBound - NetlinkHeader.size)..<m.payload.upperBound])) {
                            deletedRules.append(r)
                        }
                    }
                    continue
                }
                guard m.header.type == Self.newLink || m.header.type == Self.deleteLink else { continue }
                if let e = Self.parse(buffer, m.payload, deleted: m.header.type == Self.deleteLink) { events.append(e) }
            }
        }
        return events
    }

    /// ifinfomsg (16 bytes: family, pad, type, index, flags, change) then attributes.
    package static func parse(_ b: [UInt8], _ payload: Range<Int>, deleted: Bool) -> Event? {
        guard payload.count >= 16 else { return nil }
        let f = payload.lowerBound + 8
        let flags = UInt32(b[f]) | UInt32(b[f + 1]) << 8 | UInt32(b[f + 2]) << 16 | UInt32(b[f + 3]) << 24
        var p = payload.lowerBound + 16
        while p + 4 <= payload.upperBound {
            let length = Int(b[p]) | Int(b[p + 1]) << 8
            let type = (UInt16(b[p + 2]) | UInt16(b[p + 3]) << 8) & 0x3fff
            guard length >= 4, p + length <= payload.upperBound else { return nil }
            if type == interfaceNameAttribute {
                let name = String(decoding: b[(p + 4)..<(p + length)].prefix { $0 != 0 }, as: UTF8.self)
                return Event(name: name, up: !deleted && flags & iffUp != 0 && flags & iffRunning != 0)
            }
            p += netlinkAlign(length)
        }
        return nil
    }

    /// ifaddrmsg (8 bytes: family, prefix length, flags, scope, index) then attributes;
    /// nil for a message too short, malformed, or without an address of its family's size.
    package static func parseDeletedAddress(_ b: [UInt8], _ payload: Range<Int>) -> DeletedAddress? {
        guard payload.count >= 8 else { return nil }
        let size = b[payload.lowerBound] == 2 ? 4 : 16
        let i = payload.lowerBound + 4
        let index = UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
        return AttributeDecoder.withDecoder(b, range: (payload.lowerBound + 8)..<payload.upperBound) { d -> DeletedAddress? in
            var local: [UInt8]?, address: [UInt8]?
            while let a = d.next() {
                guard a.length == size else { continue }
                if a.type == 2 { local = d.data(a) } else if a.type == 1 { address = d.data(a) }
            }
            guard d.error == nil else { return nil }
            return (local ?? address).map { DeletedAddress(interface: index, address: $0) }
        }
    }

    /// Joins and leaves the route and rule groups to match `want`; a group that cannot be
    /// joined is named in the error and left out.
    func watch(_ want: RouteWatch) throws(NetlinkSocketError) {
        try follow(\.routes, want.routes, groups: Self.routeGroups)
        try follow(\.rules, want.rules, groups: Self.ruleGroups)
    }

    private func follow(_ kind: WritableKeyPath<RouteWatch, Set<UInt8>>, _ next: Set<UInt8>, groups: [UInt8: UInt32]) throws(NetlinkSocketError) {
        for (family, group) in groups.sorted(by: { $0.key < $1.key }) where watched[keyPath: kind].contains(family) != next.contains(family) {
            if next.contains(family) {
                try socket.join(group: group)
                watched[keyPath: kind].insert(family)
            } else {
                try socket.leave(group: group)
                watched[keyPath: kind].remove(family)
            }
        }
    }

    /// rtmsg (12 bytes: family, dst_len, src_len, tos, table, protocol, scope, type, flags)
    /// then attributes; nil for a route that is not keepalived's or a malformed message.
    package static func parseDeletedRoute(_ b: [UInt8], _ payload: Range<Int>) -> DeletedRoute? {
        guard payload.count >= 12 else { return nil }
        let h = payload.lowerBound
        let family = b[h]
        guard family == 2 || family == 10, b[h + 5] == keepalivedProtocol else { return nil }
        var route = DeletedRoute(family: family, table: UInt32(b[h + 4]), destination: [], prefix: b[h + 1], tos: b[h + 3])
        let size = family == 2 ? 4 : 16
        let ok = AttributeDecoder.withDecoder(b, range: (h + 12)..<payload.upperBound) { d -> Bool in
            while let a = d.next() {
                switch (a.type, a.length) {
                case (1, size): route.destination = d.data(a)
                case (4, 4): route.interface = d.uint32Host(a)
                case (6, 4): route.metric = d.uint32Host(a)
                case (15, 4): route.table = d.uint32Host(a)
                default: break
                }
            }
            return d.error == nil
        }
        return ok ? route : nil
    }

    /// fib_rule_hdr (12 bytes) then attributes: the family of a deleted rule that is
    /// keepalived's (FRA_PROTOCOL 18, or none, as keepalived's filter lets those through).
    package static func parseDeletedRule(_ b: [UInt8], _ payload: Range<Int>) -> UInt8? {
        guard payload.count >= 12 else { return nil }
        let family = b[payload.lowerBound]
        guard family == 2 || family == 10 else { return nil }
        let ours = AttributeDecoder.withDecoder(b, range: (payload.lowerBound + 12)..<payload.upperBound) { d -> Bool? in
            var protocolNumber: UInt8?
            while let a = d.next() {
                if a.type == 21 && a.length == 1 { protocolNumber = d.uint8(a) }
            }
            guard d.error == nil else { return nil }
            return protocolNumber.map { $0 == keepalivedProtocol } ?? true
        }
        return ours == true ? family : nil
    }

    /// The current state of one interface (absent = down), for start-up and after an overrun.
    static func isUp(_ name: String) -> Bool { InterfaceStatus.of(name) == "RUNNING" }
}

/// The link states `track_interface` reads: from the monitor's events, or read once per
/// interface at start and on reload when there is no monitor.
struct TrackedLinks {
    let monitor: LinkMonitor?
    var up: [String: Bool] = [:]
}
