/// One of the two firewalls of the seed's pair.
public enum Firewall: Int, CaseIterable, Sendable, CustomStringConvertible {
    case fw1 = 1, fw2 = 2
    public var peer: Firewall { self == .fw1 ? .fw2 : .fw1 }
    public var description: String { "fw\(rawValue)" }
}

/// Names of everything a lab owns: its namespaces (all starting with the prefix, so a
/// leftover is recognisable and CI can find it) and its state directory. Interfaces live
/// only inside those namespaces and need no prefix.
public struct LabNames: Sendable {
    public let prefix: String

    public init(prefix: String) throws(LabError) {
        guard Self.isValid(prefix) else { throw .invalidPrefix(prefix) }
        self.prefix = prefix
    }

    static func isValid(_ p: String) -> Bool {
        guard let first = p.unicodeScalars.first, p.unicodeScalars.count <= 24 else { return false }
        func allowed(_ c: Unicode.Scalar) -> Bool {
            ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) || c == "-" || c == "_" || c == "."
        }
        return p.unicodeScalars.allSatisfy(allowed) && first != "-" && first != "." && first != "_"
    }

    public var client: String { prefix + "client" }
    public var server: String { prefix + "server" }
    public var switchBox: String { prefix + "sw" }
    public func namespace(_ fw: Firewall) -> String { prefix + "fw\(fw.rawValue)" }
    public var allNamespaces: [String] { [client, server, switchBox, namespace(.fw1), namespace(.fw2)] }

    public var stateDirectory: String { "/run/tandem-lab/" + prefix }
    func directory(_ fw: Firewall) -> String { stateDirectory + "/fw\(fw.rawValue)" }
    func file(_ fw: Firewall, _ name: String) -> String { directory(fw) + "/" + name }
    var stateFile: String { stateDirectory + "/lab.state" }
    var resultsFile: String { stateDirectory + "/results.json" }
    var binDirectory: String { stateDirectory + "/bin" }
}

/// Interface names, as in the seed (ens2 = WAN, ens3 = sync link, ens4 = LAN).
enum LabInterface {
    static let wan = "ens2-wan"
    static let sync = "ens3-sync"
    static let lan = "ens4-lan"
    static let host = "eth0"
    static let lanBridge = "br-lan"
    static let wanBridge = "br-wan"
    /// The switch-side end of a firewall's LAN or WAN cable: taking it down unplugs fw.
    static func switchPort(_ fw: Firewall, lan: Bool) -> String { "p-fw\(fw.rawValue)-\(lan ? "lan" : "wan")" }
}
