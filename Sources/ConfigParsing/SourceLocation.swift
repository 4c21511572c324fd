/// Where a token stands in a configuration file, for errors an operator can act on.
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// A configuration error: where, which token, and what is wrong.
public struct ConfigError: Error, Hashable, Sendable, CustomStringConvertible {
    public var location: SourceLocation
    public var token: String
    public var message: String

    public init(_ message: String, at location: SourceLocation, token: String) {
        self.location = location
        self.token = token
        self.message = message
    }

    public var description: String {
        token.isEmpty ? "\(location): error: \(message)" : "\(location): error: \(message) (at `\(token)')"
    }
}

/// Something the original daemon accepts with a warning (deprecated or ignored items).
public struct ConfigWarning: Hashable, Sendable, CustomStringConvertible {
    public var location: SourceLocation
    public var message: String
    public init(_ message: String, at location: SourceLocation) {
        self.location = location
        self.message = message
    }
    public var description: String { "\(location): warning: \(message)" }
}
