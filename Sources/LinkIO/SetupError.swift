#if canImport(Glibc)
import Glibc
#endif

/// Why a socket, an interface or a configured resource could not be opened.
public enum SetupError: Error, CustomStringConvertible {
    case system(String, Int32)
    case configuration(String)
    /// Something the host lacks right now (an interface, an address): worth retrying.
    case unavailable(String)

    /// Whether waiting may cure it (the host changes), unlike a configuration mistake.
    public var isTransient: Bool {
        if case .configuration = self { return false }
        return true
    }

    public var description: String {
        switch self {
        case .system(let what, let e): "\(what): \(String(cString: strerror(e)))"
        case .configuration(let m), .unavailable(let m): m
        }
    }
}
