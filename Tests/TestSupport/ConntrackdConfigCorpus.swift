/// Broken variants of the seed how-to's conntrackd.conf (fw-1), each with the line its
/// fault is on and what conntrackd 1.4.7 makes of the same file. The unit corpus test
/// feeds them to Tandem's parser; the integration test feeds them to the real conntrackd.
public enum ConntrackdConfigCorpus {
    /// What conntrackd 1.4.7 does with a variant.
    public enum Reference: Equatable, Sendable {
        /// Stops with "parsing config file in line (N)" naming the same line.
        case syntaxErrorSameLine
        /// Stops while reading the file, with a message but no line (or another line).
        case refuses
        /// Starts anyway (skipping, clamping or merging what is wrong): Tandem is
        /// deliberately stricter, because starting changes what is replicated.
        case starts
    }

    public struct Variant: Sendable {
        public var name: String
        public var text: String
        /// 1-based line the error must name.
        public var line: Int
        public var reference: Reference
    }

    /// The fw-1 conntrackd.conf of ../shared/reference/seed-howto.txt, unchanged.
    public static var seed: String {
        let text = Vectors.readText(SharedVectors.sharedDirectory + "/reference/seed-howto.txt")
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard let start = lines.firstIndex(where: { $0.contains("Primary fw-1 /etc/conntrackd/conntrackd.conf") }) else { return "" }
        var out: [Substring] = []
        var depth = 0
        var begun = false
        for line in lines[(start + 1)...] {
            if !begun && line.allSatisfy({ $0 == " " }) { out.append(line); continue }
            if begun && depth == 0 && !line.hasPrefix(" ") && !line.hasPrefix("}") && !line.contains("{") && !line.isEmpty { break }
            begun = true
            depth += line.filter { $0 == "{" }.count - line.filter { $0 == "}" }.count
            out.append(line)
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// An edit of the seed's lines that returns the 0-based line of the fault.
    typealias Edit = @Sendable (inout [String]) -> Int

    static func index(_ lines: [String], _ find: String, after: Int = 0) -> Int {
        if let i = lines.indices.first(where: { $0 >= after && lines[$0].trimmingSpaces == find }) { return i }
        guard let i = lines.indices.first(where: { $0 >= after && lines[$0].contains(find) }) else {
            preconditionFailure("corpus: `\(find)' is not in the seed")
        }
        return i
    }

    /// Replaces the line whose text is (or contains) `find`, keeping its indentation.
    static func replace(_ find: String, with: String, after marker: String? = nil) -> Edit {
        { lines in
            let from = marker.map { index(lines, $0) } ?? 0
            let i = index(lines, find, after: from)
            let indent = lines[i].prefix { $0 == " " }
            lines[i] = String(indent) + with
            return i
        }
    }

    /// Inserts `text` (one or more lines) after the line `find`; the fault is on the
    /// inserted line `faultOffset` (0 = the first).
    static func insert(after find: String, _ text: String, faultOffset: Int = 0) -> Edit {
        { lines in
            let i = index(lines, find)
            lines.insert(contentsOf: text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init), at: i + 1)
            return i + 1 + faultOffset
        }
    }

    /// Deletes the line `find`; the fault is named on the line `blame` (the block that now
    /// lacks something), found after the edit.
    static func delete(_ find: String, blame: String) -> Edit {
        { lines in
            lines.remove(at: index(lines, find))
            return index(lines, blame)
        }
    }

    static func append(_ text: String) -> Edit {
        { lines in
            if lines.last == "" { lines.removeLast() }
            let i = lines.count
            lines += text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            return i
        }
    }

    static let edits: [(String, Reference, Edit)] = [
        // Sync › UDP
        ("port out of range", .starts, replace("Port 3780", with: "Port 99999")),
        ("port zero", .starts, replace("Port 3780", with: "Port 0")),
        ("port negative", .syntaxErrorSameLine, replace("Port 3780", with: "Port -1")),
        ("port not a number", .syntaxErrorSameLine, replace("Port 3780", with: "Port http")),
        ("port missing", .starts, delete("Port 3780", blame: "UDP {")),
        ("local address octet out of range", .starts, replace("IPv4_address 172.30.16.1", with: "IPv4_address 172.30.16.300")),
        ("peer address truncated", .syntaxErrorSameLine, replace("IPv4_Destination_Address 172.30.16.2", with: "IPv4_Destination_Address 172.30.16")),
        ("peer address missing", .starts, delete("IPv4_Destination_Address 172.30.16.2", blame: "UDP {")),
        ("local address missing", .starts, delete("IPv4_address 172.30.16.1", blame: "UDP {")),
        ("IPv6 address under an IPv4 keyword", .starts, replace("IPv4_address 172.30.16.1", with: "IPv4_address fd00::1")),
        ("Group in a UDP block", .syntaxErrorSameLine, replace("Port 3780", with: "Group 3780")),
        ("IPv4_interface in a UDP block", .syntaxErrorSameLine, insert(after: "Port 3780", "IPv4_interface 172.30.16.1")),
        ("ErrorQueueLength in a UDP block", .syntaxErrorSameLine, insert(after: "Port 3780", "ErrorQueueLength 10")),
        ("Checksum maybe", .syntaxErrorSameLine, replace("Checksum on", with: "Checksum maybe")),
        ("send buffer negative", .syntaxErrorSameLine, replace("SndSocketBuffer 1249280", with: "SndSocketBuffer -1")),
        ("second link of another kind", .refuses, insert(after: "Checksum on", "}\nMulticast {\nIPv4_address 225.0.0.50\nIPv4_interface 172.30.16.1\nGroup 3780", faultOffset: 1)),
        // Sync
        ("second Sync block", .starts, append("Sync {\n    UDP {\n        IPv4_address 172.30.16.1\n        IPv4_Destination_Address 172.30.16.2\n        Port 3781\n    }\n}")),
        ("second Mode block", .starts, insert(after: "Mode FTFW {", "}\nMode NOTRACK {", faultOffset: 1)),
        ("unknown mode", .syntaxErrorSameLine, replace("Mode FTFW {", with: "Mode FTFWX {")),
        ("mode keyword in lower case", .syntaxErrorSameLine, replace("Mode FTFW {", with: "mode FTFW {")),
        ("DisableExternalCache maybe", .syntaxErrorSameLine, replace("DisableExternalCache Off", with: "DisableExternalCache maybe")),
        ("CommitTimeout negative", .syntaxErrorSameLine, replace("CommitTimeout 180", with: "CommitTimeout -5")),
        ("CommitTimeout overflows", .starts, replace("CommitTimeout 180", with: "CommitTimeout 99999999999")),
        ("PurgeTimeout not a number", .syntaxErrorSameLine, replace("PurgeTimeout 5", with: "PurgeTimeout five")),
        ("RefreshTime inside Mode FTFW", .syntaxErrorSameLine, insert(after: "PurgeTimeout 5", "RefreshTime 5")),
        ("ResendQueueSize at the Sync level", .syntaxErrorSameLine, insert(after: "Mode FTFW {", "}\nResendQueueSize 100\nMode NOTRACK {", faultOffset: 1)),
        ("IPv4 and IPv6 in one link", .starts, insert(after: "Port 3780", "IPv6_address fd00::1")),
        ("TCP link mixing IPv4 and IPv6", .starts, { lines in
            let u = ConntrackdConfigCorpus.index(lines, "UDP {")
            lines[u] = "    TCP {"
            let p = ConntrackdConfigCorpus.index(lines, "Port 3780")
            lines.insert("IPv6_address fd00::1", at: p + 1)
            return p + 1
        }),
        // General
        ("HashSize overflows", .starts, replace("HashSize 32768", with: "HashSize 4294967296")),
        ("HashSize in hexadecimal", .syntaxErrorSameLine, replace("HashSize 32768", with: "HashSize 0x8000")),
        ("HashLimit negative", .syntaxErrorSameLine, replace("HashLimit 131072", with: "HashLimit -1")),
        ("NetlinkBufferSize with a unit", .syntaxErrorSameLine, replace("NetlinkBufferSize 2097152", with: "NetlinkBufferSize 2M")),
        ("PollSecs zero", .refuses, replace("PollSecs 5", with: "PollSecs 0")),
        ("EventIterationLimit a word", .syntaxErrorSameLine, replace("EventIterationLimit 200", with: "EventIterationLimit many")),
        ("unknown syslog facility", .starts, replace("Syslog on", with: "Syslog local9")),
        ("LogFile relative path", .syntaxErrorSameLine, replace("LogFile on", with: "LogFile var/log/conntrackd.log")),
        ("LockFile relative path", .syntaxErrorSameLine, replace("LockFile /var/lock/conntrack.lock", with: "LockFile var/lock/conntrack.lock")),
        ("UNIX Path too long", .refuses, replace("Path /var/run/conntrackd.ctl", with: "Path /var/run/" + String(repeating: "x", count: 120) + ".ctl")),
        ("Backlog a word", .syntaxErrorSameLine, replace("Backlog 20", with: "Backlog lots")),
        ("Nice unsigned", .syntaxErrorSameLine, replace("Nice -20", with: "Nice 20")),
        ("Systemd maybe", .syntaxErrorSameLine, replace("Systemd on", with: "Systemd maybe")),
        ("unknown keyword in General", .syntaxErrorSameLine, insert(after: "HashLimit 131072", "Foo 1")),
        ("keyword in the wrong case", .syntaxErrorSameLine, replace("HashSize 32768", with: "Hashsize 32768")),
        ("Scheduler without Priority", .starts, insert(after: "EventIterationLimit 200", "Scheduler {\nType RR\n}")),
        ("Scheduler priority out of range", .refuses, insert(after: "EventIterationLimit 200", "Scheduler {\nType RR\nPriority 100\n}", faultOffset: 2)),
        ("unknown scheduler", .refuses, insert(after: "EventIterationLimit 200", "Scheduler {\nType IDLE\nPriority 5\n}", faultOffset: 1)),
        ("second UNIX block", .starts, insert(after: "NetlinkBufferSize 2097152", "UNIX {\nPath /var/run/conntrackd.ctl\n}")),
        ("UNIX without its brace", .refuses, replace("UNIX {", with: "UNIX")),
        // General › Filter
        ("unknown protocol", .starts, replace("TCP", with: "TCPX", after: "Protocol Accept {")),
        ("protocol by number", .syntaxErrorSameLine, replace("UDP", with: "17", after: "Protocol Accept {")),
        ("protocol name in the wrong case", .starts, replace("ICMP # This requires a Linux kernel >= 2.6.31", with: "Icmp")),
        ("filter address octet out of range", .starts, replace("IPv4_address 10.0.0.2", with: "IPv4_address 10.0.0.256")),
        ("filter prefix too long", .starts, replace("IPv4_address 10.0.0.3", with: "IPv4_address 10.0.0.0/33")),
        ("IPv4 address under IPv6_address", .starts, replace("IPv4_address 10.0.0.1", with: "IPv6_address 10.0.0.1")),
        ("misspelt address keyword", .syntaxErrorSameLine, replace("IPv4_address 192.168.255.2", with: "IPv4_addr 192.168.255.2")),
        ("policy neither Accept nor Ignore", .syntaxErrorSameLine, replace("Protocol Accept {", with: "Protocol Allow {")),
        ("Filter From neither space", .syntaxErrorSameLine, replace("Filter From Userspace {", with: "Filter From Bothspace {")),
        ("state list without for TCP", .refuses, insert(after: "Filter From Userspace {", "State Accept {\nESTABLISHED\n}", faultOffset: 1)),
        ("unknown TCP state", .syntaxErrorSameLine, insert(after: "Filter From Userspace {", "State Accept {\nESTABLISHED BOGUS for TCP\n}", faultOffset: 1)),
        ("second Filter block", .starts, insert(after: "IPv4_address 192.168.255.250", "}\n}\nFilter {\nProtocol Accept {\nSCTP", faultOffset: 2)),
        // Sections and braces
        ("second General block", .starts, append("General {\n    HashSize 16384\n}")),
        ("Stats section", .refuses, append("Stats {\n    LogFile on\n}")),
        ("Helper section", .starts, append("Helper {\n    Setup on\n}")),
        ("unknown section", .syntaxErrorSameLine, append("Synch {\n}")),
        ("missing final brace", .refuses, { lines in
            let last = lines.lastIndex { $0.trimmingSpaces == "}" }!
            lines.remove(at: last)
            return ConntrackdConfigCorpus.index(lines, "General {")
        }),
    ]

    public static var variants: [Variant] {
        let base = seed.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        return edits.map { name, reference, edit in
            var lines = base
            let fault = edit(&lines)
            return Variant(name: name, text: lines.joined(separator: "\n"), line: fault + 1, reference: reference)
        }
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s.removeFirst() }
        while s.last == " " || s.last == "\t" { s.removeLast() }
        return String(s)
    }
}
