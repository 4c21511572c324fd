#if canImport(Glibc)
import Glibc
#endif
import Logging

/// conntrackd's `Syslog on|FACILITY`: every log line also goes to syslog(3) under the
/// daemon's name and pid, at the priority of its level.
public struct SyslogLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let connection: Connection

    static let facilities: [String: Int32] = [
        "daemon": LOG_DAEMON, "user": LOG_USER, "local0": LOG_LOCAL0, "local1": LOG_LOCAL1, "local2": LOG_LOCAL2,
        "local3": LOG_LOCAL3, "local4": LOG_LOCAL4, "local5": LOG_LOCAL5, "local6": LOG_LOCAL6, "local7": LOG_LOCAL7,
    ]

    /// openlog keeps the identity's pointer: it must outlive every call, so one connection
    /// (the process has one syslog connection) owns it.
    final class Connection: @unchecked Sendable {
        private let ident: UnsafeMutablePointer<CChar>
        init(ident name: String, facility: Int32) {
            ident = strdup(name)
            openlog(ident, LOG_PID, facility)
        }
        deinit {
            closelog()
            free(ident)
        }
    }

    /// nil facility = no syslog; an unknown name falls back to daemon (the parser warned).
    public init?(facility: String?, ident: String) {
        guard let facility else { return nil }
        connection = Connection(ident: ident, facility: Self.facilities[facility.lowercased()] ?? LOG_DAEMON)
    }

    /// keepalived's `-S`: the facility as syslog(3)'s code.
    public init(facilityCode: Int32, ident: String) {
        connection = Connection(ident: ident, facility: facilityCode)
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let priority: Int32 = switch event.level {
        case .trace, .debug: LOG_DEBUG
        case .info: LOG_INFO
        case .notice: LOG_NOTICE
        case .warning: LOG_WARNING
        case .error: LOG_ERR
        case .critical: LOG_CRIT
        }
        let part = event.metadata?["part"] ?? metadata["part"]
        let text = (part.map { "\($0): " } ?? "") + event.message.description
        text.withCString { c in withVaList([c]) { vsyslog(priority, "%s", $0) } }
    }
}
