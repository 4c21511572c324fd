import Synchronization

/// Samples both firewalls' virtual addresses every 10 ms from a thread of its own and
/// keeps every change with its time: the "VIP moved" instant of the timeline.
final class VIPWatcher: @unchecked Sendable {
    struct Change: Sendable {
        /// When the sample that saw it ended.
        let time: Double
        let fw: Firewall
        let holding: VIPHolding
        /// The earliest it can have happened: when the sample before it began (that one
        /// still saw the old holding). A sample takes a dump and a 10-ms sleep, more under
        /// load, so a packet the change caused can come before `time`.
        var notBefore: Double
    }

    private let probes: [Firewall: AddressProbe]
    private let changes = Mutex<[Change]>([])
    private let stopFlag = Atomic<Bool>(false)
    private var thread: LabThread?

    init(names: LabNames) throws(LabError) {
        var p: [Firewall: AddressProbe] = [:]
        for fw in Firewall.allCases { p[fw] = try AddressProbe(namespace: names.namespace(fw)) }
        probes = p
    }

    func start() throws(LabError) {
        thread = try LabThread { [self] in
            var last: [Firewall: VIPHolding] = [:]
            var lastBegan: [Firewall: Double] = [:]
            while !stopFlag.load(ordering: .relaxed) {
                for fw in Firewall.allCases {
                    let began = WallClock.now()
                    guard let h = try? probes[fw]?.virtualAddresses() else { continue }
                    if last[fw] != h {
                        last[fw] = h
                        let c = Change(time: WallClock.now(), fw: fw, holding: h, notBefore: lastBegan[fw] ?? began)
                        changes.withLock { $0.append(c) }
                    }
                    lastBegan[fw] = began
                }
                WallClock.sleep(0.01)
            }
        }
    }

    func stop() {
        stopFlag.store(true, ordering: .relaxed)
        thread?.join()
        thread = nil
    }

    var history: [Change] { changes.withLock { $0 } }

    /// What `fw` holds now, as last sampled.
    func current(_ fw: Firewall) -> VIPHolding? { history.last { $0.fw == fw }?.holding }

    /// The first instant at or after `since` at which `fw` held both VIPs (and, with
    /// `peerReleased`, its peer none). A dead fw1 keeps its VIPs configured, so the
    /// failover asks only for fw2's; the failback also needs fw2 to let go.
    func moved(to fw: Firewall, since: Double, peerReleased: Bool) -> Double? {
        var now: [Firewall: VIPHolding] = [:]
        func holds() -> Bool {
            guard let mine = now[fw], mine.both else { return false }
            return !peerReleased || now[fw.peer]?.none ?? false
        }
        for c in history {
            now[c.fw] = c.holding
            if c.time >= since && holds() { return c.time }
        }
        return nil
    }

    /// The first instant at or after `since` at which `fw` held no VIP.
    func released(_ fw: Firewall, since: Double) -> Double? {
        history.first { $0.fw == fw && $0.time >= since && $0.holding.none }?.time
    }

    deinit { stop() }
}
