#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// A BPF ring buffer that a netlink socket's filter program fills with the messages the
/// socket would have queued (the conntrack event socket's, in practice), read in place.
///
/// Each event the kernel broadcasts is a socket buffer of its own; taking it off the socket
/// (dequeue, copy, free, a recvmmsg slot) cost a sync sender about 1 µs of kernel time per
/// flow, as much as all of its own work for the flow. Through the ring the buffer is copied
/// and freed where the kernel made it, and the reader pays a copy out of shared memory.
///
/// The ring is small because it is mapped into the process (its pages count in the
/// resident size from the start). When it is full the filter passes that message and every
/// later one to the socket, whose buffer holds the overflow, until the reader has emptied
/// the ring and then the socket: no message is lost to a full ring, and none overtakes an
/// earlier one, save one the program passed to the socket in the instant the spill ended
/// (between its decision and the socket's queueing: microseconds). Spills are counted.
public final class EventRing {
    private var ring = clinux_event_ring()
    /// 2 MiB: some 8,000 events, 20 ms of a burst at 400,000 flows a second.
    public static let defaultBytes = 2 << 20

    /// `bytes`: a power of two, at least a page. `echoesOf`: a netlink port whose own
    /// requests' events are dropped in the kernel (0: none).
    public init(bytes: Int = EventRing.defaultBytes, droppingEchoesOf echoesOf: UInt32 = 0) throws(NetlinkSocketError) {
        let rc = clinux_event_ring_open(&ring, UInt(bytes), echoesOf, nil, 0)
        if rc != 0 { throw .systemCall("bpf (event ring)", errno: -rc) }
    }

    deinit { clinux_event_ring_close(&ring) }

    /// Readable (poll) while messages wait in the ring.
    public var descriptor: Int32 { ring.ring_fd }

    public var bytes: Int { Int(ring.size) }

    /// Has the kernel run the ring's program on every message for `socket`.
    public func attach(to socket: NetlinkSocket) throws(NetlinkSocketError) {
        if clinux_event_ring_attach(&ring, socket.descriptor) != 0 { throw .systemCall("SO_ATTACH_BPF", errno: errno) }
    }

    /// Copies up to `lengths.count` messages (at most 64) into slots of `slot` bytes of
    /// `buffer`, as `NetlinkSocket.receiveBatch` does, and frees their room in the ring.
    public func drain(into buffer: inout [UInt8], slot: Int, lengths: inout [UInt32]) -> Int {
        let slots = min(lengths.count, buffer.count / slot, 64)
        let n = buffer.withUnsafeMutableBytes { raw in
            lengths.withUnsafeMutableBufferPointer { l in
                clinux_event_ring_drain(&ring, raw.baseAddress, UInt(slot), UInt32(slots), l.baseAddress)
            }
        }
        return Int(n)
    }

    /// Whether messages wait in the ring.
    public var pending: Bool { clinux_event_ring_pending(&ring) != 0 }

    /// Whether messages are going to the socket since the ring was last full.
    public var spilling: Bool { clinux_event_ring_spilling(&ring) != 0 }

    /// Sends messages to the ring again: only once the ring and then the socket were read empty.
    public func endSpill() { clinux_event_ring_end_spill(&ring) }

    /// How many times the ring was full.
    public var spills: UInt64 { clinux_event_ring_spills(&ring) }
}
