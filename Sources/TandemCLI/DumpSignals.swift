#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// keepalived's control signals (spec §3.8), recorded by the handler and acted on by the
/// daemon's loop: a handler may not allocate, write files or touch the daemon.
enum DaemonSignal: UInt32, CaseIterable {
    case reload = 1      // SIGHUP
    case data = 2        // SIGUSR1
    case stats = 4       // SIGUSR2
    case json = 8        // SIGRTMIN+2
    case statsClear = 16 // SIGRTMAX-1

    /// glibc reserves the first two real-time signals, so keepalived's SIGRTMIN+2 is 36
    /// and SIGRTMAX-1 is 63 on Linux (its --signum prints the same numbers).
    var number: Int32 {
        switch self {
        case .reload: SIGHUP
        case .data: SIGUSR1
        case .stats: SIGUSR2
        case .json: 36
        case .statsClear: 63
        }
    }
}

let pendingSignals = Atomic<UInt32>(0)

func installDaemonSignals() {
    var unblock = sigset_t()
    sigemptyset(&unblock)
    for s in DaemonSignal.allCases { sigaddset(&unblock, s.number) }
    sigprocmask(SIG_UNBLOCK, &unblock, nil)
    let handler: @convention(c) (Int32) -> Void = { n in
        guard let s = DaemonSignal.allCases.first(where: { $0.number == n }) else { return }
        pendingSignals.bitwiseOr(s.rawValue, ordering: .relaxed)
    }
    for s in DaemonSignal.allCases { signal(s.number, handler) }
}

/// The signals received since the last call.
func takeDaemonSignals() -> Set<DaemonSignal> {
    let bits = pendingSignals.exchange(0, ordering: .relaxed)
    return Set(DaemonSignal.allCases.filter { bits & $0.rawValue != 0 })
}
