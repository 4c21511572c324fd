import ConfigParsing
@testable import Daemon
import Testing

/// What `tandem conntrackd` does for the requests conntrackd's own client sends, decided
/// without a daemon. The codes are the ones `ConntrackdTool` sends for each flag. Every
/// test also plans a neighbouring request or setting that must come out differently, so
/// an assertion that cannot fail would show.
@Suite struct ControlPlanTests {
    static let ftfw = ControlPlan.Settings(mode: .ftfw)
    static let withExpectations = ControlPlan.Settings(mode: .ftfw, expectations: true)
    static let bypass = ControlPlan.Settings(mode: .ftfw, bypassesInternalCache: true)
    static let alarm = ControlPlan.Settings(mode: .alarm)

    static func plan(_ code: Int32, _ settings: ControlPlan.Settings = ftfw) throws -> ControlPlan {
        try ControlPlan.planned(code: code, settings: settings)
    }

    /// `-s`, `-s network`, `-s cache`, … read and change nothing.
    @Test func statisticsAnswerWithTheirSectionAndDoNothing() throws {
        let sections: [Int32: ControlReply.StatisticsSection] = [
            21: .general, 28: .network, 29: .cache, 30: .runtime, 31: .link, 32: .resendQueue, 36: .queues,
        ]
        for (code, section) in sections {
            #expect(try Self.plan(code) == ControlPlan(reply: .statistics(section)), "code \(code)")
        }
        // Control: a request that acts has effects, so "no effects" above is not vacuous.
        #expect(try !Self.plan(45).effects.isEmpty)
    }

    /// `-i` and `-e` list the caches; `-x` asks for XML. With DisableInternalCache `-i`
    /// lists the kernel instead, and `-e` is unchanged.
    @Test func listingsNameTheirCache() throws {
        #expect(try Self.plan(16) == ControlPlan(reply: .flows(.internal, xml: false)))
        #expect(try Self.plan(17) == ControlPlan(reply: .flows(.external, xml: false)))
        #expect(try Self.plan(24) == ControlPlan(reply: .flows(.internal, xml: true)))
        #expect(try Self.plan(25) == ControlPlan(reply: .flows(.external, xml: true)))
        #expect(try Self.plan(16, Self.bypass) == ControlPlan(reply: .kernelFlows(xml: false)))
        #expect(try Self.plan(24, Self.bypass) == ControlPlan(reply: .kernelFlows(xml: true)))
        #expect(try Self.plan(17, Self.bypass) == Self.plan(17))
    }

    /// `-c` commits flows and expectations, `-c ct` flows only, `-c expect` expectations
    /// only, and only with ExpectationSync.
    @Test func commits() throws {
        #expect(try Self.plan(46) == ControlPlan([.commit(expectations: true)]))
        #expect(try Self.plan(18) == ControlPlan([.commit(expectations: false)]))
        #expect(try Self.plan(42, Self.withExpectations) == ControlPlan([.commitExpectations]))
        // Control: without ExpectationSync `-c expect` does nothing.
        #expect(try Self.plan(42) == ControlPlan())
    }

    /// `-f` empties both caches and the expectation caches, forgetting a pending purge
    /// and the flows waiting for room; `-f internal` and `-f external` one cache each.
    @Test func flushesEmptyWhatTheyName() throws {
        #expect(try Self.plan(45) == ControlPlan([.cancelPurge, .cancelPendingCommit, .emptyInternalCache, .emptyExternalCache,
                                                  .emptyExpectationCaches]))
        #expect(try Self.plan(33) == ControlPlan([.cancelPurge, .emptyInternalCache]))
        #expect(try Self.plan(34) == ControlPlan([.emptyExternalCache]))
        // Control: the old code 19 (conntrackd before `-f all`) leaves the expectation caches.
        #expect(try !Self.plan(19).effects.contains(.emptyExpectationCaches))
    }

    /// `-n` asks the peer for its table, `-B` sends ours; ALARM has neither and says so.
    @Test func resyncRequestAndBulkSend() throws {
        #expect(try Self.plan(23) == ControlPlan([.requestResync]))
        #expect(try Self.plan(22) == ControlPlan([.sendBulk]))
        #expect(try Self.plan(22, .init(mode: .notrack)) == ControlPlan([.sendBulk]))
        let alarmResync = try Self.plan(23, Self.alarm)
        let alarmBulk = try Self.plan(22, Self.alarm)
        #expect(!alarmResync.acts && !alarmBulk.acts)
        // Not a silent drop: the log says why.
        #expect(alarmResync.effects.count == 1 && alarmBulk.effects.count == 1)
    }

    /// `-k` stops the daemon; no other request does.
    @Test func onlyKillStops() throws {
        #expect(try Self.plan(20) == ControlPlan([.stop]))
        for request in ControlRequest.allCases where request != .kill {
            for settings in [Self.ftfw, Self.withExpectations, Self.bypass, Self.alarm] {
                #expect(!ControlPlan.planned(request, settings: settings).effects.contains(.stop), "\(request)")
            }
        }
    }

    /// `-R` reloads the internal cache from the kernel (`-R` alone the expectations too,
    /// with ExpectationSync), counted and logged; with DisableInternalCache there is
    /// nothing to reload.
    @Test func resyncWithTheKernel() throws {
        let reload: [ControlEffect] = [.countKernelResync, .log("resync with master conntrack table"), .reloadFromKernel]
        #expect(try Self.plan(44, Self.withExpectations) == ControlPlan(reload + [.reloadExpectationsFromKernel]))
        #expect(try Self.plan(1, Self.withExpectations) == ControlPlan(reload))
        #expect(try Self.plan(44) == ControlPlan(reload))
        #expect(try Self.plan(39, Self.withExpectations) == ControlPlan([.log("resync with master expectation table"), .reloadExpectationsFromKernel]))
        // Control: the same requests without an internal cache only log.
        #expect(try Self.plan(44, Self.bypass) == ControlPlan([.log("resync is unsupported in this mode")]))
        #expect(try Self.plan(1, Self.bypass) == ControlPlan([.log("resync is unsupported in this mode")]))
    }

    /// `-F` flushes the kernel table, and its expectations only with ExpectationSync.
    @Test func kernelFlush() throws {
        let flush: [ControlEffect] = [.countKernelFlush, .log("flushing kernel conntrack table"), .flushKernel]
        #expect(try Self.plan(43, Self.withExpectations) == ControlPlan(flush + [.flushKernelExpectations]))
        #expect(try Self.plan(0, Self.withExpectations) == ControlPlan(flush))
        // Control: without ExpectationSync `-F` leaves the expectation table alone.
        #expect(try Self.plan(43) == ControlPlan(flush))
    }

    /// `-t` schedules the purge after PurgeTimeout.
    @Test func resetTimersSchedulesThePurge() throws {
        #expect(try Self.plan(26) == ControlPlan([.schedulePurge]))
        #expect(try Self.plan(35) == ControlPlan())
    }

    /// `tandem status` and `tandem status --json`.
    @Test func status() throws {
        #expect(try Self.plan(200) == ControlPlan(reply: .nodeStatus))
        #expect(try Self.plan(201) == ControlPlan(reply: .nodeStatusJSON))
    }

    /// The expectation requests answer only with ExpectationSync.
    @Test func expectationRequestsNeedExpectationSync() throws {
        #expect(try Self.plan(37, Self.withExpectations) == ControlPlan(reply: .expectationStatistics))
        #expect(try Self.plan(40, Self.withExpectations) == ControlPlan(reply: .expectations(.internal, xml: false)))
        #expect(try Self.plan(48, Self.withExpectations) == ControlPlan(reply: .expectations(.external, xml: true)))
        #expect(try Self.plan(38, Self.withExpectations) == ControlPlan([.log("flushing kernel expectation table"), .flushKernelExpectations]))
        for code: Int32 in [37, 38, 39, 40, 41, 42, 47, 48] {
            #expect(try Self.plan(code) == ControlPlan(), "code \(code)")
        }
    }

    /// A code that is no request is a typed error naming it; every known one plans.
    @Test func unknownCodesAreTypedErrors() throws {
        for code: Int32 in [2, 15, 49, 99, 199, 202, -1, .max, .min] {
            #expect(throws: ControlPlanError.unknownRequest(code)) { try Self.plan(code) }
        }
        // Control: every request conntrackd's client can send plans.
        for request in ControlRequest.allCases {
            #expect(throws: Never.self) { try Self.plan(request.rawValue) }
        }
        #expect(ControlPlanError.unknownRequest(99).description == "unknown local request 99")
    }

    /// A request that answers with text changes nothing: queries and actions stay apart.
    @Test func queriesDoNotAct() {
        var acting = 0
        for request in ControlRequest.allCases {
            for settings in [Self.ftfw, Self.withExpectations, Self.bypass, Self.alarm] {
                let plan = ControlPlan.planned(request, settings: settings)
                if plan.reply != .nothing { #expect(!plan.acts, "\(request)") }
                if plan.acts { acting += 1 }
            }
        }
        // Control: some requests act.
        #expect(acting > 0)
    }
}
