#if canImport(Glibc)
import Glibc
#endif
import Timekeeping

/// `tandem keepalived`'s control socket: the same protocol as conntrackd's (one native
/// int in, text out), answering `tandem status` and `tandem status --json`. The requests of
/// conntrackd's own CLI name caches this process does not have: each is refused with a log
/// line and counted, and the client gets nothing, which it reports.
extension KeepalivedDaemon {
    func handleControl(now: Instant) {
        guard let control else { return }
        for result in control.poll(now: now) {
            switch result {
            case .failure(let e):
                controlCounters.localReadFailed += 1
                log("local request failed: \(e)")
            case .success(let (client, code)):
                defer { close(client) }
                ControlServer.reply(client, answer(code, now: now))
            }
        }
    }

    func answer(_ code: Int32, now: Instant) -> String {
        switch ControlRequest(rawValue: code) {
        case .nodeStatus:
            return "keepalived: VRRP only (no replication), up \((now - startedAt).wholeSeconds)s\n" + statusReport()
        case .nodeStatusJSON:
            do { return try keepalivedStatusDocument(now: now).json() } catch {
                // Encoding fixed-shape figures cannot fail in practice; if it ever does,
                // the client is told nothing and the loop goes on.
                log("local request \(code) failed: \(error)")
                return ""
            }
        case .some(let request):
            controlCounters.localUnknownRequest += 1
            log("local request \(request) not supported by tandem keepalived: it keeps no conntrack caches")
            return ""
        case nil:
            controlCounters.localUnknownRequest += 1
            log("unknown local request \(code)")
            return ""
        }
    }

    func keepalivedStatusDocument(now: Instant) -> KeepalivedStatusDocument {
        KeepalivedStatusDocument(process: .current(uptimeSeconds: Int((now - startedAt).wholeSeconds)),
                                 control: controlCounters, vrrp: statusDocument())
    }
}
