/// `--metrics-listen` as the daemons whose own parsers predate it read it: Tandem's flag,
/// which neither keepalived nor conntrackd has, taken out where it stands.
extension ListenAddress {
    public enum FlagReading: Equatable {
        /// `argv[i]` is some other argument.
        case otherArgument
        /// The address, and how many arguments the flag took (2 for `--metrics-listen A:P`).
        case read(ListenAddress, taking: Int)
        /// What is wrong, to follow the tool's name.
        case refused(String)
    }

    public static let flag = "--metrics-listen"

    public static func readFlag(_ argv: [String], at i: Int) -> FlagReading {
        let a = argv[i]
        let value: String
        let taking: Int
        if a == flag {
            guard i + 1 < argv.count else { return .refused("option \(flag) needs ADDR:PORT") }
            value = argv[i + 1]
            taking = 2
        } else if a.hasPrefix(flag + "=") {
            value = String(a.dropFirst(flag.count + 1))
            taking = 1
        } else {
            return .otherArgument
        }
        do {
            return .read(try ListenAddress(value), taking: taking)
        } catch {
            return .refused("\(flag): \(error)")
        }
    }
}
