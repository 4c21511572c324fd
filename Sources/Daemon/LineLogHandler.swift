import Logging

/// Log lines as the tool Tandem stands in for writes them: each message formatted by
/// `format` (conntrackd's `[date] (pid=N) [notice] …`, keepalived's `Keepalived_vrrp[N]: …`)
/// and handed to `write` (stderr, a LogFile). A `part` metadata value ("sync", "vrrp")
/// prefixes the message, as `tandem run` tells its two halves apart. Each daemon logs from
/// its one thread, so the sinks need not be Sendable.
public struct LineLogHandler: LogHandler, @unchecked Sendable {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let format: (Logger.Level, String) -> String
    let write: (String) -> Void

    public init(format: @escaping (Logger.Level, String) -> String, write: @escaping (String) -> Void) {
        self.format = format
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let part = event.metadata?["part"] ?? metadata["part"]
        write(format(event.level, (part.map { "\($0): " } ?? "") + event.message.description))
    }
}

extension Logger {
    /// A logger whose lines go to `handlers` (each a LogHandler), at `level` and above.
    public static func tandem(_ label: String, level: Logger.Level = .info, handlers: [any LogHandler]) -> Logger {
        // keepalived with -G and without -l logs nowhere; swift-log wants at least one handler.
        var logger = Logger(label: label) { _ in handlers.isEmpty ? SwiftLogNoOpLogHandler() as any LogHandler : MultiplexLogHandler(handlers) }
        logger.logLevel = level
        return logger
    }

    /// This logger with its lines prefixed by `part` ("sync: …").
    public func part(_ name: String) -> Logger {
        var logger = self
        logger[metadataKey: "part"] = .string(name)
        return logger
    }
}
