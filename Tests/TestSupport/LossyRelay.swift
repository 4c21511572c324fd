import Foundation
import Netlink

/// A UDP relay between two sync peers that loses, reorders and duplicates datagrams —
/// what netem would do, on a kernel without netem. Both daemons name the relay as their
/// peer; it runs in its own namespace on a thread of the test process and stops after
/// `maximumSeconds` or `maximumDatagrams`, whichever comes first.
public final class LossyRelay: @unchecked Sendable {
    public struct Impairment: Sendable {
        public var lossPercent: UInt64
        /// A held datagram goes out after 1–3 later ones (or 20 ms of silence).
        public var reorderPercent: UInt64
        public var duplicatePercent: UInt64
        public init(lossPercent: UInt64, reorderPercent: UInt64, duplicatePercent: UInt64) {
            self.lossPercent = lossPercent
            self.reorderPercent = reorderPercent
            self.duplicatePercent = duplicatePercent
        }
    }

    public struct Counters: Sendable {
        public var received = 0, dropped = 0, reordered = 0, duplicated = 0
        /// The relay stopped on its own limit (time or datagrams), not at `stop()`: after
        /// that nothing passes, so a test still waiting measures the relay, not the peers.
        public var expired = false
    }

    struct Side {
        var descriptor: Int32
        var target: sockaddr_in
    }

    private let lock = NSLock()
    private var stopFlag = false
    private var counts = Counters()
    private var thread: Thread?
    private let done = DispatchSemaphore(value: 0)

    /// Listens on `listenA:port` (A's peer address) and `listenB:port`; what arrives on one
    /// side goes to `peerB:port` / `peerA:port` from the other side's socket.
    public init(namespace: String, port: UInt16, listenA: String, peerA: String, listenB: String, peerB: String,
                impairment: Impairment, seed: UInt64, maximumSeconds: Double = 60, maximumDatagrams: Int = 2_000_000) throws {
        let sides = try NetworkNamespace.run(named: namespace) { () throws -> [Side] in
            [try Self.open(listenA, port, target: peerB), try Self.open(listenB, port, target: peerA)]
        }
        let t = Thread { [self] in
            self.loop(sides, impairment, seed: seed, until: Date().addingTimeInterval(maximumSeconds), maximumDatagrams)
            self.lock.lock()
            if !self.stopFlag { self.counts.expired = true }
            self.lock.unlock()
            for s in sides { close(s.descriptor) }
            self.done.signal()
        }
        thread = t
        t.start()
    }

    public var counters: Counters { lock.lock(); defer { lock.unlock() }; return counts }

    public func stop() {
        lock.lock()
        let already = stopFlag
        stopFlag = true
        lock.unlock()
        if !already { done.wait() }
    }

    private var stopping: Bool { lock.lock(); defer { lock.unlock() }; return stopFlag }

    static func address(_ text: String, _ port: UInt16) -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        inet_pton(AF_INET, text, &a.sin_addr)
        return a
    }

    static func open(_ listen: String, _ port: UInt16, target: String) throws -> Side {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw TestSetupError("relay socket: \(errno)") }
        var big: Int32 = 8 << 20
        setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, 4)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, 4)
        var a = address(listen, port)
        let rc = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0 else { close(fd); throw TestSetupError("relay bind \(listen):\(port): \(errno)") }
        return Side(descriptor: fd, target: address(target, port))
    }

    private func loop(_ sides: [Side], _ impairment: Impairment, seed: UInt64, until deadline: Date, _ maximumDatagrams: Int) {
        var rng = SplitMix64(seed: seed)
        // Per direction: a datagram held back and how many later ones pass it.
        var held: [(bytes: [UInt8], after: Int)?] = [nil, nil]
        var buffer = [UInt8](repeating: 0, count: 65536)
        var total = 0
        func forward(_ bytes: [UInt8], from i: Int) {
            let out = sides[1 - i].descriptor
            var target = sides[i].target
            _ = bytes.withUnsafeBytes { raw in
                withUnsafePointer(to: &target) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(out, raw.baseAddress, raw.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            }
        }
        while !stopping && Date() < deadline && total < maximumDatagrams {
            var fds = sides.map { pollfd(fd: $0.descriptor, events: Int16(POLLIN), revents: 0) }
            if poll(&fds, 2, 20) == 0 {
                for i in 0..<2 { if let h = held[i] { forward(h.bytes, from: i); held[i] = nil } }
                continue
            }
            for i in 0..<2 where fds[i].revents & Int16(POLLIN) != 0 {
                while total < maximumDatagrams {
                    let n = recv(sides[i].descriptor, &buffer, buffer.count, Int32(MSG_DONTWAIT))
                    if n <= 0 { break }
                    total += 1
                    let bytes = Array(buffer[0..<n])
                    lock.lock(); counts.received += 1; lock.unlock()
                    if rng.next() % 100 < impairment.lossPercent {
                        lock.lock(); counts.dropped += 1; lock.unlock()
                        continue
                    }
                    if held[i] == nil && rng.next() % 100 < impairment.reorderPercent {
                        held[i] = (bytes, Int(1 + rng.next() % 3))
                        lock.lock(); counts.reordered += 1; lock.unlock()
                        continue
                    }
                    forward(bytes, from: i)
                    if rng.next() % 100 < impairment.duplicatePercent {
                        forward(bytes, from: i)
                        lock.lock(); counts.duplicated += 1; lock.unlock()
                    }
                    if let h = held[i] {
                        if h.after <= 1 { forward(h.bytes, from: i); held[i] = nil } else { held[i]!.after -= 1 }
                    }
                }
            }
        }
    }
}
