/// Broken variants of the seed how-to's keepalived.conf (fw-1), each with the line its
/// fault is on. The unit corpus test feeds them to Tandem's parser; the integration test
/// feeds them to the real keepalived's `-t`, which is where `reference` comes from.
public enum KeepalivedConfigCorpus {
    /// What keepalived 2.2.7's `-t` says of a variant, beyond what it says of the seed
    /// (whose nopreempt warnings already make `-t` exit 5).
    public enum Reference: Equatable, Sendable {
        /// A message naming the fault's line ("(file: Line N)").
        case namesLine
        /// Messages, none naming the line (or naming another).
        case reportsElsewhere
        /// Nothing more than for the seed: keepalived runs with it (skipping or defaulting
        /// what is wrong); Tandem is stricter, because that changes which addresses move.
        case silent
    }

    public struct Variant: Sendable {
        public var name: String
        public var text: String
        /// 1-based line the error must name.
        public var line: Int
        public var reference: Reference
    }

    /// The fw-1 keepalived.conf of ../shared/reference/seed-howto.txt, unchanged.
    public static var seed: String {
        let text = Vectors.readText(SharedVectors.sharedDirectory + "/reference/seed-howto.txt")
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard let start = lines.firstIndex(where: { $0.contains("Primary fw-1 keepalived configuration file") }),
              let end = lines.firstIndex(where: { $0.contains("Standby fw-2 Keepalived configuration file") }) else { return "" }
        return lines[(start + 1)..<end].joined(separator: "\n") + "\n"
    }

    typealias Edit = ConntrackdConfigCorpus.Edit
    static func replace(_ find: String, with: String, after marker: String? = nil) -> Edit {
        ConntrackdConfigCorpus.replace(find, with: with, after: marker)
    }
    static func insert(after find: String, _ text: String, faultOffset: Int = 0) -> Edit {
        ConntrackdConfigCorpus.insert(after: find, text, faultOffset: faultOffset)
    }
    static func delete(_ find: String, blame: String) -> Edit {
        ConntrackdConfigCorpus.delete(find, blame: blame)
    }
    static func append(_ text: String) -> Edit { ConntrackdConfigCorpus.append(text) }

    /// Edits inside the second instance (EXT) are anchored on its opening line.
    static let ext = "vrrp_instance EXT {"

    static let edits: [(String, Reference, Edit)] = [
        // vrrp_sync_group
        ("sync group names an unknown instance", .reportsElsewhere, replace("EXT", with: "EXTX", after: "group {")),
        ("sync group lists an instance twice", .reportsElsewhere, insert(after: "INT", "INT")),
        ("sync group without a name", .namesLine, replace("vrrp_sync_group G1 {", with: "vrrp_sync_group {")),
        ("notify script quote not closed", .namesLine, replace("notify_master \"/etc/conntrackd/primary-backup.sh primary\"", with: "notify_master \"/etc/conntrackd/primary-backup.sh primary")),
        ("notify keyword misspelt", .namesLine, replace("notify_master \"/etc/conntrackd/primary-backup.sh primary\"", with: "notify_mastr \"/etc/conntrackd/primary-backup.sh primary\"")),
        ("notify without a script", .namesLine, replace("notify_fault \"/etc/conntrackd/primary-backup.sh fault\"", with: "notify_fault")),
        ("group block without its brace", .reportsElsewhere, replace("group {", with: "group")),
        // vrrp_instance INT
        ("instance without a name", .namesLine, replace("vrrp_instance INT {", with: "vrrp_instance {")),
        ("unknown state", .namesLine, replace("state MASTER", with: "state PRIMARY")),
        ("state without a value", .namesLine, replace("state MASTER", with: "state")),
        ("virtual_router_id missing", .reportsElsewhere, delete("virtual_router_id 11", blame: "vrrp_instance INT {")),
        ("virtual_router_id zero", .namesLine, replace("virtual_router_id 11", with: "virtual_router_id 0")),
        ("virtual_router_id too large", .namesLine, replace("virtual_router_id 11", with: "virtual_router_id 256")),
        ("virtual_router_id a word", .namesLine, replace("virtual_router_id 11", with: "virtual_router_id eleven")),
        ("priority zero", .namesLine, replace("priority 50", with: "priority 0")),
        ("priority too large", .namesLine, replace("priority 50", with: "priority 300")),
        ("priority a word", .namesLine, replace("priority 50", with: "priority high")),
        ("priority negative", .namesLine, replace("priority 50", with: "priority -5")),
        ("advert_int zero", .namesLine, replace("advert_int 1", with: "advert_int 0")),
        ("advert_int a word", .namesLine, replace("advert_int 1", with: "advert_int often")),
        ("advert_int too large", .namesLine, replace("advert_int 1", with: "advert_int 300")),
        ("unicast_src_ip octet out of range", .namesLine, replace("unicast_src_ip 10.0.0.1", with: "unicast_src_ip 10.0.0.300")),
        ("unicast_src_ip without an address", .namesLine, replace("unicast_src_ip 10.0.0.1", with: "unicast_src_ip")),
        ("unicast_src_ip IPv6 with IPv4 peers", .reportsElsewhere, replace("unicast_src_ip 10.0.0.1", with: "unicast_src_ip fd00::1")),
        ("unicast peer truncated", .namesLine, replace("10.0.0.2", with: "10.0.0")),
        ("unicast peer IPv6 among IPv4", .namesLine, replace("10.0.0.2", with: "fd00::2")),
        ("unknown auth type", .namesLine, replace("auth_type PASS", with: "auth_type PLAIN")),
        ("auth_type without a value", .namesLine, replace("auth_type PASS", with: "auth_type")),
        ("auth_pass without a value", .namesLine, replace("auth_pass 1111", with: "auth_pass")),
        ("auth keyword misspelt", .namesLine, replace("auth_pass 1111", with: "auth_password 1111")),
        ("virtual address octet out of range", .namesLine, replace("10.0.0.3/24 dev ens4", with: "10.0.0.300/24 dev ens4")),
        ("virtual address prefix too long", .namesLine, replace("10.0.0.3/24 dev ens4", with: "10.0.0.3/33 dev ens4")),
        ("virtual address unknown option", .namesLine, replace("10.0.0.3/24 dev ens4", with: "10.0.0.3/24 dev ens4 bogus")),
        ("virtual address dev without a name", .namesLine, replace("10.0.0.3/24 dev ens4", with: "10.0.0.3/24 dev")),
        ("garp_master_delay a word", .namesLine, replace("garp_master_delay 1", with: "garp_master_delay soon")),
        ("garp_master_delay negative", .namesLine, replace("garp_master_delay 1", with: "garp_master_delay -1")),
        ("unknown keyword in an instance", .namesLine, replace("priority 50", with: "priorty 50")),
        ("interface name too long", .namesLine, replace("interface ens4", with: "interface ens4-much-too-long-for-linux")),
        ("authentication block not closed", .reportsElsewhere, { lines in
            let a = ConntrackdConfigCorpus.index(lines, "authentication {")
            let close = lines.indices.first { $0 > a && lines[$0].trimmingSpaces == "}" }!
            lines.remove(at: close)
            return a
        }),
        ("unicast_peer block not closed", .reportsElsewhere, { lines in
            let a = ConntrackdConfigCorpus.index(lines, "unicast_peer {")
            let close = lines.indices.first { $0 > a && lines[$0].trimmingSpaces == "}" }!
            lines.remove(at: close)
            return a
        }),
        // vrrp_instance EXT
        ("second instance of the same name", .namesLine, replace(ext, with: "vrrp_instance INT {")),
        ("EXT virtual_router_id missing", .reportsElsewhere, delete("virtual_router_id 22", blame: ext)),
        ("EXT unknown auth type", .namesLine, replace("auth_type PASS", with: "auth_type MD5", after: ext)),
        ("EXT virtual address family mismatch", .namesLine, replace("192.168.255.250/24 dev ens2", with: "fd00::250/64 dev ens2")),
        ("EXT unicast peer a name", .namesLine, replace("192.168.255.22", with: "fw-2")),
        // Top level and braces
        ("unknown top-level keyword", .namesLine, replace(ext, with: "vrrp_instanc EXT {")),
        ("unexpected closing brace", .namesLine, append("}")),
        ("missing final brace", .reportsElsewhere, { lines in
            let last = lines.lastIndex { $0.trimmingSpaces == "}" }!
            lines.remove(at: last)
            return ConntrackdConfigCorpus.index(lines, ext)
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
