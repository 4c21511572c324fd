@testable import Daemon
import Testing

/// promote_secondaries per interface: turned on where it reads 0, once; turned off at exit
/// only where this run turned it on.
@Suite struct SecondaryPromotionTests {
    @Test func onlyWhatWasOffIsTurnedOnAndLaterOff() {
        var p = SecondaryPromotion()
        let values = ["eth0": 0, "eth1": 1]
        #expect(p.want(["eth0", "eth1", "eth0", "gone"]) { values[$0] } == ["eth0"])
        // A reload asking again changes nothing; a new interface is added.
        #expect(p.want(["eth0", "eth2"]) { $0 == "eth2" ? 0 : 1 } == ["eth2"])
        #expect(p.release() == ["eth0", "eth2"])
        #expect(p.release().isEmpty)
    }

    /// The control: with nothing asking, nothing is touched.
    @Test func nothingWantedNothingTouched() {
        var p = SecondaryPromotion()
        #expect(p.want([]) { _ in 0 }.isEmpty)
        #expect(p.release().isEmpty)
    }
}
