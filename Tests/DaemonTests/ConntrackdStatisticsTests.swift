import Daemon
import StateSync
import Testing

/// `conntrackd -s` and its variants in the layouts of spec §6.3.
@Suite struct ConntrackdStatisticsTests {
    static func sample() -> ConntrackdStatistics {
        var internalCounters = CacheCounters()
        internalCounters.created = 5
        internalCounters.destroyed = 1
        var s = ConntrackdStatistics(
            internalCache: .init(name: "internal", objects: 5, active: 4, counters: internalCounters),
            externalCache: .init(name: "external", objects: 3, active: 3, counters: CacheCounters()))
        var link = ConntrackdStatistics.Channel(kind: "UDP", interface: "eth1", status: "RUNNING", active: true)
        link.bytesSent = 1200
        link.packetsSent = 10
        s.channels = [link, .init(kind: "UDP", interface: "eth2", status: "NO-CARRIER", active: false)]
        s.lost = 6
        s.before = 1
        s.resendQueue = [(sequence: 100, control: nil), (sequence: 101, control: SyncFlags.ack)]
        s.resendQueueLimit = 131072
        s.transmitQueue = 2
        return s
    }

    @Test func generalHasConntrackdsBlocksInOrder() {
        let text = Self.sample().general
        #expect(text.hasPrefix("""
        cache internal:
        current active connections:\t           4
        connections created:\t\t           5\tfailed:\t           0
        connections updated:\t\t           0\tfailed:\t           0
        connections destroyed:\t\t           1\tfailed:\t           0

        cache external:
        """))
        #expect(text.contains("""
        traffic processed:
                           0 Bytes                         0 Pckts

        UDP traffic (active device=eth1):
                        1200 Bytes sent                    0 Bytes recv
                          10 Pckts sent                    0 Pckts recv
                           0 Error send                    0 Error recv

        message tracking:
                           0 Malformed msgs                    6 Lost msgs

        """))
    }

    @Test func network() {
        let text = Self.sample().network
        #expect(text.hasPrefix("network statistics:\n\trecv:\n\t\tMalformed messages:\t                   0\n\t\tWrong protocol version:\t"))
        #expect(text.contains("sequence tracking statistics:\n\trecv:\n\t\tPackets lost:\t\t                   6\n\t\tPackets before:\t\t                   1\n\nUDP traffic (active device=eth1):\n"))
        var refused = Self.sample()
        refused.refusals.sequenceJumpUnconfirmed = 7
        refused.refusals.cacheFull = 2
        refused.channels[1].refusals.sequenceJumpUnconfirmed = 7
        refused.channels[1].refusals.cacheFull = 2
        func reasons(jumps: Int, cacheFull: Int) -> String {
            "\t\tnot-from-peer:\t\t                   0\n"
                + "\t\tsequence-jump-unconfirmed:\t                   \(jumps)\n\t\trate-limited:\t\t                   0\n"
                + "\t\tack-beyond-sent:\t                   0\n\t\ttcp-second-connection:\t                   0\n"
                + "\t\tcache-full:\t\t                   \(cacheFull)\n"
        }
        // Tandem's refusals, one line per reason, then the same by the link they arrived
        // on (every channel, the backup one too) close the report.
        #expect(refused.network.contains("refused (tandem):\n" + reasons(jumps: 7, cacheFull: 2) + "\n"))
        #expect(refused.network.hasSuffix("refused by link (tandem):\n\tUDP device=eth1:\n" + reasons(jumps: 0, cacheFull: 0)
            + "\tUDP device=eth2:\n" + reasons(jumps: 7, cacheFull: 2) + "\n"), "\(refused.network)")
        // With a key, each link's authentication refusals follow its own.
        refused.channels[1].authenticationRefused = SyncAuthenticator.Counters()
        refused.channels[1].authenticationRefused?.badTag = 4
        #expect(refused.network.hasSuffix(reasons(jumps: 7, cacheFull: 2) + "\t\tauth not authenticated:\t                   0\n"
            + "\t\tauth malformed envelope:\t                   0\n\t\tauth unknown version:\t                   0\n"
            + "\t\tauth unknown key:\t                   0\n\t\tauth bad tag:\t\t                   4\n"
            + "\t\tauth replayed:\t\t                   0\n\n"), "\(refused.network)")
    }

    @Test func linkShowsEveryChannelWithItsRole() {
        let text = Self.sample().link
        #expect(text.contains("UDP traffic device=eth1 status=RUNNING role=ACTIVE:\n"))
        #expect(text.contains("UDP traffic device=eth2 status=NO-CARRIER role=BACKUP:\n"))
    }

    @Test func resendQueueAndQueues() {
        let s = Self.sample()
        #expect(s.resendQueueReport == "resent queue (len=2)\nobject -> seq:100\ncontrol -> seq:101 flags:8\n")
        #expect(s.queues.hasPrefix("allocated queue nodes:\t\t           4\n\nqueue txqueue:\ncurrent elements:\t\t           2\nmaximum elements:\t\t  2147483647\nnot enough space errors:\t           0\n\nqueue errorq:\n"))
        #expect(s.queues.hasSuffix("queue rsqueue:\ncurrent elements:\t\t           2\nmaximum elements:\t\t      131072\nnot enough space errors:\t           0\n\n"))
        var notrack = s
        notrack.resendQueue = nil
        #expect(notrack.resendQueueReport.isEmpty)
        #expect(!notrack.queues.contains("rsqueue"))
    }

    @Test func cacheAndRuntime() {
        let s = Self.sample()
        #expect(s.cache.hasPrefix("cache:internal\tactive objects:\t\t           5\n\tactive/total entries:\t\t           4/           5\n"))
        #expect(s.runtimeReport.hasPrefix("daemon uptime: 0 min\n\nnetlink stats:\n\tevents received:\t                   0\n"))
        #expect(s.runtimeReport.hasSuffix("\tlocal read failed:\t\t           0\n\tlocal unknown request:\t\t           0\n\n"))
    }

    static let uptimes: [(UInt64, String)] = [(59, "0 min"), (60, "1 min"), (3600, "1 h 0 min"), (86400 + 120, "1 day 2 min"),
                                              (2 * 86400 + 3 * 3600, "2 days 3 h 0 min")]

    @Test func uptime() {
        for (seconds, text) in Self.uptimes { #expect(ConntrackdStatistics.uptime(seconds) == text) }
    }
}
