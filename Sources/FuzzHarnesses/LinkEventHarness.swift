import Daemon
import Netlink

/// rtnetlink link events (RTMGRP_LINK) as the link monitor reads them: ifinfomsg and its
/// attributes, looking for the interface name; and the route and rule deletions it reads
/// for keepalived's statics and virtual routes (rtmsg, fib_rule_hdr).
enum LinkEventHarness {
    static let target = FuzzTarget(
        name: "rtnetlink-link",
        summary: "an rtnetlink buffer through MessageReader and LinkMonitor's parsers (RTM_NEWLINK/RTM_DELLINK/RTM_DELROUTE/RTM_DELRULE)",
        run: run)

    static func run(_ bytes: [UInt8]) {
        var reader = MessageReader(bytes)
        while let m = reader.next() {
            let type = m.header.type
            if type == LinkMonitor.deleteRoute, let d = LinkMonitor.parseDeletedRoute(bytes, m.payload) {
                invariant([0, 4, 16].contains(d.destination.count), "a deleted route's destination of \(d.destination.count) bytes")
            }
            if type == LinkMonitor.deleteRule, LinkMonitor.parseDeletedRule(bytes, m.payload) != nil {
                _ = try? Rules.decode(Array(bytes[(m.payload.lowerBound - NetlinkHeader.size)..<m.payload.upperBound]))
            }
            guard type == LinkMonitor.newLink || type == LinkMonitor.deleteLink else { continue }
            if let e = LinkMonitor.parse(bytes, m.payload, deleted: type == LinkMonitor.deleteLink) {
                invariant(!(type == LinkMonitor.deleteLink && e.up), "a deleted link reported up")
            }
        }
    }
}
