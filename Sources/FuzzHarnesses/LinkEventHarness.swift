import Daemon
import Netlink

/// rtnetlink link events (RTMGRP_LINK) as the link monitor reads them: ifinfomsg and its
/// attributes, looking for the interface name.
enum LinkEventHarness {
    static let target = FuzzTarget(
        name: "rtnetlink-link",
        summary: "an rtnetlink buffer through MessageReader and LinkMonitor.parse (RTM_NEWLINK/RTM_DELLINK)",
        run: run)

    static func run(_ bytes: [UInt8]) {
        var reader = MessageReader(bytes)
        while let m = reader.next() {
            let type = m.header.type
            guard type == LinkMonitor.newLink || type == LinkMonitor.deleteLink else { continue }
            if let e = LinkMonitor.parse(bytes, m.payload, deleted: type == LinkMonitor.deleteLink) {
                invariant(!(type == LinkMonitor.deleteLink && e.up), "a deleted link reported up")
            }
        }
    }
}
