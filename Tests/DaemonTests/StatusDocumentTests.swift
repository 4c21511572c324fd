import Foundation
@testable import Daemon
import StateSync
import TestSupport
import Testing
import Timekeeping

/// `tandem status --json` from fixed figures: the document validates against
/// docs/status.schema.json, carries the figures it was given, and the schema and
/// docs/status.md describe the same keys.
@Suite struct StatusDocumentTests {
    static let second: UInt64 = 1_000_000_000

    /// A peer never heard, a resync waiting 2 s, the external cache injected, a commit
    /// 1.5 s ago that the full table partly refused.
    static func document(mode: StatusDocument.Mode = .conntrackd) -> StatusDocument {
        var gaps = GapRepair.Counters()
        gaps.gaps = 2
        gaps.messagesLost = 40
        var node = ControlPresenter.NodeStatus(
            mode: "FTFW", startedAt: .zero, peerAddress: "10.9.9.2", peerSilent: true, peerLastHeard: .zero,
            resync: .waiting(since: ns(58 * second), acknowledged: true, ticks: 0), pollSeconds: nil, readsEvents: true, polls: 1,
            internalFlows: 10, externalFlows: nil, linkKind: "UDP", linkInterface: "eth1", linksConfigured: 2,
            link: .init(sent: 7, received: 3, sendErrors: 2, droppedFull: 2), gaps: gaps, resyncPending: true, retransmitted: 4, lost: 40,
            malformed: 1, foreign: 0, overruns: 0)
        node.peerHeard = false
        node.waitingForSpace = 3
        var internalCounters = CacheCounters()
        internalCounters.created = 12
        var stats = ConntrackdStatistics(internalCache: .init(name: "internal", objects: 11, active: 10, counters: internalCounters),
                                         externalCache: .init(name: "external", objects: 0, active: 0, counters: CacheCounters()))
        stats.externalInject = true
        for (name, active) in [("eth1", true), ("eth2", false)] {
            var c = ConntrackdStatistics.Channel(kind: "multicast", interface: name, status: "UP", active: active)
            if active { c.packetsSent = 7 }
            stats.channels.append(c)
        }
        stats.resendQueue = [(sequence: 5, control: nil)]
        stats.resendQueueLimit = 131072
        stats.runtime.eventsReceived = 99
        stats.gapRepair = gaps
        stats.refusals.sequenceJumpUnconfirmed = 4
        stats.refusals.rateLimited = 2
        var report = CommitReport(flows: 10, succeeded: 6, failed: 4, duration: .microseconds(2500))
        report.failuresByErrno = [ENOMEM: 3, EEXIST: 1]
        let promotion = PromotionRecord(startedAt: ns(58_500_000_000), report: report, peerTableIncomplete: true)
        var recovery = LoopRecovery()
        recovery.counts[.controlRequest] = 1
        var d = StatusDocument(mode: mode, node: node, statistics: stats, expectations: nil, recovered: recovery.byKind,
                               lastPromotion: promotion, process: ProcessFootprint(pid: 42, uptimeSeconds: 60, rssBytes: 4096, openFds: nil),
                               now: ns(60 * second))
        if mode == .run {
            d.vrrp = .init(syncDemotion: 50, hostActionFailures: ["GARP": 1], instances: [
                .init(name: "V", state: "BACKUP", interface: "eth0", syncGroup: nil, basePriority: 200, effectivePriority: 140,
                      trackWeight: -10, syncDemotion: 50, faults: [], advertsRejected: 0),
            ])
            // As FailoverNode fills it: a run node always watches for split brain.
            d.splitBrain = .init(active: [], reports: ["bothMaster": 0, "vrrpLostSyncAlive": 0, "syncLostVRRPAlive": 0])
        }
        return d
    }

    static func parsed(_ d: StatusDocument) throws -> JSONValue { try JSONValue.parse(try d.json()) }

    @Test func conntrackdDocumentValidatesAndCarriesItsFigures() throws {
        let j = try Self.parsed(Self.document())
        #expect(try JSONSchemaSubset.statusSchema().errors(in: j) == [])
        #expect(j["schema"] == .string("tandem-status/2"))
        #expect(j["mode"] == .string("conntrackd"))
        #expect(j["vrrp"] == .null)
        let sync = try #require(j["sync"])
        // Never heard: null, not the seconds since start-up.
        #expect(sync["peer"]?["lastHeardMs"] == .null)
        #expect(sync["resync"]?["phase"] == .string("waiting"))
        #expect(sync["resync"]?["sinceMs"] == .integer(2000))
        #expect(sync["resync"]?["acknowledged"] == .bool(true))
        #expect(sync["channels"]?[0]?["kind"] == .string("Multicast"))
        #expect(sync["channels"]?[0]?["packetsSent"] == .integer(7))
        #expect(sync["queues"]?["resend"] == .integer(1))
        #expect(sync["gapRepair"]?["messagesLost"] == .integer(40))
        #expect(sync["refusals"]?["sequenceJumpUnconfirmed"] == .integer(4))
        #expect(sync["refusals"]?["rateLimited"] == .integer(2))
        #expect(sync["refusals"]?["cacheFull"] == .integer(0))
        #expect(j["caches"]?["internal"]?["flows"] == .integer(10))
        #expect(j["caches"]?["internal"]?["counters"]?["created"] == .integer(12))
        #expect(j["caches"]?["external"]?["flows"] == .null)
        #expect(j["caches"]?["expectations"] == .null)
        #expect(j["kernel"]?["eventsReceived"] == .integer(99))
        #expect(j["kernel"]?["pollSeconds"] == .null)
        #expect(j["process"]?["openFds"] == .null)
        #expect(j["pendingCommit"]?["waiting"] == .integer(3))
        #expect(j["errorsRecovered"]?["controlRequest"] == .integer(1))
        #expect(j["errorsRecovered"]?["eventSocket"] == .integer(0))
        let p = try #require(j["lastPromotion"])
        #expect(p["unit"] == .null)
        #expect(p["ageMs"] == .integer(1500))
        #expect(p["committed"] == .integer(6) && p["failed"] == .integer(4))
        #expect(p["durationMs"] == .number(2.5))
        #expect(p["failuresByErrno"]?[0]?["name"] == .string("ENOMEM") && p["failuresByErrno"]?[0]?["flows"] == .integer(3))
        #expect(p["failuresByErrno"]?[1]?["name"] == .string("EEXIST"))
        #expect(p["announcedAfterMs"] == .null)
    }

    @Test func runDocumentValidatesWithItsInstances() throws {
        let j = try Self.parsed(Self.document(mode: .run))
        #expect(try JSONSchemaSubset.statusSchema().errors(in: j) == [])
        #expect(j["mode"] == .string("run"))
        let v = try #require(j["vrrp"]?["instances"]?[0])
        #expect(v["state"] == .string("BACKUP"))
        #expect(v["basePriority"] == .integer(200) && v["effectivePriority"] == .integer(140))
        #expect(v["syncGroup"] == .null)
        #expect(j["vrrp"]?["hostActionFailures"]?["GARP"] == .integer(1))
    }

    /// The validator catches what the schema forbids, so the tests above can fail.
    @Test func theValidatorRefusesWhatTheSchemaForbids() throws {
        let schema = try JSONSchemaSubset.statusSchema()
        guard case .object(var o) = try Self.parsed(Self.document()) else { Issue.record("not an object"); return }
        var missing = o
        missing["process"] = nil
        #expect(schema.errors(in: .object(missing)) == [": missing process"])
        var extra = o
        extra["surprise"] = .integer(1)
        #expect(schema.errors(in: .object(extra)) == [": unexpected key surprise"])
        o["mode"] = .string("vrrp")
        #expect(schema.errors(in: .object(o)).first?.contains("enum") == true)
        o["mode"] = .string("run")
        guard case .object(var sync) = o["sync"] else { Issue.record("no sync"); return }
        sync["mode"] = .integer(1)
        o["sync"] = .object(sync)
        #expect(schema.errors(in: .object(o)).contains { $0.hasPrefix("/sync/mode:") })
    }

    static func keepalivedDocument() -> KeepalivedStatusDocument {
        KeepalivedStatusDocument(
            process: ProcessFootprint(pid: 7, uptimeSeconds: 3, rssBytes: 8192, openFds: 9),
            control: .init(localReadFailed: 1, localUnknownRequest: 2),
            vrrp: .init(syncDemotion: 0, hostActionFailures: [:], instances: [
                .init(name: "VI_1", state: "MASTER", interface: "eth0", syncGroup: "G", basePriority: 150, effectivePriority: 150,
                      trackWeight: 0, syncDemotion: 0, faults: [], advertsRejected: 0),
            ]))
    }

    /// `tandem keepalived`: the same document, the replication sections null, VRRP filled.
    @Test func keepalivedDocumentValidatesWithReplicationNull() throws {
        let j = try JSONValue.parse(try Self.keepalivedDocument().json())
        #expect(try JSONSchemaSubset.statusSchema().errors(in: j) == [])
        #expect(j["schema"] == .string("tandem-status/2"))
        #expect(j["mode"] == .string("keepalived"))
        for key in ["sync", "kernel", "caches", "lastPromotion", "pendingCommit", "handover", "errorsRecovered", "splitBrain"] {
            #expect(j[key] == .null, "\(key)")
        }
        #expect(j["control"]?["localUnknownRequest"] == .integer(2))
        #expect(j["process"]?["pid"] == .integer(7))
        #expect(j["vrrp"]?["instances"]?[0]?["state"] == .string("MASTER"))
        #expect(j["vrrp"]?["instances"]?[0]?["syncGroup"] == .string("G"))
        // Every key of the other modes' documents is there: a reader finds what it knows.
        let run = try Self.parsed(Self.document(mode: .run))
        #expect(Set(j.object.map { Array($0.keys) } ?? []) == Set(run.object.map { Array($0.keys) } ?? []))
    }

    /// The mode decides which sections may be null; each wrong pairing is refused, so the
    /// tests that find a document valid could find it invalid.
    @Test func theValidatorRefusesSectionsThatDoNotFitTheMode() throws {
        let schema = try JSONSchemaSubset.statusSchema()
        guard case .object(let keepalived) = try JSONValue.parse(try Self.keepalivedDocument().json()),
              case .object(let conntrackd) = try Self.parsed(Self.document()),
              case .object(let run) = try Self.parsed(Self.document(mode: .run)) else { Issue.record("not objects"); return }
        // The unmodified documents pass: the refusals below are the changes' doing.
        #expect(schema.errors(in: .object(keepalived)) == [] && schema.errors(in: .object(conntrackd)) == []
                && schema.errors(in: .object(run)) == [])
        var withSync = keepalived
        withSync["sync"] = conntrackd["sync"]
        #expect(schema.errors(in: .object(withSync)).contains { $0.contains("fits no anyOf branch") }, "\(schema.errors(in: .object(withSync)))")
        var withoutVRRP = keepalived
        withoutVRRP["vrrp"] = .null
        #expect(schema.errors(in: .object(withoutVRRP)).contains { $0.contains("fits no anyOf branch") })
        var conntrackdWithoutSync = conntrackd
        conntrackdWithoutSync["sync"] = .null
        #expect(schema.errors(in: .object(conntrackdWithoutSync)).contains { $0.contains("fits no anyOf branch") })
        var runCalledKeepalived = run
        runCalledKeepalived["mode"] = .string("keepalived")
        #expect(schema.errors(in: .object(runCalledKeepalived)).contains { $0.contains("fits no anyOf branch") })
        var oldVersion = keepalived
        oldVersion["schema"] = .string("tandem-status/1")
        #expect(schema.errors(in: .object(oldVersion)) == ["/schema: \"tandem-status/1\" is not the constant"])
    }

    /// Keys sorted and nothing time-dependent beyond the figures: one state, one text.
    @Test func renderingIsStable() throws {
        let a = try Self.document().json(), b = try Self.document().json()
        #expect(a == b)
        #expect(a.range(of: "\"caches\"")!.lowerBound < a.range(of: "\"mode\"")!.lowerBound)
    }

    /// Every key the schema names is explained in docs/status.md.
    @Test func everySchemaKeyIsDocumented() throws {
        let doc = try String(contentsOfFile: JSONSchemaSubset.statusSchemaPath.replacingOccurrences(of: "status.schema.json", with: "status.md"),
                             encoding: .utf8)
        let schema = try JSONValue.parse(String(contentsOfFile: JSONSchemaSubset.statusSchemaPath, encoding: .utf8))
        var keys = Set<String>()
        func collect(_ s: JSONValue) {
            for (k, v) in s["properties"]?.object ?? [:] { keys.insert(k); collect(v) }
            if let items = s["items"] { collect(items) }
            for (_, v) in s["$defs"]?.object ?? [:] { collect(v) }
        }
        collect(schema)
        #expect(keys.count > 50)
        let undocumented = keys.filter { !doc.contains("`\($0)`") }.sorted()
        #expect(undocumented == [])
    }

    @Test func theFootprintIsReadFromProc() {
        let f = ProcessFootprint.current(uptimeSeconds: 0)
        #expect(f.pid == Int(getpid()))
        #expect((f.rssBytes ?? 0) > 0)
        #expect((f.openFds ?? 0) >= 3)
    }
}
