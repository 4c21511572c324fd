#if canImport(Glibc)
import Glibc
#endif
import Conntrack
import IPAddressing

/// A pthread mutex for state two lab threads share.
final class LabLock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    init() { pthread_mutex_init(mutex, nil) }
    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func locked<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}

/// The soak's churn flows: the i-th is an established TCP flow 10.64.0.h:p → 192.168.253.1:443
/// (h, p from i modulo 2^22), outside the seed's ignore list, so Tandem replicates it; the
/// tuple gives i back, so a dump of a kernel table says which of them it holds.
enum ChurnFlows {
    static let space = 1 << 22
    static let hostBase: UInt32 = 0x0A40_0000   // 10.64.0.0
    static let server: UInt32 = 0xC0A8_FD01     // 192.168.253.1
    static let serverPort: UInt16 = 443

    static func flow(_ i: Int, timeout: UInt32) -> Flow {
        let k = i & (space - 1)
        let original = Tuple(source: .v4(hostBase | UInt32(k >> 14)), destination: .v4(server), protocolNumber: IPProtocolNumber.tcp,
                             sourcePort: UInt16(1024 + (k & 0x3fff)), destinationPort: serverPort)
        var f = Flow(original: original, reply: original.inverted)
        f.status = [.seenReply, .assured, .confirmed]
        f.timeout = timeout
        f.protocolInfo = .tcp(TCPInfo(state: .established))
        return f
    }

    /// The key (i modulo 2^22) of a churn flow, nil for any other flow.
    static func key(_ f: Flow) -> Int? {
        guard let o = f.original, o.protocolNumber == IPProtocolNumber.tcp, o.destinationPort == serverPort,
              case .v4(let dst) = o.destination, dst == server, case .v4(let src) = o.source,
              src & 0xFFFF_FF00 == hostBase, let port = o.sourcePort, port >= 1024, port < 1024 + 0x4000 else { return nil }
        return Int(src & 0xFF) << 14 | Int(port - 1024)
    }
}

/// Creates `rate` churn flows a second in the kernel table of whichever firewall the
/// traffic reaches (`target`, set by the soak) and deletes each `lifetime` seconds after
/// its creation, on the same target: every create and destroy is a kernel event the
/// master replicates. With no target (between a failure and the takeover's check) it
/// creates nothing and deletes nothing; missed creations are skipped, not caught up.
/// Flows are numbered in creation order and die in that order, so the live flows are the
/// range `low..<high` of a `ChurnLedger`.
final class ChurnGenerator: @unchecked Sendable {
    struct Counters: Sendable {
        var created = 0, createFailed = 0, deleted = 0, deleteMissing = 0, deleteFailed = 0
        var skipped = 0, socketErrors = 0
        /// Flows excused at a check (young, absent from the new master) whose delete at the
        /// end of their lifetime found them (they arrived after the check) or not (they
        /// died with the old master).
        var excusedFoundLater = 0, excusedGone = 0
        var lastError: String?
        /// The kernel's answers to failed creates and deletes: errno → count.
        var createErrors: [Int32: Int] = [:], deleteErrors: [Int32: Int] = [:]
    }

    let rate: Double
    let lifetime: Double
    let timeout: UInt32
    private let lock = LabLock()
    private let connections: [Firewall: ConntrackConnection]
    private var target: Firewall?
    private var ledger: ChurnLedger
    private var owed = 0.0
    private var lastTick = 0.0
    private var counters = Counters()
    private var stopping = false
    private var thread: LabThread?

    init(names: LabNames, rate: Double, lifetime: Double, timeout: UInt32 = 300) throws(LabError) {
        self.rate = rate
        self.lifetime = lifetime
        self.timeout = timeout
        var c: [Firewall: ConntrackConnection] = [:]
        for fw in Firewall.allCases {
            do { c[fw] = try ConntrackConnection(namespace: names.namespace(fw), batchSize: 500) } catch {
                throw .badState(path: names.namespace(fw), reason: "cannot open ctnetlink for the churn: \(error)")
            }
        }
        connections = c
        // Room for the live flows across the longest pause the soak allows (takeover limits).
        ledger = ChurnLedger(capacity: max(1 << 16, Int(rate * (lifetime + 120))), lifetime: lifetime)
    }

    func start(on fw: Firewall) throws(LabError) {
        lock.locked {
            target = fw
            lastTick = WallClock.now()
        }
        thread = try LabThread { [self] in
            while !lock.locked({ stopping }) {
                lock.locked { tick() }
                WallClock.sleep(0.01)
            }
        }
    }

    func stop() {
        lock.locked { stopping = true }
        thread?.join()
        thread = nil
    }

    /// Stops the churn (the traffic no longer reaches anyone); returns the instant.
    @discardableResult
    func pause() -> Double {
        lock.locked {
            target = nil
            return WallClock.now()
        }
    }

    func resume(on fw: Firewall) { lock.locked { target = fw } }

    var current: Firewall? { lock.locked { target } }
    var totals: Counters { lock.locked { counters } }
    var liveCount: Int { lock.locked { ledger.live } }

    private func tick() {
        let now = WallClock.now()
        let dt = max(0, now - lastTick)
        lastTick = now
        guard let fw = target, let kernel = connections[fw] else {
            counters.skipped += Int((rate * dt).rounded())
            return
        }
        // Deletions first, at most four ticks' worth at a time after a pause.
        let doomed = ledger.due(now: now, most: Int(rate * 0.04) + 1)
        do {
            if !doomed.isEmpty {
                let r = try kernel.delete(doomed.map { ChurnFlows.flow($0, timeout: timeout) }, acknowledge: true)
                counters.deleted += r.succeeded
                for f in r.failures {
                    if f.error.errno == ENOENT {
                        if ledger.isExcused(doomed[f.index]) { counters.excusedGone += 1 } else { counters.deleteMissing += 1 }
                    } else {
                        counters.deleteFailed += 1
                    }
                    counters.deleteErrors[f.error.errno, default: 0] += 1
                }
                let failed = Set(r.failures.map(\.index))
                counters.excusedFoundLater += doomed.indices.filter { ledger.isExcused(doomed[$0]) && !failed.contains($0) }.count
            }
        } catch {
            counters.socketErrors += 1
            counters.lastError = "delete: \(error)"
        }
        owed += rate * dt
        var n = Int(owed)
        owed -= Double(n)
        n = min(n, Int(rate * 0.5), ledger.room)
        guard n > 0 else { return }
        let numbers = ledger.create(n, at: now)
        let fresh = numbers.map { ChurnFlows.flow($0, timeout: timeout) }
        do {
            let r = try kernel.create(fresh, acknowledge: true)
            counters.created += r.succeeded
            counters.createFailed += r.failed
            for f in r.failures {
                ledger.creationFailed(numbers.lowerBound + f.index)
                counters.createErrors[f.error.errno, default: 0] += 1
            }
        } catch {
            counters.socketErrors += 1
            counters.lastError = "create: \(error)"
            for i in numbers { ledger.creationFailed(i) }
        }
    }

    /// The loss check: of the flows live now that were created at least `minAge` before
    /// `pausedAt` (so replicated and acknowledged long before the failure), how many are
    /// missing from `fw`'s kernel table. Runs with the churn paused, under the lock.
    func check(_ fw: Firewall, pausedAt: Double, minAge: Double, names: LabNames) throws(LabError) -> LossCheck {
        let kernel: ConntrackConnection
        do { kernel = try ConntrackConnection(namespace: names.namespace(fw)) } catch {
            throw .badState(path: names.namespace(fw), reason: "cannot open ctnetlink for the loss check: \(error)")
        }
        return try lock.locked { () throws(LabError) -> LossCheck in
            let started = WallClock.now()
            var present = ChurnPresence()
            var kernelFlows = 0, churnFlows = 0
            do {
                try kernel.dump { f in
                    kernelFlows += 1
                    if let k = ChurnFlows.key(f) {
                        churnFlows += 1
                        present.insert(k)
                    }
                }
            } catch {
                throw .badState(path: names.namespace(fw), reason: "kernel dump for the loss check failed: \(error)")
            }
            var check = ledger.judge(present: present, churnFlows: churnFlows, kernelFlows: kernelFlows, pausedAt: pausedAt, minAge: minAge)
            check.milliseconds = (WallClock.now() - started) * 1000
            return check
        }
    }
}

struct LossCheck {
    var live: Int
    var kernelFlows: Int
    var kernelChurnFlows: Int
    var atRisk = 0
    var lost = 0
    /// Churn flows in the table that are no longer live: destroyed on the old master, back.
    var stale = 0
    /// Flows too young to judge (under MIN_AGE at the pause) that the new master does not
    /// hold: never judged after, still deleted at the end of their lifetime (they may be
    /// in flight, not dead; see `ChurnLedger`).
    var diedYoung = 0
    /// The stale flows by how long before the churn paused they were deleted.
    var staleByAge: [String: Int] = [:]

    static func ageBucket(_ seconds: Double?) -> String {
        guard let s = seconds else { return "unknown" }
        return s < 0 ? "after the pause" : s < 0.1 ? "under 100 ms" : s < 1 ? "under 1 s" : s < 10 ? "under 10 s" : s < 60 ? "under 60 s" : "older"
    }
    var examples: [String] = []
    var milliseconds = 0.0
}
