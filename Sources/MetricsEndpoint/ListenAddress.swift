#if canImport(Glibc)
import Glibc
#endif

/// `--metrics-listen ADDR:PORT`: an IPv4 address and port, or `[IPv6]:port`. Only
/// literal addresses: a name would be resolved once at start, to whichever address the
/// resolver liked that day, and an operator could not tell from the flag where it listens.
public struct ListenAddress: Equatable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var isIPv6: Bool

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case notAddressAndPort(String)
        case badAddress(String)
        case badPort(String)

        public var description: String {
            switch self {
            case .notAddressAndPort(let s): "'\(s)' is not ADDR:PORT (an IPv4 address and port, or [IPv6]:port)"
            case .badAddress(let s): "'\(s)' is not an IP address (host names are not supported)"
            case .badPort(let s): "'\(s)' is not a port (1-65535)"
            }
        }
    }

    public init(_ text: String) throws(ParseError) {
        let hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw .notAddressAndPort(text)
            }
            hostPart = text[text.index(after: text.startIndex)..<close]
            portPart = text[text.index(close, offsetBy: 2)...]
            isIPv6 = true
        } else {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            // More than one colon without brackets: an IPv6 address whose port cannot be told apart.
            guard parts.count == 2 else { throw .notAddressAndPort(text) }
            hostPart = parts[0]
            portPart = parts[1]
            isIPv6 = false
        }
        guard Self.isLiteral(String(hostPart), ipv6: isIPv6) else { throw .badAddress(String(hostPart)) }
        guard let port = Int(portPart), (1...65535).contains(port), portPart.allSatisfy(\.isASCII) else { throw .badPort(String(portPart)) }
        host = String(hostPart)
        self.port = port
    }

    static func isLiteral(_ host: String, ipv6: Bool) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16)
        return inet_pton(ipv6 ? AF_INET6 : AF_INET, host, &buffer) == 1
    }

    public var description: String { isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
