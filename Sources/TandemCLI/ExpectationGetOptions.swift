import IPAddressing

/// Which options conntrack 1.4.7 takes with `-G expect`, checked in its order so the same
/// command line fails with the same message: its option table row for the command (-s, -d
/// and -p required, -r and -q allowed, nothing else), then the protocol's row (all four
/// ports required for the port protocols, nothing else allowed).
enum ExpectationGetOptions {
    /// conntrack's options in bit order: the name its messages use, every spelling, and
    /// whether `-G expect` requires (true), allows (nil) or forbids (false) it.
    static let general: [(name: String, spellings: Set<String>, rule: Bool?)] = [
        ("src", ["-s", "--src", "--orig-src"], true), ("dst", ["-d", "--dst", "--orig-dst"], true),
        ("reply-src", ["-r", "--reply-src"], nil), ("reply-dst", ["-q", "--reply-dst"], nil),
        ("protonum", ["-p", "--protonum"], true), ("timeout", ["-t", "--timeout"], false), ("status", ["-u", "--status"], false),
        ("zero", ["-z", "--zero"], false), ("event-mask", ["-e", "--event-mask"], false),
        ("tuple-src", ["--tuple-src"], false), ("tuple-dst", ["--tuple-dst"], false),
        ("mask-src", ["--mask-src"], false), ("mask-dst", ["--mask-dst"], false), ("mark", ["-m", "--mark"], false),
        ("family", ["-f", "--family"], false), ("src-nat", ["-n", "--src-nat"], false), ("dst-nat", ["-g", "--dst-nat"], false),
        ("output", ["-o", "--output"], false), ("secmark", ["-c", "--secmark"], false), ("buffer-size", ["-b", "--buffer-size"], false),
        ("any-nat", ["-j", "--any-nat"], false), ("zone", ["-w", "--zone"], false), ("label", ["-l", "--label"], false),
        ("orig-zone", ["--orig-zone"], false), ("reply-zone", ["--reply-zone"], false),
    ]

    /// The protocols whose extension requires the four ports (tcp, udp, udplite, sctp, dccp).
    static let portProtocols: Set<UInt8> = [IPProtocolNumber.tcp, IPProtocolNumber.udp, 136, 132, 33]
    static let ports: [(name: String, spellings: Set<String>)] = [
        ("sport", ["--sport", "--orig-port-src"]), ("dport", ["--dport", "--orig-port-dst"]),
        ("reply-port-src", ["--reply-port-src"]), ("reply-port-dst", ["--reply-port-dst"]),
    ]

    static func check(given: [String], protocolNumber: UInt8?) throws(ConntrackUsageError) {
        let present = Set(given)
        for option in general {
            let isGiven = !option.spellings.isDisjoint(with: present)
            if option.rule == true && !isGiven {
                throw ConntrackUsageError("You need to supply the `--\(option.name)' option for this command")
            }
            if option.rule == false && isGiven {
                throw ConntrackUsageError("Illegal option `--\(option.name)' with this command")
            }
        }
        let known = general.reduce(into: Set<String>()) { $0.formUnion($1.spellings) }
        let takesPorts = protocolNumber.map { portProtocols.contains($0) } ?? false
        if takesPorts {
            for port in ports where port.spellings.isDisjoint(with: present) {
                throw ConntrackUsageError("You need to supply the `--\(port.name)' option for this command")
            }
        }
        let portSpellings = ports.reduce(into: Set<String>()) { $0.formUnion($1.spellings) }
        // Every other protocol option is forbidden with -G expect.
        for spelling in given where !known.contains(spelling) && !(takesPorts && portSpellings.contains(spelling)) {
            throw ConntrackUsageError("Illegal option `\(spelling)' with this command")
        }
    }
}
