/// Everything `tandem lab` can refuse or fail at, each with the sentence the user reads.
public enum LabError: Error, Equatable, CustomStringConvertible {
    case notRoot
    case invalidPrefix(String)
    case usage(String)
    case notUp(prefix: String)
    case missingProgram(String, neededFor: String)
    case commandFailed(command: String, status: Int32, output: String)
    case timedOut(waitingFor: String, seconds: Double, log: String?)
    case file(String, path: String, errno: Int32)
    case badState(path: String, reason: String)
    case socket(String, errno: Int32)
    case interrupted

    public var description: String {
        switch self {
        case .notRoot:
            return "tandem lab needs root: it creates network namespaces"
        case .invalidPrefix(let p):
            return "invalid lab prefix '\(p)': use 1 to 24 characters from a-z, A-Z, 0-9, '-', '_' and '.', starting with a letter or digit"
        case .usage(let text):
            return text
        case .notUp(let prefix):
            return "no lab is up for prefix '\(prefix)': run `tandem lab up` first"
        case .missingProgram(let name, let why):
            return "\(name) not found; it is needed for \(why) (Debian: scripts/install-deps.sh)"
        case .commandFailed(let command, let status, let output):
            let tail = output.split(separator: "\n").suffix(6).joined(separator: "\n  ")
            return "`\(command)` failed (exit \(status))" + (tail.isEmpty ? "" : ":\n  \(tail)")
        case .timedOut(let what, let seconds, let log):
            let s = "timed out after \(formatSeconds(seconds)) s waiting for \(what)"
            return log.map { s + " (see \($0))" } ?? s
        case .file(let what, let path, let e):
            return "cannot \(what) \(path): \(errnoText(e))"
        case .badState(let path, let reason):
            return "lab state file \(path) is unusable (\(reason)); run `tandem lab down` and `tandem lab up` again"
        case .socket(let what, let e):
            return e == 0 ? what : "\(what): \(errnoText(e))"
        case .interrupted:
            return "interrupted"
        }
    }
}
