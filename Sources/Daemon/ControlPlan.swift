import ConfigParsing

/// What `tandem conntrackd` does for one control request (spec §6), decided from the
/// request code and the few settings that change the answer, and nothing else: no cache,
/// no kernel, no socket. `ConntrackdDaemon.perform` carries a plan out. Apart from the
/// daemon so that every code a client can send, known or not, can be put to it without a
/// kernel (the unit tests and the `control-answer` fuzz target).
public struct ControlPlan: Hashable, Sendable {
    /// Carried out in this order, before the reply is rendered: conntrackd answers a
    /// request after it has acted on it (`-c` replies once the commit is done).
    public var effects: [ControlEffect]
    public var reply: ControlReply

    public init(_ effects: [ControlEffect] = [], reply: ControlReply = .nothing) {
        self.effects = effects
        self.reply = reply
    }

    /// Whether carrying the plan out changes anything (a log line alone does not).
    public var acts: Bool { effects.contains { $0.acts } }

    /// The settings a plan depends on; everything else about the daemon is the
    /// executor's business.
    public struct Settings: Hashable, Sendable {
        public var mode: ConntrackdConfiguration.Mode
        /// ExpectationSync: without it the expectation requests print and do nothing.
        public var expectations: Bool
        /// DisableInternalCache: `-i` lists the kernel and resyncs with it do not exist.
        public var bypassesInternalCache: Bool

        public init(mode: ConntrackdConfiguration.Mode, expectations: Bool = false, bypassesInternalCache: Bool = false) {
            self.mode = mode
            self.expectations = expectations
            self.bypassesInternalCache = bypassesInternalCache
        }
    }
}

/// One thing a request makes the daemon do, in the domain's words.
public enum ControlEffect: Hashable, Sendable {
    /// A `-t` purge that has not run yet is forgotten.
    case cancelPurge
    /// Flows waiting for room in the kernel (`PendingCommit`) are given up.
    case cancelPendingCommit
    case emptyInternalCache
    case emptyExternalCache
    case emptyExpectationCaches
    /// `-c`: the external cache into the kernel, with the expectations or without.
    case commit(expectations: Bool)
    case commitExpectations
    /// `-k`: the main loop ends after this answer.
    case stop
    case sendBulk
    case requestResync
    case schedulePurge
    case countKernelFlush
    case countKernelResync
    case flushKernel
    case flushKernelExpectations
    /// `-R`: the internal cache reloaded from the kernel table, nothing sent.
    case reloadFromKernel
    case reloadExpectationsFromKernel
    case log(String)

    /// Whether the effect changes the daemon, its peer or the kernel (a log line does not).
    public var acts: Bool {
        if case .log = self { return false }
        return true
    }
}

/// What the client reads back; `nothing` is the empty answer, which is all conntrackd
/// sends for a request that acts.
public enum ControlReply: Hashable, Sendable {
    case nothing
    case flows(ControlCache, xml: Bool)
    /// `-i` with DisableInternalCache: the kernel table itself.
    case kernelFlows(xml: Bool)
    case expectations(ControlCache, xml: Bool)
    case statistics(StatisticsSection)
    case expectationStatistics
    case nodeStatus
    case nodeStatusJSON

    public enum StatisticsSection: Hashable, Sendable { case general, network, cache, runtime, link, resendQueue, queues }
}

public enum ControlCache: Hashable, Sendable { case `internal`, external }

/// A code no request has: the client hears nothing, the daemon counts and logs it.
public enum ControlPlanError: Error, Hashable, CustomStringConvertible {
    case unknownRequest(Int32)

    public var description: String {
        switch self {
        case .unknownRequest(let code): "unknown local request \(code)"
        }
    }
}

extension ControlPlan {
    /// The plan for a raw code as read from the socket.
    public static func planned(code: Int32, settings: Settings) throws(ControlPlanError) -> ControlPlan {
        guard let request = ControlRequest(rawValue: code) else { throw .unknownRequest(code) }
        return planned(request, settings: settings)
    }

    public static func planned(_ request: ControlRequest, settings s: Settings) -> ControlPlan {
        if let plan = expectationPlan(request, settings: s) { return plan }
        switch request {
        case .dumpInternal: return ControlPlan(reply: s.bypassesInternalCache ? .kernelFlows(xml: false) : .flows(.internal, xml: false))
        case .dumpInternalXML: return ControlPlan(reply: s.bypassesInternalCache ? .kernelFlows(xml: true) : .flows(.internal, xml: true))
        case .dumpExternal: return ControlPlan(reply: .flows(.external, xml: false))
        case .dumpExternalXML: return ControlPlan(reply: .flows(.external, xml: true))
        case .commit: return ControlPlan([.commit(expectations: false)])
        case .commitAll: return ControlPlan([.commit(expectations: true)])
        case .flushCaches: return ControlPlan([.cancelPurge, .cancelPendingCommit, .emptyInternalCache, .emptyExternalCache])
        case .flushAllCaches:
            return ControlPlan([.cancelPurge, .cancelPendingCommit, .emptyInternalCache, .emptyExternalCache, .emptyExpectationCaches])
        case .flushInternalCache: return ControlPlan([.cancelPurge, .emptyInternalCache])
        case .flushExternalCache: return ControlPlan([.emptyExternalCache])
        case .kill: return ControlPlan([.stop])
        case .statistics: return ControlPlan(reply: .statistics(.general))
        case .networkStatistics: return ControlPlan(reply: .statistics(.network))
        case .cacheStatistics: return ControlPlan(reply: .statistics(.cache))
        case .runtimeStatistics: return ControlPlan(reply: .statistics(.runtime))
        case .linkStatistics: return ControlPlan(reply: .statistics(.link))
        case .resendQueueStatistics: return ControlPlan(reply: .statistics(.resendQueue))
        case .queueStatistics: return ControlPlan(reply: .statistics(.queues))
        // No child processes: dumps and flushes run in the loop, so there is none to list.
        case .processStatistics, .debugInfo: return ControlPlan()
        case .sendBulk:
            guard s.mode != .alarm else { return ControlPlan([.log("ALARM has no bulk send: request ignored")]) }
            return ControlPlan([.sendBulk])
        case .requestResync:
            guard s.mode != .alarm else { return ControlPlan([.log("ALARM has no resync request: request ignored")]) }
            return ControlPlan([.requestResync])
        case .flushKernel, .flushAllKernel:
            var effects: [ControlEffect] = [.countKernelFlush, .log("flushing kernel conntrack table"), .flushKernel]
            if request == .flushAllKernel && s.expectations { effects.append(.flushKernelExpectations) }
            return ControlPlan(effects)
        case .resyncKernel, .resyncAllKernel:
            guard !s.bypassesInternalCache else { return ControlPlan([.log("resync is unsupported in this mode")]) }
            var effects: [ControlEffect] = [.countKernelResync, .log("resync with master conntrack table"), .reloadFromKernel]
            if request == .resyncAllKernel && s.expectations { effects.append(.reloadExpectationsFromKernel) }
            return ControlPlan(effects)
        case .resetTimers: return ControlPlan([.schedulePurge])
        case .nodeStatus: return ControlPlan(reply: .nodeStatus)
        case .nodeStatusJSON: return ControlPlan(reply: .nodeStatusJSON)
        case .expectationStatistics, .flushKernelExpectations, .resyncKernelExpectations, .dumpInternalExpectations,
             .dumpExternalExpectations, .commitExpectations, .dumpInternalExpectationsXML, .dumpExternalExpectationsXML:
            // Planned above; the compiler wants every case named here too.
            return ControlPlan()
        }
    }

    /// The expectation requests; nil for the others. Without ExpectationSync they print
    /// nothing and do nothing, as conntrackd's do.
    private static func expectationPlan(_ request: ControlRequest, settings s: Settings) -> ControlPlan? {
        let plan: ControlPlan
        switch request {
        case .expectationStatistics: plan = ControlPlan(reply: .expectationStatistics)
        case .flushKernelExpectations: plan = ControlPlan([.log("flushing kernel expectation table"), .flushKernelExpectations])
        case .resyncKernelExpectations: plan = ControlPlan([.log("resync with master expectation table"), .reloadExpectationsFromKernel])
        case .dumpInternalExpectations: plan = ControlPlan(reply: .expectations(.internal, xml: false))
        case .dumpExternalExpectations: plan = ControlPlan(reply: .expectations(.external, xml: false))
        case .dumpInternalExpectationsXML: plan = ControlPlan(reply: .expectations(.internal, xml: true))
        case .dumpExternalExpectationsXML: plan = ControlPlan(reply: .expectations(.external, xml: true))
        case .commitExpectations: plan = ControlPlan([.commitExpectations])
        default: return nil
        }
        return s.expectations ? plan : ControlPlan()
    }
}
