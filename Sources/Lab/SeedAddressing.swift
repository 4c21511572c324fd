/// The seed how-to's addressing. The firewalls' WAN addresses come from its keepalived
/// unicast_src_ip (.11/.22); its conntrackd ignore list names other ones (.2/.52) and is
/// kept verbatim.
enum SeedAddressing {
    static let lanNetwork = "10.0.0.0/24"
    static let client = "10.0.0.10"
    static let lanVIP = "10.0.0.3"
    static let server = "192.168.255.33"
    static let wanVIP = "192.168.255.250"
    static let prefixLength = 24

    static func lan(_ fw: Firewall) -> String { fw == .fw1 ? "10.0.0.1" : "10.0.0.2" }
    static func wan(_ fw: Firewall) -> String { fw == .fw1 ? "192.168.255.11" : "192.168.255.22" }
    static func sync(_ fw: Firewall) -> String { fw == .fw1 ? "172.30.16.1" : "172.30.16.2" }

    /// Fixed MACs make captures readable: 02:a1:0N:… is fwN, 0c the client, 05 the server.
    static func mac(_ fw: Firewall, _ interface: String) -> String {
        let last = interface == LabInterface.wan ? "02" : interface == LabInterface.sync ? "03" : "04"
        return "02:a1:0\(fw.rawValue):00:00:\(last)"
    }
    static let clientMAC = "02:a1:0c:00:00:10"
    static let serverMAC = "02:a1:05:00:00:33"

    static let sshPort: UInt16 = 22
    static let streamPort: UInt16 = 5000
    /// The UDP client's fixed source port: the flow it opens is the one the stream needs.
    static let streamClientPort: UInt16 = 41000
    static let syncPort = 3780
}
