#if canImport(Glibc)
import Glibc
#endif
import Conntrack
import Synchronization
import IPAddressing

/// `failover --flows N`: a firewall carrying N more established flows than the sessions,
/// so the takeover has a real table to commit. They are made in fw1's kernel (and
/// replicate as any flow does), between addresses no session uses.
enum ReplicatedLoad {
    /// The i-th synthetic flow: a LAN host behind the client's segment talking to a
    /// server on the WAN side; addresses outside the seed's ignore list.
    static func flow(_ i: Int) -> Flow {
        let host = UInt32(0x0A00_0100) | UInt32(1 + i / 50_000)          // 10.0.1.(1…)
        let server = UInt32(0xC0A8_FE00) | UInt32(1 + (i / 10_000) % 250) // 192.168.254.x
        let sport = UInt16(10_000 + i % 50_000)
        let original = Tuple(source: .v4(host), destination: .v4(server), protocolNumber: IPProtocolNumber.tcp,
                             sourcePort: sport, destinationPort: 443)
        var f = Flow(original: original, reply: original.inverted)
        f.status = [.seenReply, .assured, .confirmed]
        f.timeout = 1200
        f.protocolInfo = .tcp(TCPInfo(state: .established))
        return f
    }

    /// Creates `count` flows in `namespace`'s kernel; returns how many it took.
    static func insert(_ count: Int, namespace: String) throws(LabError) -> Int {
        do {
            let kernel = try ConntrackConnection(namespace: namespace)
            let r = try kernel.create((0..<count).lazy.map(flow), updateExisting: true, acknowledge: false)
            return r.succeeded
        } catch {
            throw .badState(path: namespace, reason: "cannot create the synthetic flows: \(error)")
        }
    }
}

/// Samples the new master's kernel table every 10 ms from its own thread: the instant it
/// first holds `target` flows is "every replicated flow is in the kernel".
final class KernelCountWatcher: @unchecked Sendable {
    private let kernel: ConntrackConnection
    private let target: UInt32
    private let reached = Mutex<Double?>(nil)
    private let stopFlag = Atomic<Bool>(false)
    private var thread: LabThread?
    private let since: Double

    init(namespace: String, target: Int, since: Double) throws(LabError) {
        do { kernel = try ConntrackConnection(namespace: namespace) } catch {
            throw .badState(path: namespace, reason: "cannot open ctnetlink: \(error)")
        }
        self.target = UInt32(clamping: target)
        self.since = since
    }

    func start() throws(LabError) {
        thread = try LabThread { [self] in
            while !stopFlag.load(ordering: .relaxed) {
                if let n = try? kernel.count(), n >= target {
                    let t = WallClock.now()
                    reached.withLock { $0 = t }
                    return
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

    var reachedAt: Double? { reached.withLock { $0 } }

    deinit { stop() }
}
