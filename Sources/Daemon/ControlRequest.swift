/// The request codes of conntrackd 1.4.7's control socket (spec §6.2): the C client and
/// Tandem's send the same numbers, so either can talk to either daemon.
public enum ControlRequest: Int32, CaseIterable, Sendable {
    case flushKernel = 0
    case resyncKernel = 1
    case dumpInternal = 16
    case dumpExternal = 17
    case commit = 18
    case flushCaches = 19
    case kill = 20
    case statistics = 21
    case sendBulk = 22
    case requestResync = 23
    case dumpInternalXML = 24
    case dumpExternalXML = 25
    case resetTimers = 26
    case debugInfo = 27
    case networkStatistics = 28
    case cacheStatistics = 29
    case runtimeStatistics = 30
    case linkStatistics = 31
    case resendQueueStatistics = 32
    case flushInternalCache = 33
    case flushExternalCache = 34
    case processStatistics = 35
    case queueStatistics = 36
    case expectationStatistics = 37
    case flushKernelExpectations = 38
    case resyncKernelExpectations = 39
    case dumpInternalExpectations = 40
    case dumpExternalExpectations = 41
    case commitExpectations = 42
    case flushAllKernel = 43
    case resyncAllKernel = 44
    case flushAllCaches = 45
    case commitAll = 46
    case dumpInternalExpectationsXML = 47
    case dumpExternalExpectationsXML = 48
    /// Tandem's own: the node's state in one report (`tandem status`). conntrackd does
    /// not know the code and answers with nothing, which the client reports as such.
    case nodeStatus = 200
    /// Tandem's own: the same state as one JSON document (`tandem status --json`,
    /// docs/status.md). A code of its own rather than a flag on 200, so a Tandem that
    /// predates it, like conntrackd, answers nothing instead of text a parser chokes on.
    case nodeStatusJSON = 201
}
