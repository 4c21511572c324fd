import Conntrack
import IPAddressing

/// A command line of conntrack(8), parsed into what to do. Pure: no I/O, so every usage
/// error is a unit test.
public struct ConntrackArguments: Equatable, Sendable {
    public enum Command: String, Sendable {
        case list, get, delete, create, add, update, event, flush, count, stats, help, version
    }

    public enum Table: String, Sendable {
        case conntrack, expect, dying, unconfirmed
    }

    public var command: Command
    public var table: Table = .conntrack
    public var family: UInt8?
    public var protocolNumber: UInt8?
    public var originalSource: AddressFilter?
    public var originalDestination: AddressFilter?
    public var replySource: AddressFilter?
    public var replyDestination: AddressFilter?
    public var sourcePort: UInt16?
    public var destinationPort: UInt16?
    public var replySourcePort: UInt16?
    public var replyDestinationPort: UInt16?
    public var icmpType: UInt8?
    public var icmpCode: UInt8?
    public var icmpID: UInt16?
    public var greSourceKey: UInt16?
    public var greDestinationKey: UInt16?
    public var greReplySourceKey: UInt16?
    public var greReplyDestinationKey: UInt16?
    public var tcpState: TCPState?
    public var sctpState: UInt8?
    public var sctpVtagOriginal: UInt32?
    public var sctpVtagReply: UInt32?
    public var dccpState: UInt8?
    public var dccpRole: UInt8?
    public var timeout: UInt32?
    public var status: FlowStatus?
    public var mark: UInt32?
    public var markMask: UInt32?
    public var zone: UInt16?
    public var originalZone: UInt16?
    public var replyZone: UInt16?
    /// `-n/--src-nat [ADDR]`, `-g/--dst-nat [ADDR]`, `-j/--any-nat [ADDR]`: given without
    /// an address they select every source- (destination-, either-) NATted flow.
    public var sourceNATGiven = false
    public var destinationNATGiven = false
    public var anyNATGiven = false
    public var sourceNAT: IPAddress?
    public var destinationNAT: IPAddress?
    public var anyNAT: IPAddress?
    public var extendedOutput = false
    public var showID = false
    /// `-o ktimestamp`: the kernel's start/stop times in each line.
    public var showTimestamp = false
    /// `-o timestamp`: each event line starts with the time it was read, `[sec.usec]<TAB>`
    /// (in XML, as before, the kernel's times).
    public var eventTimestamp = false
    public var xmlOutput = false
    /// `-o save`: flows as the `-A …` lines `-R` reads back.
    public var saveOutput = false
    public var eventMask: ConntrackEventMask?
    public var zeroCounters = false
    public var bufferSize: Int?
    // Expectation parameters.
    public var tupleSource: IPAddress?
    public var tupleDestination: IPAddress?
    public var tupleSourcePort: UInt16?
    public var tupleDestinationPort: UInt16?
    public var maskSource: IPAddress?
    public var maskDestination: IPAddress?
    public var maskSourcePort: UInt16?
    public var maskDestinationPort: UInt16?
    public var helper: String?
    /// `-l`: the flow must carry every one of these label bits.
    public var labelFilter: Set<Int>?
    /// `--label-add` (-I, -A, -U) and `--label-del` (-U; empty: every label).
    public var labelsToAdd: Set<Int>?
    public var labelsToDelete: Set<Int>?
    /// Loaded as conntrack loads it, the first time a label option needs it; flows are then
    /// printed with their labels.
    public var labelMap: ConnectionLabelMap?
    /// conntrack's perror line when connlabel.conf cannot be read (it carries on).
    public var labelMapProblem: String?

    public init(command: Command) { self.command = command }
}

/// An address with an optional prefix, as `-s 10.0.0.0/8` takes in listings.
public struct AddressFilter: Equatable, Sendable {
    public var address: IPAddress
    public var prefix: Int?

    public init(address: IPAddress, prefix: Int? = nil) {
        self.address = address
        self.prefix = prefix
    }

    public func matches(_ a: IPAddress) -> Bool {
        guard a.family == address.family else { return false }
        guard let prefix else { return a == address }
        let m = IPAddress.mask(family: a.family, prefix: prefix)
        return a.masked(by: m) == address.masked(by: m)
    }
}

/// A usage error, worded as conntrack(8) words it: exit status 2 and the "Try `conntrack
/// -h'" line (PARAMETER_PROBLEM), or status 1 without it (OTHER_PROBLEM).
public struct ConntrackUsageError: Error, Equatable, CustomStringConvertible {
    public var message: String
    public var status: Int32
    /// A line conntrack printed before it failed (its perror of connlabel.conf).
    public var preamble: String?
    public init(_ message: String, status: Int32 = 2, preamble: String? = nil) {
        self.message = message
        self.status = status
        self.preamble = preamble
    }
    public var description: String { message }
}

extension ConntrackArguments {
    private static let commands: [String: Command] = [
        "-L": .list, "--dump": .list, "-G": .get, "--get": .get, "-D": .delete, "--delete": .delete,
        "-I": .create, "--create": .create, "-A": .add, "--add": .add, "-U": .update, "--update": .update, "-E": .event,
        "--event": .event, "-F": .flush, "--flush": .flush, "-C": .count, "--count": .count, "--counter": .count,
        "-S": .stats, "--stats": .stats, "-h": .help, "--help": .help, "-V": .version, "--version": .version,
    ]

    /// Options that take a value, by every spelling conntrack accepts.
    private static let valued: Set<String> = [
        "-s", "--src", "--orig-src", "-d", "--dst", "--orig-dst", "-r", "--reply-src", "-q", "--reply-dst",
        "-p", "--protonum", "-f", "--family", "-t", "--timeout", "-u", "--status", "-m", "--mark",
        "-w", "--zone", "--orig-zone", "--reply-zone", "-o", "--output", "-e", "--event-mask",
        "-b", "--buffer-size", "--sport", "--orig-port-src", "--dport", "--orig-port-dst",
        "--reply-port-src", "--reply-port-dst", "--state", "--icmp-type", "--icmp-code", "--icmp-id",
        "--icmpv6-type", "--icmpv6-code", "--icmpv6-id", "--srckey", "--dstkey", "--orig-key-src", "--orig-key-dst",
        "--reply-key-src", "--reply-key-dst", "--orig-vtag",
        "--reply-vtag", "--role",
        "--tuple-src", "--tuple-dst", "--tuple-port-src", "--tuple-port-dst", "--mask-src", "--mask-dst",
        "--mask-port-src", "--mask-port-dst", "--helper", "-c", "--secmark", "-l", "--label", "--label-add",
    ]

    /// The NAT options, whose address is optional: conntrack takes the next argument when
    /// it does not start with `-` or `!` (its get_optional_arg).
    private static let natOptions: Set<String> = ["-n", "--src-nat", "-g", "--dst-nat", "-j", "--any-nat", "--label-del"]

    /// conntrack 1.4.7 options Tandem does not take: each ends in "unknown option".
    public static let unsupportedSpellings: Set<String> = [
        "--mask-key-src", "--mask-key-dst", "--tuple-key-src", "--tuple-key-dst",
        "-i", "--id", "-a", "--nat-range",
    ]

    /// Every option spelling this parser knows (docs/compatibility.md lists each).
    public static var spellings: Set<String> {
        Set(commands.keys).union(valued).union(natOptions).union(["-z", "--zero", "-R", "--load-file"])
    }

    /// Spellings getopt_long takes for one option (the same `val` in conntrack's tables).
    private static let synonyms: [String: String] = [
        "--orig-src": "--src", "--orig-dst": "--dst", "--orig-port-src": "--sport", "--orig-port-dst": "--dport",
        "--orig-key-src": "--srckey", "--orig-key-dst": "--dstkey",
    ]

    /// getopt_long's abbreviations: an exact name, or a prefix of exactly one option
    /// (several spellings of one option count once). conntrack sets opterr = 0, so an
    /// ambiguous or unknown prefix is only its own "unknown option".
    static func expand(_ arg: String) throws(ConntrackUsageError) -> String {
        let longs = spellings.filter { $0.hasPrefix("--") && $0 != "--load-file" }
        if longs.contains(arg) { return arg }
        let candidates = longs.filter { $0.hasPrefix(arg) }
        let meanings = Set(candidates.map { synonyms[$0] ?? $0 })
        guard meanings.count == 1, let only = meanings.first else { throw ConntrackUsageError("unknown option `\(arg)'") }
        return only
    }

    public static func parse(_ argv: [String]) throws(ConntrackUsageError) -> ConntrackArguments {
        var command: Command?
        var table: Table?
        var values: [(String, String)] = []
        var flags: [String] = []
        var i = 0
        while i < argv.count {
            var arg = argv[i]
            var inline: String?
            if arg.hasPrefix("--"), let eq = arg.firstIndex(of: "=") {
                inline = String(arg[arg.index(after: eq)...])
                arg = String(arg[..<eq])
            }
            if arg.hasPrefix("--") && arg.count > 2 {
                arg = try expand(arg)
            } else if !arg.hasPrefix("--"), arg.hasPrefix("-"), arg.count > 2,
                      valued.contains(String(arg.prefix(2))) || natOptions.contains(String(arg.prefix(2))) {
                inline = String(arg.dropFirst(2))
                arg = String(arg.prefix(2))
            }
            if let c = commands[arg] {
                if command != nil { throw ConntrackUsageError("Invalid commands combination") }
                command = c
                // A table name may follow the command.
                if i + 1 < argv.count, let t = tableName(argv[i + 1]) {
                    table = t
                    i += 1
                }
            } else if natOptions.contains(arg) {
                // conntrack 1.4.7 drops an address written inside the option (its
                // get_optional_arg ignores getopt's optarg): refused rather than ignored.
                if let inline {
                    throw ConntrackUsageError("an address attached to `\(arg)' is ignored by conntrack 1.4.7 and not supported: write `\(arg) \(inline)'")
                }
                var value = ""
                if i + 1 < argv.count, !argv[i + 1].hasPrefix("-"), !argv[i + 1].hasPrefix("!") {
                    value = argv[i + 1]
                    i += 1
                }
                values.append((arg, value))
            } else if valued.contains(arg) {
                let value: String
                if let inline {
                    value = inline
                } else {
                    guard i + 1 < argv.count else { throw ConntrackUsageError("option `\(arg)' requires an argument") }
                    value = argv[i + 1]
                    i += 1
                }
                values.append((arg, value))
            } else if arg == "-z" || arg == "--zero" {
                flags.append(arg)
            } else if arg.hasPrefix("-") {
                throw ConntrackUsageError("unknown option `\(arg)'")
            } else {
                throw ConntrackUsageError("unknown argument `\(arg)'")
            }
            i += 1
        }
        guard let command else { return ConntrackArguments(command: .help) }
        var a = ConntrackArguments(command: command)
        a.table = table ?? .conntrack
        a.zeroCounters = flags.contains { $0 == "-z" || $0 == "--zero" }
        // The protocol decides how ports and states are read, so take it first.
        for (k, v) in values where k == "-p" || k == "--protonum" { a.protocolNumber = try protocolNumber(v) }
        for (k, v) in values where k == "-f" || k == "--family" { a.family = try family(v) }
        for (k, v) in values { try a.apply(k, v) }
        try a.checkLabelAndSecmarkCommands(given: values.map(\.0))
        if a.command == .get && a.table == .expect {
            try ExpectationGetOptions.check(given: values.map(\.0) + flags, protocolNumber: a.protocolNumber)
        }
        try a.validate()
        return a
    }

    static func tableName(_ s: String) -> Table? {
        switch s {
        case "conntrack": .conntrack
        case "expect", "expectation": .expect
        case "dying": .dying
        case "unconfirmed": .unconfirmed
        default: nil
        }
    }

    static func protocolNumber(_ s: String) throws(ConntrackUsageError) -> UInt8 {
        let names: [String: UInt8] = [
            "tcp": 6, "udp": 17, "udplite": 136, "icmp": 1, "icmpv6": 58, "ipv6-icmp": 58,
            "sctp": 132, "gre": 47, "dccp": 33,
        ]
        if let n = names[s.lowercased()] { return n }
        if let n = UInt8(s) { return n }
        throw ConntrackUsageError("`\(s)' unsupported protocol")
    }

    static func family(_ s: String) throws(ConntrackUsageError) -> UInt8 {
        switch s.lowercased() {
        case "ipv4", "inet": return AddressFamily.inet
        case "ipv6", "inet6": return AddressFamily.inet6
        default: throw ConntrackUsageError("`\(s)' unsupported protocol")
        }
    }

    static func integer<T: FixedWidthInteger>(_ s: String, _ name: String) throws(ConntrackUsageError) -> T {
        let parsed: T?
        if s.hasPrefix("0x") || s.hasPrefix("0X") { parsed = T(s.dropFirst(2), radix: 16) } else { parsed = T(s) }
        guard let v = parsed else { throw ConntrackUsageError("Bad parameter `\(s)' for \(name)") }
        return v
    }

    static func address(_ s: String, _ option: String) throws(ConntrackUsageError) -> AddressFilter {
        let parts = s.split(separator: "/", maxSplits: 1).map(String.init)
        guard let first = parts.first, let addr = IPAddress(first) else {
            throw ConntrackUsageError("Invalid IP address `\(s)'")
        }
        var prefix: Int?
        if parts.count == 2 {
            let limit = addr.family == AddressFamily.inet ? 32 : 128
            if let p = Int(parts[1]), p >= 0, p <= limit {
                prefix = p
            } else if let m = IPAddress(parts[1]), m.family == addr.family {
                prefix = m.bytes.reduce(0) { $0 + $1.nonzeroBitCount }
            } else {
                throw ConntrackUsageError("invalid netmask `\(parts[1])' for \(option)")
            }
        }
        return AddressFilter(address: addr, prefix: prefix)
    }

    private mutating func apply(_ key: String, _ v: String) throws(ConntrackUsageError) {
        switch key {
        case "-p", "--protonum", "-f", "--family": break
        case "-s", "--src", "--orig-src": originalSource = try Self.address(v, key)
        case "-d", "--dst", "--orig-dst": originalDestination = try Self.address(v, key)
        case "-r", "--reply-src": replySource = try Self.address(v, key)
        case "-q", "--reply-dst": replyDestination = try Self.address(v, key)
        case "-t", "--timeout": timeout = try Self.integer(v, "timeout")
        case "-u", "--status":
            var s = FlowStatus()
            for name in v.split(separator: ",") {
                guard let bit = FlowStatus.names.first(where: { $0.0 == name.uppercased() }) else {
                    throw ConntrackUsageError("Bad parameter `\(name)'")
                }
                s.formUnion(bit.1)
            }
            status = s
        case "-m", "--mark":
            let parts = v.split(separator: "/", maxSplits: 1).map(String.init)
            mark = try Self.integer(parts[0], "mark")
            if parts.count == 2 { markMask = try Self.integer(parts[1], "mark") }
        case "-w", "--zone": zone = try Self.integer(v, "zone")
        case "--orig-zone": originalZone = try Self.integer(v, "zone")
        case "--reply-zone": replyZone = try Self.integer(v, "zone")
        case "-o", "--output":
            for kind in v.split(separator: ",") {
                switch kind {
                case "extended": extendedOutput = true
                case "id": showID = true
                case "timestamp": eventTimestamp = true
                case "ktimestamp": showTimestamp = true
                // conntrack 1.4.7 maps `userspace' to no flag (the origin is always shown).
                case "userspace": break
                case "labels": loadLabelMap()
                case "xml": xmlOutput = true
                case "save": saveOutput = true
                default: throw ConntrackUsageError("Bad parameter `\(kind)'")
                }
            }
            if saveOutput && (xmlOutput || extendedOutput || showID || showTimestamp || eventTimestamp || v.split(separator: ",").contains("labels")) {
                throw ConntrackUsageError("cannot combine save output with any other output type, use -o save only", status: 1)
            }
        case "-e", "--event-mask":
            var m = ConntrackEventMask()
            for name in v.split(separator: ",") {
                switch name.uppercased() {
                case "NEW": m.formUnion([.new, .expectNew])
                case "UPDATE": m.insert(.update)
                case "DESTROY": m.formUnion([.destroy, .expectDestroy])
                case "ALL": m.formUnion([.flows, .expectations])
                default: throw ConntrackUsageError("Bad parameter `\(name)'")
                }
            }
            eventMask = m
        case "-b", "--buffer-size": bufferSize = try Self.integer(v, "buffer-size")
        case "--sport", "--orig-port-src": sourcePort = try port(v)
        case "--dport", "--orig-port-dst": destinationPort = try port(v)
        case "--reply-port-src": replySourcePort = try port(v)
        case "--reply-port-dst": replyDestinationPort = try port(v)
        case "--state":
            switch protocolNumber {
            case IPProtocolNumber.tcp?:
                guard let s = TCPState(name: v) else { throw ConntrackUsageError("unknown TCP state `\(v)'") }
                tcpState = s
            case IPProtocolNumber.sctp?:
                guard let s = SCTPInfo.state(named: v) else { throw ConntrackUsageError("unknown SCTP state `\(v)'") }
                sctpState = s
            case IPProtocolNumber.dccp?:
                guard let s = DCCPInfo.stateNames.firstIndex(of: v.uppercased()) else { throw ConntrackUsageError("unknown DCCP state `\(v)'") }
                dccpState = UInt8(s)
            default: throw ConntrackUsageError("Illegal option `--state' with this protocol")
            }
        case "--icmp-type", "--icmpv6-type": icmpType = try Self.integer(v, key)
        case "--icmp-code", "--icmpv6-code": icmpCode = try Self.integer(v, key)
        case "--icmp-id", "--icmpv6-id": icmpID = try Self.integer(v, key)
        case "--srckey", "--orig-key-src": greSourceKey = try Self.integer(v, key)
        case "--dstkey", "--orig-key-dst": greDestinationKey = try Self.integer(v, key)
        case "--reply-key-src": greReplySourceKey = try Self.integer(v, key)
        case "--reply-key-dst": greReplyDestinationKey = try Self.integer(v, key)
        case "--orig-vtag": sctpVtagOriginal = try Self.integer(v, key)
        case "--reply-vtag": sctpVtagReply = try Self.integer(v, key)
        case "--role":
            switch v.lowercased() {
            case "client": dccpRole = 0
            case "server": dccpRole = 1
            default: throw ConntrackUsageError("Bad parameter `\(v)' for --role")
            }
        case "-n", "--src-nat":
            sourceNATGiven = true
            sourceNAT = v.isEmpty ? nil : try Self.address(v, key).address
        case "-g", "--dst-nat":
            destinationNATGiven = true
            destinationNAT = v.isEmpty ? nil : try Self.address(v, key).address
        case "-j", "--any-nat":
            anyNATGiven = true
            anyNAT = v.isEmpty ? nil : try Self.address(v, key).address
        case "--tuple-src": tupleSource = try Self.address(v, key).address
        case "--tuple-dst": tupleDestination = try Self.address(v, key).address
        case "--tuple-port-src": tupleSourcePort = try port(v)
        case "--tuple-port-dst": tupleDestinationPort = try port(v)
        case "--mask-src": maskSource = try Self.address(v, key).address
        case "--mask-dst": maskDestination = try Self.address(v, key).address
        case "--mask-port-src": maskSourcePort = try port(v)
        case "--mask-port-dst": maskDestinationPort = try port(v)
        case "--helper": helper = v
        case "-l", "--label": labelFilter = try labelBits(v)
        case "--label-add": labelsToAdd = try labelBits(v)
        case "--label-del":
            loadLabelMap()
            labelsToDelete = v.isEmpty ? [] : try labelBits(v)
        // conntrack 1.4.7 reads the secmark and filters nothing with it (-L, -E): the same here.
        case "-c", "--secmark": _ = try Self.integer(v, "secmark") as UInt32
        default: throw ConntrackUsageError("option `\(key)' is not supported by tandem yet")
        }
    }

    private func port(_ v: String) throws(ConntrackUsageError) -> UInt16 {
        try Self.integer(v, "port")
    }

    private func validate() throws(ConntrackUsageError) {
        func need(_ present: Bool, _ option: String) throws(ConntrackUsageError) {
            if !present { throw ConntrackUsageError("You need to supply the `\(option)' option for this command") }
        }
        switch (command, table) {
        case (.create, .conntrack), (.add, .conntrack):
            try need(timeout != nil, "--timeout")
            try need(originalSource != nil || replySource != nil, "--src")
            try need(originalDestination != nil || replyDestination != nil, "--dst")
            try need(protocolNumber != nil, "--protonum")
            // conntrack's TCP extension insists on a state for a new flow.
            if protocolNumber == IPProtocolNumber.tcp { try need(tcpState != nil, "--state") }
        case (.get, .conntrack):
            try need(originalSource != nil || replySource != nil, "--src")
            try need(originalDestination != nil || replyDestination != nil, "--dst")
            try need(protocolNumber != nil, "--protonum")
        case (.create, .expect):
            try need(timeout != nil, "--timeout")
            try need(tupleSource != nil, "--tuple-src")
            try need(tupleDestination != nil, "--tuple-dst")
            try need(maskSource != nil, "--mask-src")
            try need(maskDestination != nil, "--mask-dst")
        default: break
        }
        if command == .create || command == .add || command == .get {
            for f in [originalSource, originalDestination, replySource, replyDestination] where f?.prefix != nil {
                throw ConntrackUsageError("a netmask is only valid for listing")
            }
        }
        if anyNATGiven && (sourceNATGiven || destinationNATGiven) {
            throw ConntrackUsageError("cannot specify `--src-nat' or `--dst-nat' with `--any-nat'")
        }
        if let s = originalSource?.address, let d = originalDestination?.address, s.family != d.family {
            throw ConntrackUsageError("mismatched address families")
        }
    }
}
