#if canImport(Glibc)
import Glibc
#endif
@testable import Daemon
import Netlink
import Testing

/// Removing what is already gone is not a failure; anything else is counted and logged.
@Suite struct HostActionFailureTests {
    @Test func onlyAbsenceIsForgiven() {
        for errno in [EADDRNOTAVAIL, ESRCH, ENOENT] {
            #expect(KeepalivedDaemon.alreadyGone(NetlinkKernelError(errno: errno, sequence: 1)))
        }
        for errno in [EPERM, ENODEV, EINVAL, ENOBUFS] {
            #expect(!KeepalivedDaemon.alreadyGone(NetlinkKernelError(errno: errno, sequence: 1)))
        }
        struct Other: Error {}
        #expect(!KeepalivedDaemon.alreadyGone(Other()))
    }
}
