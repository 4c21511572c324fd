import MetricsEndpoint

/// `--metrics-listen` as the daemons whose own parsers predate it read it: Tandem's flag,
/// which neither keepalived nor conntrackd has, taken out where it stands.
extension ListenAddress {
    enum FlagReading: Equatable {
        /// `argv[i]` is some other argument.
        case otherArgument
        /// The address, and how many arguments the flag took (2 for `--metrics-listen A:P`).
        case read(ListenAddress, taking: Int)
        /// What is wrong, to follow the tool's name.
        case refused(String)
    }

    static let flag = "--metrics-listen"

    static func readFlag(_ argv: [String], at i: Int) -> FlagReading {
        switch OwnLongOption.read(argv, at: i, flag: flag) {
        case .otherArgument: return .otherArgument
        case .missingValue: return .refused("option \(flag) needs ADDR:PORT")
        case .value(let value, let taking):
            do {
                return .read(try ListenAddress(value), taking: taking)
            } catch {
                return .refused("\(flag): \(error)")
            }
        }
    }
}
