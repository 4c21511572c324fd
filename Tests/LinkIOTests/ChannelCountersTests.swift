#if canImport(Glibc)
import Glibc
#endif
@testable import LinkIO
import Testing

/// A send the kernel refused for want of buffer space is a drop NOTRACK and ALARM never
/// repair: it is counted apart from the other send errors.
@Suite struct ChannelCountersTests {
    @Test func aFullSendBufferIsCountedApart() {
        var c = ChannelCounters()
        for e in [EAGAIN, ENOBUFS, ECONNREFUSED, EHOSTUNREACH] { c.sendFailed(e) }
        #expect(c.sendErrors == 4)
        #expect(c.droppedSendBufferFull == 2)
    }
}
