/// One of Tandem's own long options on a command line that keepalived's or conntrackd's
/// parser reads afterwards: `--NAME VALUE` or `--NAME=VALUE`, taken out where it stands.
enum OwnLongOption: Equatable {
    /// `argv[i]` is some other argument.
    case otherArgument
    /// The value, and how many arguments the option took (2 for `--NAME VALUE`).
    case value(String, taking: Int)
    /// `--NAME` was the last argument.
    case missingValue

    static func read(_ argv: [String], at i: Int, flag: String) -> OwnLongOption {
        let a = argv[i]
        if a == flag { return i + 1 < argv.count ? .value(argv[i + 1], taking: 2) : .missingValue }
        if a.hasPrefix(flag + "=") { return .value(String(a.dropFirst(flag.count + 1)), taking: 1) }
        return .otherArgument
    }
}
