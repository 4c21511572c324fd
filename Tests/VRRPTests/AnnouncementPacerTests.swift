import Testing
import VRRP
import IPAddressing
import Timekeeping
import TestSupport

/// keepalived 2.2.7's vrrp_garp_interval / vrrp_gna_interval on a virtual clock: one
/// announcement per interval per interface, a queued address held once however many
/// rounds asked for it, and an owner leaving MASTER taking its queue along. Each test
/// runs its control, the pacer without an interval, which sends everything at once.
@Suite struct AnnouncementPacerTests {
    typealias P = AnnouncementPacer<String>
    static let a = IPAddress("10.0.0.10")!, b = IPAddress("10.0.0.11")!, c = IPAddress("10.0.0.12")!
    static let v6 = IPAddress("fd00::10")!

    /// Two rounds of three addresses offered at 0, then the queue run on its own deadlines:
    /// when each address went out.
    static func twoRounds(_ pacer: inout P, owner: String = "VI_1") -> [(IPAddress, Instant)] {
        var sent: [(IPAddress, Instant)] = []
        let start = us(1_000_000)
        for _ in 0..<2 {
            for address in [a, b, c] where pacer.offer(.init(owner: owner, interface: "eth0", address: address), now: start) {
                sent.append((address, start))
            }
        }
        var guardCount = 0
        while let d = pacer.nextDeadline, guardCount < 20 {
            guardCount += 1
            sent += pacer.due(now: d).map { ($0.address, d) }
        }
        return sent
    }

    @Test func repeatsCollapseAndGoOutOneIntervalApart() {
        var paced = P(garpInterval: .milliseconds(100), gnaInterval: .zero)
        let sent = Self.twoRounds(&paced)
        // a at once; b, c and a's repeat (queued once) 100 ms apart; b's and c's repeats
        // found them already queued.
        #expect(sent.map(\.0) == [Self.a, Self.b, Self.c, Self.a])
        #expect(sent.map(\.1) == [0, 100, 200, 300].map { us(1_000_000 + $0 * 1_000) })
        #expect(paced.queued.isEmpty && paced.nextDeadline == nil)
        // Control: without an interval all six go out at once.
        var free = P(garpInterval: .zero, gnaInterval: .zero)
        let all = Self.twoRounds(&free)
        #expect(all.count == 6 && all.allSatisfy { $0.1 == us(1_000_000) })
    }

    @Test func interfacesAndFamiliesAreSpacedApart() {
        var p = P(garpInterval: .milliseconds(100), gnaInterval: .milliseconds(300))
        let t = us(5_000_000)
        let sent1 = p.offer(.init(owner: "X", interface: "eth0", address: Self.a), now: t)
        #expect(sent1)
        // Another interface, and NAs, have spacing of their own.
        let sent2 = p.offer(.init(owner: "X", interface: "eth1", address: Self.b), now: t)
        #expect(sent2)
        let sent3 = p.offer(.init(owner: "X", interface: "eth0", address: Self.v6), now: t)
        #expect(sent3)
        // The same interface and family again: held back by that family's interval.
        let sent4 = p.offer(.init(owner: "X", interface: "eth0", address: Self.c), now: t + .milliseconds(50))
        #expect(!sent4)
        let sent5 = p.offer(.init(owner: "X", interface: "eth0", address: Self.v6), now: t + .milliseconds(250))
        #expect(!sent5)
        #expect(p.nextDeadline == t + .milliseconds(100))
        #expect(p.due(now: t + .milliseconds(100)).map(\.address) == [Self.c])
        #expect(p.nextDeadline == t + .milliseconds(300))
        #expect(p.due(now: t + .milliseconds(300)).map(\.address) == [Self.v6])
        // Once the interval has passed, an offer goes out at once again.
        let sent6 = p.offer(.init(owner: "X", interface: "eth0", address: Self.a), now: t + .seconds(1))
        #expect(sent6)
    }

    @Test func leavingMasterTakesTheQueueAlong() {
        var p = P(garpInterval: .milliseconds(100), gnaInterval: .zero)
        let t = us(2_000_000)
        let sent7 = p.offer(.init(owner: "VI_1", interface: "eth0", address: Self.a), now: t)
        #expect(sent7)
        let sent8 = p.offer(.init(owner: "VI_1", interface: "eth0", address: Self.b), now: t)
        #expect(!sent8)
        let sent9 = p.offer(.init(owner: "VI_2", interface: "eth0", address: Self.c), now: t)
        #expect(!sent9)
        p.drop("VI_1")
        // VI_2's address is still owed; VI_1's is gone.
        #expect(p.due(now: t + .milliseconds(100)).map(\.address) == [Self.c])
        #expect(p.queued.isEmpty)
        // Control: without the drop, both would have gone out.
        var kept = P(garpInterval: .milliseconds(100), gnaInterval: .zero)
        _ = kept.offer(.init(owner: "VI_1", interface: "eth0", address: Self.a), now: t)
        _ = kept.offer(.init(owner: "VI_1", interface: "eth0", address: Self.b), now: t)
        _ = kept.offer(.init(owner: "VI_2", interface: "eth0", address: Self.c), now: t)
        #expect(kept.due(now: t + .milliseconds(100)).map(\.address) == [Self.b])
        #expect(kept.due(now: t + .milliseconds(200)).map(\.address) == [Self.c])
    }

    /// A queued announcement that can no longer be sent gives its interface's turn to the
    /// next one in line, instead of holding it back by an interval for nothing. The
    /// control: with everything sendable, the second waits its interval.
    @Test(arguments: [true, false])
    func anUnsendableAnnouncementTakesNoTurn(firstSendable: Bool) {
        var pacer = P(garpInterval: .milliseconds(100), gnaInterval: .zero)
        let start = us(1_000_000)
        let offered = [("VI_0", Self.c), ("VI_1", Self.a), ("VI_2", Self.b)].map { owner, address in
            pacer.offer(.init(owner: owner, interface: "eth0", address: address), now: start)
        }
        #expect(offered == [true, false, false])
        let due = pacer.nextDeadline!
        let sent = pacer.due(now: due) { firstSendable || $0.owner != "VI_1" }
        #expect(sent.map(\.address) == (firstSendable ? [Self.a] : [Self.b]))
        #expect(pacer.queued.map(\.address) == (firstSendable ? [Self.b] : []))
    }

    /// A reload (KeepalivedReload): what an instance it removed, or an address it took
    /// away, had queued is dropped; what a kept master still owes goes out on its turn.
    /// The control is the same queue without the retain, which would send all three.
    @Test func aReloadDropsWhatNoLongerHasAnOwner() {
        let t = us(3_000_000)
        func queue() -> P {
            var p = P(garpInterval: .milliseconds(100), gnaInterval: .zero)
            for (owner, address) in [("kept", Self.c), ("kept", Self.a), ("removed", Self.b), ("kept", Self.v6)] {
                _ = p.offer(.init(owner: owner, interface: "eth0", address: address), now: t)
            }
            return p
        }
        var reloaded = queue()
        #expect(reloaded.queued.map(\.address) == [Self.a, Self.b])
        // The kept instance lost address a in the reload; the other instance is gone.
        reloaded.retain { $0.owner == "kept" && $0.address != Self.a }
        #expect(reloaded.queued.isEmpty && reloaded.nextDeadline == nil)
        var control = queue()
        #expect(control.due(now: t + .milliseconds(100)).map(\.address) == [Self.a])
        #expect(control.due(now: t + .milliseconds(200)).map(\.address) == [Self.b])
    }

    /// The same spacing keeps the queue and the interfaces' turns; a new one starts afresh.
    @Test func respacingStartsAfreshOnlyWhenTheSpacingChanges() {
        let t = us(4_000_000)
        var p = P(garpInterval: .milliseconds(100), gnaInterval: .zero)
        _ = p.offer(.init(owner: "VI_1", interface: "eth0", address: Self.a), now: t)
        _ = p.offer(.init(owner: "VI_1", interface: "eth0", address: Self.b), now: t)
        p.respace(garpInterval: .milliseconds(100), gnaInterval: .zero)
        #expect(p.queued.map(\.address) == [Self.b] && p.nextDeadline == t + .milliseconds(100))
        let heldBack = p.offer(.init(owner: "VI_1", interface: "eth0", address: Self.c), now: t + .milliseconds(10))
        #expect(!heldBack)
        p.respace(garpInterval: .milliseconds(500), gnaInterval: .zero)
        #expect(p.queued.isEmpty && p.garpInterval == .milliseconds(500))
        let fresh = p.offer(.init(owner: "VI_1", interface: "eth0", address: Self.c), now: t + .milliseconds(20))
        #expect(fresh)
    }
}
