#if canImport(Glibc)
import Glibc
#endif
import Conntrack

/// `conntrack-bench listen-destroy [--seconds S]`
///
/// A conntrack event socket in the DESTROY group only, read until S seconds (default 600)
/// have passed or SIGTERM/SIGINT arrives: the listener a correct commit keeps while it
/// writes (a quiet commit leaves NEW and UPDATE but must keep destroys reported, see
/// `ConntrackEventListener.withoutEvents`). With one running beside ctbulk in the same
/// namespace, ctbulk's rate is the ceiling such a commit can reach; without it, ctbulk
/// inserts entries the kernel gives no event extension at all. Prints "ready" once
/// subscribed, and a key=value line at the end.
func listenDestroy(_ args: [String]) -> Int32 {
    let seconds = args.firstIndex(of: "--seconds").flatMap { $0 + 1 < args.count ? Double(args[$0 + 1]) : nil } ?? 600
    signal(SIGTERM, stopListening)
    signal(SIGINT, stopListening)
    let listener: ConntrackEventListener
    do {
        listener = try ConntrackEventListener(events: .destroy)
    } catch {
        print("error: \(error)")
        return 1
    }
    print("ready")
    fflush(nil)
    let deadline = now() + seconds
    var events = 0, overruns = 0
    while listeningGoesOn != 0 && now() < deadline {
        do {
            try listener.poll(timeoutMilliseconds: 100) { e in
                if case .overrun = e { overruns += 1 } else { events += 1 }
            }
        } catch {
            print("error: \(error)")
            return 1
        }
    }
    print("op=listen-destroy events=\(events) overruns=\(overruns)")
    return 0
}

nonisolated(unsafe) var listeningGoesOn: sig_atomic_t = 1

func stopListening(_: Int32) { listeningGoesOn = 0 }
