#if canImport(Glibc)
import Glibc
#endif
import Timekeeping

/// No error ends the daemon (DESIGN: "logged, counted and recovered from"). A failed turn
/// of the loop names its cause in the log, counts it by kind, and leaves the daemon in a
/// state the next turns repair: a failed re-read of the kernel table is retried with
/// backoff, an event-socket error is followed by a re-read, a failed control request
/// fails only that request. Only a start-up error or a signal asking it ends the loop.
extension ConntrackdDaemon {
    /// What failed, one counter each.
    enum RecoveredError: String, CaseIterable {
        case eventSocket = "event socket"
        case kernelReread = "kernel table re-read"
        case kernelFlush = "kernel table flush"
        case controlRequest = "control request"
        case kernelCommit = "kernel write of committed flows"
    }

    func recovered(_ kind: RecoveredError, _ line: String) {
        recovery.counts[kind, default: 0] += 1
        log(line)
    }

    /// A dump of the kernel table (poll, or the resync after an overrun) failed: try again
    /// in 1 s, doubling up to a minute while it keeps failing.
    func rereadFailed(_ error: Error, now: Instant) {
        let delay = schedule.rereadFailed(now: now)
        recovered(.kernelReread, "re-reading the kernel conntrack table failed: \(error); retrying in \(delay.wholeSeconds) s")
    }

    /// The event socket failed (a read, or joining its groups again after a quiet commit):
    /// a fresh socket replaces it, and what the old one missed is re-read from the kernel
    /// table in 1 s. A socket that cannot be opened now is tried again at the next failure,
    /// after a rest, so a lasting fault costs a line a second, not a busy loop.
    func eventSocketFailed(_ reader: KernelEventReader, _ what: String, now: Instant) {
        if schedule.resyncAt == nil { schedule.resyncAt = now + .seconds(1) }
        do {
            try reader.reopen()
            recovered(.eventSocket, "\(what); kernel event socket reopened, the kernel table is re-read in 1 s")
        } catch {
            reader.rest(until: now + .seconds(1))
            recovered(.eventSocket, "\(what); reopening the kernel event socket failed (\(error)): trying again in 1 s")
        }
    }

    /// After a quiet commit: the event groups it could not join again.
    func restoreEventGroups(now: Instant) {
        guard let reader, !reader.listener.missingGroups.isEmpty else { return }
        do {
            try reader.listener.rejoin()
            if schedule.resyncAt == nil { schedule.resyncAt = now + .seconds(1) }
        } catch {
            eventSocketFailed(reader, "joining the kernel's event groups again failed: \(error)", now: now)
        }
    }

    /// Test-only (`TANDEM_TEST_FAIL_KERNEL_DUMPS=N`): the first N kernel dumps after
    /// start-up fail, so the tests can show the loop surviving what a real dump error does.
    /// `TANDEM_TEST_BREAK_EVENT_SOCKET`: the event socket's descriptor is turned into
    /// /dev/null after start-up, so every read fails as on a broken socket.
    enum InjectedFault: Error, CustomStringConvertible {
        case kernelDump
        var description: String { "injected fault (TANDEM_TEST_FAIL_KERNEL_DUMPS)" }
    }

    func armInjectedFaults() {
        if getenv("TANDEM_TEST_BREAK_EVENT_SOCKET") != nil, let reader {
            let null = open("/dev/null", O_RDONLY)
            if null >= 0 {
                dup2(null, reader.descriptor)
                close(null)
                log("TANDEM_TEST_BREAK_EVENT_SOCKET is set: the kernel event socket is broken (test-only)")
            }
        }
        guard let text = getenv("TANDEM_TEST_FAIL_KERNEL_DUMPS").map({ String(cString: $0) }), let n = Int(text), n > 0 else { return }
        recovery.injectedDumpFailures = n
        log("TANDEM_TEST_FAIL_KERNEL_DUMPS is set: the next \(n) kernel dump(s) fail (test-only)")
    }

}

/// The errors the loop survived, by kind, and the test-only faults still to inject.
struct LoopRecovery {
    var counts: [ConntrackdDaemon.RecoveredError: Int] = [:]
    /// Test-only: kernel dumps still to fail (see `armInjectedFaults`).
    var injectedDumpFailures = 0

    /// "2 event socket, 1 control request", or "none".
    var text: String {
        let parts = ConntrackdDaemon.RecoveredError.allCases.compactMap { k in counts[k].map { "\($0) \(k.rawValue)" } }
        return parts.isEmpty ? "none" : parts.joined(separator: ", ")
    }

    /// Every kind by its case name, 0 when none: the JSON status keeps its keys fixed.
    var byKind: [String: Int] {
        Dictionary(uniqueKeysWithValues: ConntrackdDaemon.RecoveredError.allCases.map { ("\($0)", counts[$0] ?? 0) })
    }
}
