import Foundation
@testable import Daemon
import LinkIO
import Prometheus
import StateSync
import Testing
import Timekeeping

/// The mapping from a snapshot to the exposition text, on fixed figures: each series
/// carries the figure it was given, totals are published as absolute values (a second
/// publish does not add them up again, a total that went down resets its counter), and
/// every family that appears is documented in docs/metrics.md.
@Suite struct MetricsMappingTests {
    static let second: UInt64 = 1_000_000_000
    static func ns(_ n: UInt64) -> Instant { Instant(nanoseconds: n) }

    /// A backup of `tandem run`: 10 internal flows, 40 external, a resync complete, one
    /// promotion that the full table partly refused, one VRRP instance in BACKUP.
    static func snapshot(externalFlows: Int = 40, received: Int = 40, commits: Int = 1, rejected: Int = 2,
                         lagSamples: [Duration] = [.milliseconds(3)]) -> MetricsSnapshot {
        var gaps = GapRepair.Counters()
        gaps.gaps = 2
        gaps.renacksSkipped = 1
        var node = ControlPresenter.NodeStatus(
            mode: "FTFW", startedAt: .zero, peerAddress: "10.9.9.2", peerSilent: false, peerLastHeard: ns(59 * second),
            resync: .complete(at: ns(50 * second)), pollSeconds: nil, readsEvents: true, polls: 0,
            internalFlows: 10, externalFlows: externalFlows, linkKind: "UDP", linkInterface: "eth1", linksConfigured: 1,
            link: .init(sent: 7, received: 3, sendErrors: 2, droppedFull: 2), gaps: gaps, resyncPending: false, retransmitted: 4, lost: 5,
            malformed: 1, foreign: 6, overruns: 0)
        var lag = ReplicationLag()
        for l in lagSamples { lag.record(l, now: ns(58 * second)) }
        node.lag = ControlPresenter.LagView(samples: 1, last: lag.last, lastAt: lag.lastAt, recent: lag.recent(now: ns(60 * second)),
                                            probesUnanswered: 1)
        var internalCounters = CacheCounters()
        internalCounters.created = 12
        internalCounters.createFailed = 1
        var externalCounters = CacheCounters()
        externalCounters.created = externalFlows
        var stats = ConntrackdStatistics(internalCache: .init(name: "internal", objects: 11, active: 10, counters: internalCounters),
                                         externalCache: .init(name: "external", objects: externalFlows, active: externalFlows, counters: externalCounters))
        stats.channels = [ConntrackdStatistics.Channel(kind: "UDP", interface: "eth1", status: "RUNNING", active: true)]
        stats.resendQueueCount = 3
        stats.resendQueueLimit = 131072
        stats.runtime.eventsReceived = 99
        stats.runtime.eventsFiltered = 9
        stats.receive.truncated = 1
        stats.foreignDatagrams = 6
        stats.refusals.notFromPeer = 6
        stats.refusals.sequenceJumpUnconfirmed = 3
        stats.refusals.tcpSecondConnection = 2
        var authentication = SyncAuthenticator.Counters()
        authentication.sealed = 11
        authentication.accepted = 3
        authentication.badTag = 7
        authentication.replay = 2
        stats.authentication = authentication
        stats.lost = 5
        stats.gapRepair = gaps
        var recovery = LoopRecovery()
        recovery.counts[.controlRequest] = 1
        var document = StatusDocument(mode: .run, node: node, statistics: stats, expectations: nil, recovered: recovery.byKind,
                                      lastPromotion: nil, process: ProcessFootprint(pid: 42, uptimeSeconds: 60, rssBytes: 4096, openFds: 9),
                                      now: ns(60 * second))
        document.vrrp = nil
        document.splitBrain = .init(active: [.init(kind: "bothMaster", instance: "V", sinceMs: 500, detail: "both master: …")],
                                    reports: ["bothMaster": 1, "vrrpLostSyncAlive": 0, "syncLostVRRPAlive": 2],
                                    peerView: .init(port: 3790, lastHeardMs: 400, instances: [.init(name: "V", state: "MASTER", priority: 100)],
                                                    refused: ["stale": 2, "notFromPeer": 1]))
        var link = ChannelCounters()
        link.packetsSent = 7
        link.packetsReceived = 3
        link.sendErrors = 2
        link.droppedSendBufferFull = 2
        var messages = SyncMessageTally(links: 1)
        for _ in 0..<received { messages.count(.received, .flowNew, link: 0) }
        messages.count(.sent, .ack, link: 0)
        var promotions = PromotionTally()
        for c in 0..<commits {
            var report = CommitReport(flows: 10, succeeded: 6, failed: 4, duration: .milliseconds(3 + c))
            report.failuresByErrno = [ENOMEM: 3, EEXIST: 1]
            promotions.record(report)
        }
        let vrrpDocument = StatusDocument.VRRP(syncDemotion: 0, hostActionFailures: ["GARP": 1], instances: [
            .init(name: "V", state: "BACKUP", interface: "eth0", syncGroup: nil, basePriority: 200, effectivePriority: 190,
                  trackWeight: -10, syncDemotion: 0, faults: [], advertsRejected: rejected),
        ])
        let vrrp = VRRPFigures(document: vrrpDocument, instances: [
            "V": .init(stateCode: 1, advertsSent: 0, rejected: ["wrongTTL": rejected], transitions: ["BACKUP": 1]),
        ])
        return MetricsSnapshot(
            process: ProcessFigures(footprint: document.process, startTimeSeconds: 1_700_000_000, cpuSeconds: 1.25),
            replication: ReplicationFigures(document: document, links: [LinkFigures(name: "UDP:eth1", active: true, counters: link,
                                                                                    refusals: stats.refusals, authenticationRefused: authentication)],
                                            messages: messages, promotions: promotions, lagSamples: lag.samples),
            vrrp: vrrp)
    }

    /// Sample lines ("name{labels} value") of the exposition text, by series.
    static func samples(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " ") else { continue }
            out[String(line[..<space])] = String(line[line.index(after: space)...])
        }
        return out
    }

    static func publish(_ snapshots: [MetricsSnapshot]) -> (text: String, samples: [String: String]) {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = MetricsFeed.durationBuckets
        factory.durationHistogramBuckets = MetricsFeed.bucketsByName
        let publisher = MetricsPublisher(factory: factory)
        for s in snapshots { publisher.publish(s) }
        let text = registry.emitToString()
        return (text, samples(text))
    }

    @Test func aSnapshotBecomesItsSeries() {
        let s = Self.publish([Self.snapshot()]).samples
        #expect(s[#"tandem_sync_messages_total{link="UDP:eth1",direction="received",kind="new"}"#] == "40")
        #expect(s[#"tandem_sync_messages_total{link="UDP:eth1",direction="sent",kind="ack"}"#] == "1")
        // Every kind has its series from the start, at 0: a rate over it works from the first scrape.
        #expect(s[#"tandem_sync_messages_total{link="UDP:eth1",direction="received",kind="destroy"}"#] == "0")
        #expect(s[#"tandem_sync_packets_total{link="UDP:eth1",direction="sent"}"#] == "7")
        #expect(s[#"tandem_sync_send_errors_total{link="UDP:eth1",reason="send_buffer_full"}"#] == "2")
        #expect(s[#"tandem_sync_send_errors_total{link="UDP:eth1",reason="other"}"#] == "0")
        #expect(s[#"tandem_sync_received_dropped_total{reason="truncated"}"#] == "1")
        #expect(s[#"tandem_sync_received_dropped_total{reason="not_from_peer"}"#] == "6")
        #expect(s[#"tandem_sync_refused_total{reason="not_from_peer"}"#] == "6")
        #expect(s[#"tandem_sync_refused_total{reason="sequence_jump_unconfirmed"}"#] == "3")
        #expect(s[#"tandem_sync_refused_total{reason="tcp_second_connection"}"#] == "2")
        #expect(s[#"tandem_sync_refused_total{reason="cache_full"}"#] == "0")
        #expect(s[#"tandem_sync_auth_refused_total{reason="bad_tag"}"#] == "7")
        #expect(s[#"tandem_sync_auth_refused_total{reason="replay"}"#] == "2")
        #expect(s[#"tandem_sync_auth_refused_total{reason="not_authenticated"}"#] == "0")
        // The same refusals by the link they arrived on (here the only one).
        #expect(s[#"tandem_sync_link_refused_total{link="UDP:eth1",reason="sequence_jump_unconfirmed"}"#] == "3")
        #expect(s[#"tandem_sync_link_refused_total{link="UDP:eth1",reason="not_from_peer"}"#] == "6")
        #expect(s[#"tandem_sync_link_refused_total{link="UDP:eth1",reason="cache_full"}"#] == "0")
        #expect(s[#"tandem_sync_link_auth_refused_total{link="UDP:eth1",reason="bad_tag"}"#] == "7")
        #expect(s[#"tandem_sync_link_auth_refused_total{link="UDP:eth1",reason="unknown_key"}"#] == "0")
        #expect(s[#"tandem_sync_auth_frames_total{outcome="sealed"}"#] == "11")
        #expect(s[#"tandem_sync_auth_frames_total{outcome="accepted"}"#] == "3")
        #expect(s["tandem_sync_messages_lost_total"] == "5")
        #expect(s[#"tandem_sync_queue_messages{queue="resend"}"#] == "3.0")
        #expect(s["tandem_sync_gaps_total"] == "2")
        #expect(s[#"tandem_sync_renacks_total{outcome="skipped"}"#] == "1")
        #expect(s[#"tandem_sync_resync_state{state="complete"}"#] == "1.0")
        #expect(s[#"tandem_sync_resync_state{state="waiting"}"#] == "0.0")
        #expect(s["tandem_sync_peer_last_heard_seconds"] == "1.0")
        #expect(s[#"tandem_kernel_events_dropped_total{reason="filtered"}"#] == "9")
        #expect(s[#"tandem_errors_recovered_total{kind="control_request"}"#] == "1")
        #expect(s[#"tandem_cache_flows{cache="internal"}"#] == "10.0")
        #expect(s[#"tandem_cache_flows{cache="external"}"#] == "40.0")
        #expect(s[#"tandem_cache_operations_total{cache="internal",operation="create",result="failed"}"#] == "1")
        #expect(s["tandem_promotions_total"] == "1")
        #expect(s[#"tandem_commit_flows_total{result="committed"}"#] == "6")
        #expect(s[#"tandem_commit_failures_total{errno="ENOMEM"}"#] == "3")
        #expect(s[#"tandem_commit_failures_total{errno="EEXIST"}"#] == "1")
        #expect(s["tandem_promotion_duration_seconds_count"] == "1")
        #expect(s[#"tandem_peer_view_refused_total{reason="stale"}"#] == "2")
        #expect(s[#"tandem_peer_view_refused_total{reason="not_from_peer"}"#] == "1")
        #expect(s["tandem_peer_view_last_heard_seconds"] == "0.4")
        #expect(s[#"tandem_replication_lag_seconds_bucket{le="0.005"}"#] == "1")
        #expect(s[#"tandem_replication_lag_seconds_bucket{le="0.0025"}"#] == "0")
        #expect(s["tandem_replication_lag_seconds_count"] == "1")
        #expect(s[#"tandem_replication_lag_recent_seconds{stat="last"}"#] == "0.003")
        #expect(s[#"tandem_replication_lag_recent_seconds{stat="max"}"#] != nil)
        #expect(s[#"tandem_promotion_duration_seconds_bucket{le="0.005"}"#] == "1")
        #expect(s[#"tandem_promotion_duration_seconds_bucket{le="0.0025"}"#] == "0")
        #expect(s[#"tandem_vrrp_state{instance="V"}"#] == "1.0")
        #expect(s[#"tandem_vrrp_priority{instance="V"}"#] == "190.0")
        #expect(s[#"tandem_vrrp_transitions_total{instance="V",state="BACKUP"}"#] == "1")
        #expect(s[#"tandem_vrrp_transitions_total{instance="V",state="MASTER"}"#] == "0")
        #expect(s[#"tandem_vrrp_adverts_rejected_total{instance="V",reason="wrong_ttl"}"#] == "2")
        #expect(s[#"tandem_vrrp_host_action_failures_total{action="garp"}"#] == "1")
        #expect(s["process_resident_memory_bytes"] == "4096.0")
        #expect(s["process_open_fds"] == "9.0")
        #expect(s["process_cpu_seconds_total"] == "1.25")
    }

    @Test func anExternalCacheNotKeptHasNoFlowSeries() {
        var snapshot = Self.snapshot()
        snapshot.replication?.document.caches.external.flows = nil
        let s = Self.publish([snapshot]).samples
        #expect(s[#"tandem_cache_flows{cache="external"}"#] == nil)
        #expect(s[#"tandem_cache_flows{cache="internal"}"#] == "10.0")
    }

    /// Totals are absolute: published twice they are not added up; a new commit adds one
    /// observation to the histogram, not two; a total that went down (keepalived's
    /// statistics cleared) starts its counter again from the new value.
    @Test func totalsArePublishedAsAbsoluteValues() {
        let once = Self.publish([Self.snapshot()]).samples
        let later = Self.publish([Self.snapshot(), Self.snapshot(externalFlows: 90, received: 90, commits: 2, rejected: 0)]).samples
        #expect(once[#"tandem_sync_messages_total{link="UDP:eth1",direction="received",kind="new"}"#] == "40")
        #expect(later[#"tandem_sync_messages_total{link="UDP:eth1",direction="received",kind="new"}"#] == "90")
        #expect(once[#"tandem_cache_flows{cache="external"}"#] == "40.0")
        #expect(later[#"tandem_cache_flows{cache="external"}"#] == "90.0")
        #expect(later["tandem_promotions_total"] == "2")
        #expect(later["tandem_promotion_duration_seconds_count"] == "2")
        #expect(later[#"tandem_commit_failures_total{errno="ENOMEM"}"#] == "6")
        #expect(once[#"tandem_vrrp_adverts_rejected_total{instance="V",reason="wrong_ttl"}"#] == "2")
        #expect(later[#"tandem_vrrp_adverts_rejected_total{instance="V",reason="wrong_ttl"}"#] == "0")
        let same = Self.publish([Self.snapshot(), Self.snapshot()]).samples
        #expect(same == once)
        // The lag histogram takes each sample once: the second snapshot's one new sample
        // (the first is the same 3 ms) adds one observation, in its own bucket.
        let lagged = Self.publish([Self.snapshot(), Self.snapshot(lagSamples: [.milliseconds(3), .microseconds(400)])]).samples
        #expect(once["tandem_replication_lag_seconds_count"] == "1")
        #expect(lagged["tandem_replication_lag_seconds_count"] == "2")
        #expect(lagged[#"tandem_replication_lag_seconds_bucket{le="0.0005"}"#] == "1")
        #expect(lagged[#"tandem_replication_lag_seconds_bucket{le="0.00025"}"#] == "0")
    }

    /// keepalived mode: no replication series at all, VRRP and the process only.
    @Test func vrrpOnlySnapshotHasNoReplicationSeries() {
        var snapshot = Self.snapshot()
        snapshot.replication = nil
        let s = Self.publish([snapshot]).samples
        #expect(!s.keys.contains { $0.hasPrefix("tandem_sync_") || $0.hasPrefix("tandem_cache_") })
        #expect(s[#"tandem_vrrp_state{instance="V"}"#] == "1.0")
        #expect(s["process_open_fds"] == "9.0")
    }

    /// docs/metrics.md names every family the mapping produces, and nothing it does not.
    @Test func everyFamilyIsDocumented() throws {
        let text = Self.publish([Self.snapshot()]).text
        let families = Set(text.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("# TYPE ") else { return nil }
            return line.split(separator: " ").dropFirst(2).first.map(String.init)
        })
        #expect(families.count > 40)
        let docs = try String(contentsOfFile: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../docs/metrics.md").path, encoding: .utf8)
        let documented = Set(docs.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("| `") else { return nil }
            return line.dropFirst(3).split(separator: "`").first.map { String($0.split(separator: "{").first ?? $0) }
        })
        #expect(families.subtracting(documented).sorted() == [])
        // The fixture has no ExpectationSync: the one family it cannot show.
        #expect(documented.subtracting(families).sorted() == ["tandem_expectation_cache_entries"])
    }

    @Test func messageKindsFollowTheLeadingFlag() {
        #expect(SyncMessageKind.of(.flowUpdate, []) == .flowUpdate)
        #expect(SyncMessageKind.of(.expectationDestroy, []) == .expectationDestroy)
        #expect(SyncMessageKind.of(.control, [.ack, .hello]) == .ack)
        #expect(SyncMessageKind.of(.control, [.nack]) == .nack)
        #expect(SyncMessageKind.of(.control, [.resync]) == .resyncRequest)
        #expect(SyncMessageKind.of(.control, [.alive, .helloBack]) == .hello)
        #expect(SyncMessageKind.of(.control, [.alive]) == .alive)
        #expect(MetricsPublisher.snake("notRequested") == "not_requested")
        #expect(MetricsPublisher.snake("GARP socket") == "garp_socket")
        #expect(MetricsPublisher.snake("unknownVRID") == "unknown_vrid")
    }
}
