import Conntrack
@testable import Daemon
import StateSync
import TestSupport
import Testing
import Timekeeping

/// What `-i`, `-e` and `tandem status` print, from fixed figures.
@Suite struct ControlPresenterTests {
    static let second: UInt64 = 1_000_000_000

    @Test func listingsHideWhatConntrackdHides() {
        let f = FlowFixtures.tcp
        let now = 100 * Self.second
        let internalText = ControlPresenter.listing([.init(flow: f, since: ns(95 * Self.second))], internal: true, xml: false, now: ns(now))
        #expect(internalText.hasSuffix(" [active since 5s]\n"))
        #expect(internalText.hasPrefix("tcp      6 ESTABLISHED src=10.64.0.1 dst=172.20.0.1 sport=40000 dport=80"))
        // No timeout, no id in plain listings; the reply tuple only in the internal cache's.
        #expect(!internalText.contains("600") && !internalText.contains("id="))
        #expect(internalText.contains("src=172.20.0.1 dst=10.64.0.1"))
        let externalText = ControlPresenter.listing([.init(flow: f, since: ns(40 * Self.second), expires: ns(130 * Self.second))],
                                                    internal: false, xml: false, now: ns(now))
        #expect(!externalText.contains("src=172.20.0.1 dst=10.64.0.1"))
        #expect(externalText.hasSuffix(" [expires in 30s] [active since 60s]\n"))
        let xml = ControlPresenter.listing([.init(flow: f, since: .zero)], internal: true, xml: true, now: ns(now))
        #expect(xml.hasPrefix("<flow>") && xml.contains("<id>2395713667</id>"))
        #expect(!ControlPresenter.listing([.init(flow: f, since: .zero)], internal: false, xml: true, now: ns(now)).contains("<id>"))
    }

    @Test func statusNamesWhatAnOperatorAsksFirst() {
        var gaps = GapRepair.Counters()
        gaps.gaps = 2
        gaps.messagesLost = 40
        let status = ControlPresenter.NodeStatus(
            mode: "ftfw", startedAt: .zero, peerAddress: "10.9.9.2", peerSilent: true, peerLastHeard: ns(50 * Self.second),
            resync: .waiting(since: ns(58 * Self.second), acknowledged: true, ticks: 0), pollSeconds: 5, readsEvents: true, polls: 1,
            internalFlows: 10, externalFlows: nil, linkKind: "udp", linkInterface: "eth1", linksConfigured: 2,
            link: .init(sent: 7, received: 3, sendErrors: 2, droppedFull: 2), gaps: gaps, resyncPending: true, retransmitted: 4, lost: 40,
            malformed: 1, foreign: 0, overruns: 0)
        let text = ControlPresenter.status(status, now: ns(60 * Self.second))
        #expect(text == """
            sync: mode ftfw, up 60s, peer 10.9.9.2
              peer: SILENT for 10s
              resync: WAITING for the peer's table for 2s (request acknowledged)
              kernel: PollSecs 5, events replicated at once, 1 re-reads after overruns
              caches: internal 10 flows, external injected into the kernel
              link: udp on eth1 (2 configured), 7 sent / 3 received, 2 send errors (2 dropped with the send buffer full)
              gaps: 2 (40 messages), 0 sequence jumps, 0 NACKed again, 0 resync requests covering 0 messages, 0 stale flows removed, a resync pending
              reliability: 4 retransmitted, 40 lost, 1 malformed, 0 not from the peer, 0 netlink overruns
              errors recovered: none

            """)
        // The hardened link's refusals get a line once there are any (docs/sync-hardening.md).
        var refusing = status
        refusing.refusals.notFromPeer = 3
        refusing.refusals.sequenceJumpUnconfirmed = 1
        let refusedText = ControlPresenter.status(refusing, now: ns(60 * Self.second))
        #expect(refusedText.contains("\n  refused: 3 not-from-peer, 1 sequence-jump-unconfirmed\n"), "\(refusedText)")
    }
}
