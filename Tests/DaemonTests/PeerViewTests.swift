@testable import Daemon
import Testing
import Timekeeping

/// The peer view's wire form (docs/split-brain.md): what is sent decodes to itself, and
/// every malformed datagram is a typed refusal, never a crash. With it, a master whose
/// VRRP path is cut both ways hears its peer claim MASTER; its control, the same views
/// without the peer's word, reports nothing.
@Suite struct PeerViewTests {
    static let view = PeerView(epoch: 1_764_000_000_000_000_000, sequence: 7, instances: [
        .init(name: "VI_1", state: .master, priority: 200), .init(name: "wan-ü", state: .backup, priority: 100),
    ])

    @Test func aViewDecodesToItself() throws {
        let bytes = Self.view.encoded()
        #expect(Array(bytes[0..<6]) == Array("TNDV".utf8) + [1, 0])
        #expect(try PeerView.decode(bytes) == Self.view)
        #expect(try PeerView.decode(PeerView(epoch: 1, sequence: 1, instances: []).encoded()).instances == [])
    }

    @Test func everyMalformedDatagramIsATypedRefusal() {
        let good = Self.view.encoded()
        func refusal(_ bytes: [UInt8]) -> PeerViewError? {
            do { _ = try PeerView.decode(bytes); return nil } catch { return error }
        }
        #expect(refusal(good) == nil)
        #expect(refusal([]) == .notAPeerView)
        #expect(refusal(Array("TNDX".utf8) + good.dropFirst(4)) == .notAPeerView)
        #expect(refusal(Array(good.prefix(20))) == .truncated(20))
        var v = good; v[4] = 2
        #expect(refusal(v) == .unknownVersion(2))
        v = good; v[5] = 0x80
        #expect(refusal(v) == .reservedBits(0x80))
        v = good; v[24] = 9
        #expect(refusal(v) == .unknownState(9))
        v = good; v[26] = 0
        #expect(refusal(v) == .badName)
        v = good; v[28] = 0xff
        #expect(refusal(v) == .badName)
        #expect(refusal(good + [0]) == .trailingBytes(1))
        #expect(refusal(Array(good.dropLast())) == .truncated(good.count - 1))
        // Every prefix is refused or decodes; none traps.
        for n in 0..<good.count { _ = refusal(Array(good.prefix(n))) }
    }

    typealias Monitor = SplitBrainMonitor
    static func t(_ s: Double) -> Instant { Instant(nanoseconds: UInt64(s * 1e9)) }

    /// A master since t = 0 whose VRRP hears nothing (cut both ways); from t = 10 the peer
    /// took over and its view says MASTER every second. The control: no peer view.
    @Test(arguments: [true, false]) func aPeerViewClaimingMasterIsReported(withView: Bool) {
        var m = Monitor()
        var reports: [(Double, Monitor.Report)] = []
        var now = 0.0
        while now <= 20 {
            var i = Monitor.InstanceView(name: "VI_1", isMaster: true, masterSince: Self.t(0), masterDownInterval: .milliseconds(3_600),
                                         peerAdvert: nil, lastClaimWhileMaster: nil)
            if withView && now >= 10 { i.peerView = .init(state: "MASTER", at: Self.t(now.rounded(.down))) }
            reports += m.evaluate([i], sync: .init(peer: "10.0.1.2", lastHeard: Self.t(now)), now: Self.t(now)).map { (now, $0) }
            now += 0.25
        }
        if withView {
            #expect(reports.map(\.1.kind) == [.bothMaster] && reports.first?.1.began == true, "\(reports)")
            // Claims spanning half a MDI (1.8 s): the views of 10, 11 and 12.
            #expect((reports.first?.0 ?? 0) >= 11.8, "\(reports)")
            #expect(reports.first?.1.detail.contains("peer view: VI_1 MASTER") == true, "\(reports)")
        } else {
            #expect(reports.isEmpty, "\(reports)")
        }
    }

    /// A view that said MASTER before we became master (the old master's last word before
    /// an ordinary hand-over) is not a claim.
    @Test func aViewFromBeforeOurTakeoverIsNoClaim() {
        var m = Monitor()
        var reports: [Monitor.Report] = []
        for step in 0...40 {
            let now = 10 + Double(step) * 0.25
            var i = Monitor.InstanceView(name: "VI_1", isMaster: true, masterSince: Self.t(10), masterDownInterval: .milliseconds(3_600),
                                         peerAdvert: nil, lastClaimWhileMaster: nil)
            i.peerView = .init(state: "MASTER", at: Self.t(9.5))
            reports += m.evaluate([i], sync: .init(peer: "10.0.1.2", lastHeard: Self.t(now)), now: Self.t(now))
        }
        #expect(reports.isEmpty, "\(reports)")
    }
}
