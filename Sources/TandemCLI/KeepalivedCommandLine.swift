#if canImport(Glibc)
import Glibc
#endif
import ConfigParsing

/// `tandem keepalived`'s arguments read as keepalived 2.2.7 reads them (getopt_long:
/// clustered short flags, `-fFILE` / `-f FILE`, `--long=value` / `--long value`, unique
/// prefixes of long names, optional values only attached). `-v`, `-h` and `--signum`
/// answer where they stand; a flag keepalived does not know, a missing value or a flag
/// Tandem refuses ends the command with 1 once every argument was read.
struct KeepalivedCommandLine {
    var file = "/etc/keepalived/keepalived.conf"
    var test = false
    /// `-t LOG_FILE`: the check's report goes there instead of stderr.
    var testLog: String?
    /// -s/--namespace: the network namespace to run in, over the file's net_namespace.
    var namespace: String?
    /// `-p`: the main pid file, which the control socket's default path follows.
    var mainPidFile: String?
    /// `-r`: the VRRP process's pid file.
    var vrrpPidFile: String?
    var fileMask: mode_t?
    /// `-i`; nil: the node name.
    var configID: String?
    /// Accepted flags that change nothing, each with its reason (logged at start).
    var inert: [KeepalivedFlag] = []
    /// `-l`: the log also goes to stderr (keepalived writes there only with --dont-fork,
    /// and Tandem never forks).
    var logConsole = false
    /// Without -V a stopping master resigns (priority 0) and takes its addresses, routes,
    /// rules and VMACs away; with it they all stay, as keepalived's DONT_RELEASE_VRRP.
    var releaseOnStop = true
    /// `-G` turns syslog off; `-S` picks its facility.
    var syslog = true
    var syslogFacility: Int32 = LOG_DAEMON

    enum Outcome {
        case proceed(KeepalivedCommandLine)
        case exit(Int32)
    }

    static func parse(_ argv: [String], programName: String, output: OutputSink) -> Outcome {
        var line = KeepalivedCommandLine()
        var bad = false
        var refused: [KeepalivedFlag] = []
        var extra: [String] = []
        var i = 0
        /// One flag with its value; nil ends the command with that code.
        func apply(_ f: KeepalivedFlag, _ value: String?) -> Int32? {
            switch f.status {
            case .answers: return answer(f, value, programName: programName, output: output)
            case .refused:
                refused.append(f)
                return nil
            case .accepted:
                if !line.inert.contains(f) { line.inert.append(f) }
                return nil
            case .actedOn: break
            }
            switch f.short ?? " " {
            case "f": line.file = value ?? line.file
            case "p", "r":
                if f.short == "p" { line.mainPidFile = value } else { line.vrrpPidFile = value }
            case "i": line.configID = value
            case "s": line.namespace = value
            case "l": line.logConsole = true
            case "V": line.releaseOnStop = false
            case "G": line.syslog = false
            case "S":
                // keepalived names what it cannot read and keeps its default facility.
                if let value, let facility = Self.syslogFacility(value) { line.syslogFacility = facility } else {
                    output.err("Invalid log facility '\(value ?? "")'")
                }
            case "t":
                line.test = true
                if let value, !value.isEmpty { line.testLog = value }
            case "u":
                guard let value, let mask = Self.fileMask(value) else {
                    output.err("Invalid --umask option \(value ?? "")")
                    bad = true
                    return nil
                }
                line.fileMask = mask
            default: break
            }
            return nil
        }
        while i < argv.count {
            let a = argv[i]
            i += 1
            if a == "--" { extra += argv[i...]; break }
            if a.hasPrefix("--") {
                let body = a.dropFirst(2)
                let name = String(body.prefix { $0 != "=" })
                let attached: String? = body.contains("=") ? String(body.drop { $0 != "=" }.dropFirst()) : nil
                let exact = KeepalivedFlags.all.first { $0.long == name }
                let prefixed = KeepalivedFlags.all.filter { $0.long?.hasPrefix(name) == true }
                guard !name.isEmpty, let f = exact ?? (prefixed.count == 1 ? prefixed[0] : nil) else {
                    output.err("Unknown option \(a)")
                    bad = true
                    continue
                }
                var value = attached
                switch f.argument {
                case .none:
                    if attached != nil { output.err("Unknown option \(a)"); bad = true; continue }
                case .required:
                    if value == nil, i < argv.count { value = argv[i]; i += 1 }
                    guard let v = value, !v.isEmpty else { output.err("Missing parameter for option --\(f.long!)"); bad = true; continue }
                case .optional: break
                }
                if let code = apply(f, value) { return .exit(code) }
                continue
            }
            guard a.hasPrefix("-"), a.count > 1 else { extra.append(a); continue }
            var rest = Substring(a.dropFirst())
            while let c = rest.first {
                rest = rest.dropFirst()
                guard let f = KeepalivedFlags.all.first(where: { $0.short == c }) else {
                    output.err("Unknown option -\(c)")
                    bad = true
                    continue
                }
                var value: String?
                switch f.argument {
                case .none: break
                case .required:
                    if !rest.isEmpty { value = String(rest); rest = "" } else if i < argv.count { value = argv[i]; i += 1 }
                    guard value != nil else { output.err("Missing parameter for option -\(c)"); bad = true; continue }
                case .optional:
                    if !rest.isEmpty { value = String(rest); rest = "" }
                }
                if let code = apply(f, value) { return .exit(code) }
            }
        }
        // keepalived reports stray words on stdout and carries on.
        if !extra.isEmpty { output.out("Unexpected argument(s): " + extra.map { $0 + " " }.joined()) }
        for f in refused {
            output.err("keepalived: \(f.names) is not supported by tandem" + (f.note.isEmpty ? "" : " (\(f.note))"))
        }
        if bad || !refused.isEmpty { return .exit(1) }
        return .proceed(line)
    }

    /// `-S`: 0 to 7 or local0 to local7 (LOG_LOCALn), or daemon or user, as keepalived reads it.
    static func syslogFacility(_ value: String) -> Int32? {
        let locals = [LOG_LOCAL0, LOG_LOCAL1, LOG_LOCAL2, LOG_LOCAL3, LOG_LOCAL4, LOG_LOCAL5, LOG_LOCAL6, LOG_LOCAL7]
        let digits = value.hasPrefix("local") ? String(value.dropFirst(5)) : value
        if !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber), let n = Int(digits), n < locals.count {
            return locals[n]
        }
        return ["daemon": LOG_DAEMON, "user": LOG_USER][value]
    }

    static func answer(_ f: KeepalivedFlag, _ value: String?, programName: String, output: OutputSink) -> Int32 {
        switch f.long {
        case "version":
            for l in KeepalivedHelp.version() { output.err(l) }
            return 0
        case "help":
            for l in KeepalivedHelp.usage(programName: programName) { output.err(l) }
            return 0
        default:
            guard let number = KeepalivedFlags.signalNumbers.first(where: { $0.0 == value })?.1 else {
                output.err("Unknown sigfunc \(value ?? "")")
                return 1
            }
            output.out("\(number)")
            return 0
        }
    }

    /// strtol with base 0 (0x…, 0…, decimal), the whole word, within 0777.
    static func fileMask(_ s: String) -> mode_t? {
        guard let m = KeepalivedConfigParser.octalOrHex(s), (0...0o777).contains(m) else { return nil }
        return mode_t(m)
    }
}
