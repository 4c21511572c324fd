#if canImport(Glibc)
import Glibc
#endif
import ConfigParsing
import IPAddressing
import Netlink

/// The I/O side of StaticTracking: static addresses and routes put back when their
/// interface comes up again, static routes and rules put back when deleted, each with
/// keepalived's log line.
extension KeepalivedDaemon {
    var staticTracking: StaticTracking {
        // A virtual route that does not parse is logged and skipped where routes are parsed
        // (`parsedRoutes`); it cannot make static routes tracked either.
        StaticTracking(configuration, virtualRoutes: configuration.instances.flatMap { $0.virtualRoutes.compactMap { try? VirtualRoute($0) } })
    }

    /// Joins (or leaves) the route and rule groups the configuration calls for. Called
    /// once the statics are in, so start-up's own clearing is not heard as a deletion.
    func watchStaticDeletions() {
        guard let monitor = links.monitor else { return }
        let want = staticTracking.watch
        guard want != monitor.watched else { return }
        do { try monitor.watch(want) } catch {
            actionFailed("netlink", "cannot watch route and rule deletions: \(error); deleted static routes and rules stay deleted")
        }
    }

    /// keepalived's interface_up: every static address and route of the interface is added
    /// again and said to be restored, whether or not it had gone (an IPv4 address outlives
    /// a link going down; its routes do not).
    func reinstateStatics(on interface: String) {
        let (addressList, routeList) = staticTracking.comingUp(interface)
        guard !addressList.isEmpty || !routeList.isEmpty, let index = InterfaceAddresses.index(of: interface) else { return }
        for v in addressList {
            do {
                try addAddress(v, interface: index)
            } catch let e as NetlinkKernelError where e.errno == EEXIST {
            } catch {
                actionFailed("static address", "cannot restore static address \(Self.staticText(v)): \(error)")
                continue
            }
            log("Restoring deleted static address \(Self.staticText(v)) set")
        }
        for v in routeList { reinstate(v) }
    }

    func staticRoutesDeleted(_ deleted: [LinkMonitor.DeletedRoute]) {
        // Called every turn: `staticTracking` parses the routes, so only when there is news.
        guard !deleted.isEmpty else { return }
        let tracking = staticTracking
        for d in deleted {
            for v in tracking.deleted(d) { reinstate(v) }
        }
    }

    func staticRulesDeleted(families: Set<UInt8>) {
        guard !families.isEmpty, let table = rules.table else { return }
        let tracking = staticTracking
        for family in families.sorted() {
            for v in tracking.rulesToRetry(family: family) {
                do { try table.add(Self.kernelRule(v)) } catch let e as NetlinkKernelError where e.errno == EEXIST {
                    continue
                } catch {
                    actionFailed("static rule", "cannot restore static rule \(Self.keepalivedText(v)): \(error)")
                    continue
                }
                log("Restoring deleted static rule \(Self.keepalivedText(v))")
            }
        }
    }

    /// Routes go in with replace, so one still there is no failure.
    func reinstate(_ v: VirtualRoute) {
        guard let table = routes.table, let r = kernelRoute(v, owner: "static") else { return }
        do { try table.add(r) } catch {
            actionFailed("static route", "cannot restore static route \(Self.keepalivedText(v)): \(error)")
            return
        }
        log("Restoring deleted static route \(Self.keepalivedText(v))")
    }

    /// keepalived's format_iproute for what Tandem's routes can hold.
    static func keepalivedText(_ v: VirtualRoute) -> String {
        var s = "prepend "
        if v.kind != .unicast { s += v.kind.rawValue + " " }
        s += v.destination.map { Self.prefixText($0, v.prefix) } ?? "default"
        if let src = v.source { s += " src \(src)" }
        if let g = v.gateway { s += " via \(g.family == AddressFamily.inet6 ? "inet6" : "inet") \(g)" }
        if let d = v.device { s += " dev \(d)" }
        if let t = v.table, t != StaticTracking.mainTable { s += " table \(t)" }
        if v.tracked { s += " proto 18" }
        if let scope = v.scope { s += " scope \(scope)" }
        if let m = v.metric { s += " metric \(m)" }
        if v.onlink && v.family == AddressFamily.inet { s += " onlink" }
        if v.noTrack { s += " no_track" }
        if let g = v.trackGroup { s += " track_group \(g)" }
        return s
    }

    /// keepalived's format_iprule for what Tandem's rules can hold.
    static func keepalivedText(_ v: VirtualRule) -> String {
        var s = v.from?.address == nil && v.to?.address == nil && v.family == AddressFamily.inet6 ? "inet6 " : ""
        if v.invert { s += "not " }
        s += "from " + (v.from.flatMap { p in p.address.map { Self.prefixText($0, p.length) } } ?? "all")
        if let p = v.to, let a = p.address { s += " to " + Self.prefixText(a, p.length) }
        if let p = v.priority { s += " priority \(p)" }
        s += " tos 0x" + String(v.tos, radix: 16)
        if v.fwmark != nil || v.fwmask != nil {
            s += " fwmark 0x" + String(v.fwmark ?? 0, radix: 16)
            if let m = v.fwmask, m != UInt32.max { s += "/0x" + String(m, radix: 16) }
        }
        if let i = v.inputInterface { s += " iif \(i)" }
        if let o = v.outputInterface { s += " oif \(o)" }
        if let p = v.suppressPrefixLength { s += " suppress_prefixlen \(Int32(bitPattern: p))" }
        if let u = v.uidRange { s += " uidrange \(u.lowerBound)-\(u.upperBound)" }
        if let p = v.tracked ? Rules.protocolKeepalived : v.protocolNumber { s += " protocol \(p)" }
        if let p = v.ipProtocol { s += " ipproto \(p)" }
        if let p = v.sourcePorts { s += " sport \(p.lowerBound)-\(p.upperBound)" }
        if let p = v.destinationPorts { s += " dport \(p.lowerBound)-\(p.upperBound)" }
        switch v.action {
        case .table(let t): s += " lookup \(t)"
        case .goto(let g): s += " goto \(g)"
        case .nop: s += " nop"
        case .blackhole: s += " type blackhole"
        case .unreachable: s += " type unreachable"
        case .prohibit: s += " type prohibit"
        }
        if !v.tracked { s += " no_track" }
        if let g = v.trackGroup { s += " track_group \(g)" }
        return s
    }

    /// keepalived's ipaddresstos: a host prefix is not written.
    static func prefixText(_ a: IPAddress, _ prefix: Int) -> String {
        prefix == (a.family == AddressFamily.inet ? 32 : 128) ? "\(a)" : "\(a)/\(prefix)"
    }
}
