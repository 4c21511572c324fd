/// `--control-socket PATH`: where `tandem keepalived` answers `tandem status` (keepalived
/// 2.2.7 has no control socket, so the flag is Tandem's own, taken out before keepalived's
/// flags are read, as `--metrics-listen` is).
enum ControlSocketOption {
    static let flag = "--control-socket"

    enum Reading: Equatable {
        case otherArgument
        /// The path, and how many arguments the flag took.
        case read(String, taking: Int)
        case refused(String)
    }

    static func read(_ argv: [String], at i: Int) -> Reading {
        switch OwnLongOption.read(argv, at: i, flag: flag) {
        case .otherArgument: return .otherArgument
        case .missingValue: return .refused("option \(flag) needs a PATH")
        case .value(let value, let taking):
            guard !value.isEmpty, !value.hasPrefix("-") else { return .refused("option \(flag) needs a PATH, not `\(value)'") }
            return .read(value, taking: taking)
        }
    }

    /// keepalived's own default main pid file.
    static let defaultPidFile = "/run/keepalived.pid"

    /// Beside the main pid file: `-p /run/fw1/keepalived.pid` answers on
    /// `/run/fw1/keepalived.ctl`. The pid file is what already keeps two keepalived
    /// daemons on one host apart (the single-instance rule), so two nodes of a lab on one
    /// host get a socket each without a flag; with no `-p`, keepalived's default pid file
    /// gives `/run/keepalived.ctl`.
    static func defaultPath(mainPidFile: String?) -> String {
        let pid = mainPidFile ?? defaultPidFile
        return (pid.hasSuffix(".pid") ? String(pid.dropLast(4)) : pid) + ".ctl"
    }
}
