#if canImport(Glibc)
import Glibc
#endif

/// conntrackd's `Syslog on|FACILITY`: every log line also goes to syslog(3) under the
/// daemon's name and pid.
public final class SyslogSink: @unchecked Sendable {
    static let facilities: [String: Int32] = [
        "daemon": LOG_DAEMON, "user": LOG_USER, "local0": LOG_LOCAL0, "local1": LOG_LOCAL1, "local2": LOG_LOCAL2,
        "local3": LOG_LOCAL3, "local4": LOG_LOCAL4, "local5": LOG_LOCAL5, "local6": LOG_LOCAL6, "local7": LOG_LOCAL7,
    ]
    /// openlog keeps the pointer: the identity must outlive every call.
    private let ident: UnsafeMutablePointer<CChar>

    /// nil facility = no syslog; an unknown name falls back to daemon (the parser warned).
    public init?(facility: String?, ident name: String) {
        guard let facility else { return nil }
        ident = strdup(name)
        openlog(ident, LOG_PID, Self.facilities[facility.lowercased()] ?? LOG_DAEMON)
    }

    deinit {
        closelog()
        free(ident)
    }

    public func notice(_ message: String) {
        message.withCString { text in
            withVaList([text]) { vsyslog(LOG_NOTICE, "%s", $0) }
        }
    }
}
