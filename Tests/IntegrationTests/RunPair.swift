import Foundation
import TestSupport
import Testing

/// Two `tandem run` nodes on one veth link (VRRP and sync on it): A, priority 200, is
/// master of the VIP; B, priority 100, its backup. Both are started, A holds the VIP, and
/// B has had time to say hello. `remove()` stops both and removes the namespaces.
final class RunPair {
    let link: VethLink
    let base: String
    let a: FailoverNodeTests.Node
    let b: FailoverNodeTests.Node
    var nodeA: Spawned?
    var nodeB: Spawned?

    /// `environmentA`, `environmentB`: VAR=value settings for each node's process (the test-only switches);
    /// `arguments`: more `tandem run` options for A and for B; `namespacePrefix`: the
    /// namespaces' (see VethLink).
    /// `advertInterval`: both nodes' advert_int (sub-second: VRRPv3); `syncLink`: UDP, TCP or Multicast;
    /// `receiveBuffer`: B's RcvSocketBuffer on a UDP link.
    init(tag: String, prefix: String, subnet: String, environmentA: [String] = [], environmentB: [String] = [], arguments: (a: [String], b: [String]) = ([], []),
         namespacePrefix: String = "tdt", advertInterval: String = "1", syncLink: String = "UDP", receiveBuffer: Int? = nil) throws {
        link = try VethLink(tag: tag, prefix: prefix, addressA: "\(subnet).1/24", addressB: "\(subnet).2/24", namespacePrefix: namespacePrefix)
        base = NSTemporaryDirectory() + "tdt-\(tag)-\(getpid())"
        a = FailoverNodeTests.Node(namespace: link.a, interface: link.interfaceA, address: "\(subnet).1", peer: "\(subnet).2", directory: base + "/a")
        b = FailoverNodeTests.Node(namespace: link.b, interface: link.interfaceB, address: "\(subnet).2", peer: "\(subnet).1", directory: base + "/b")
        do {
            try a.writeConfigs(priority: 200, state: "MASTER", advertInterval: advertInterval, syncLink: syncLink)
            try b.writeConfigs(priority: 100, state: "BACKUP", advertInterval: advertInterval, syncLink: syncLink, receiveBuffer: receiveBuffer)
            nodeA = try a.start(demotion: 0, environment: environmentA, arguments: arguments.a)
            try #require(FailoverNodeTests.waitUntil(25) { a.holdsVIP }, "A never became master: \(Vectors.readText(a.log))")
            nodeB = try b.start(demotion: 0, environment: environmentB, arguments: arguments.b)
            usleep(2_000_000)
        } catch {
            remove()
            throw error
        }
    }

    /// Lines of B's `tandem conntrackd -C … what` (`-i`, `-e`): its caches' flow counts.
    func count(_ what: String, on node: FailoverNodeTests.Node) -> Int {
        node.namespace.run([Shell.tandem, "conntrackd", "-C", node.directory + "/conntrackd.conf", what]).lines.count
    }

    /// B stops hearing A's adverts (nftables in B's namespace drops VRRP on input) while
    /// the sync link stays up: B takes over while A still forwards.
    func cutVRRPToB() throws { try SplitBrainTests.drop("ip protocol vrrp drop", in: link.b) }

    func remove() {
        nodeB?.stop()
        nodeA?.stop()
        link.remove()
        try? FileManager.default.removeItem(atPath: base)
    }
}

extension FailoverNodeTests.Node {
    /// The node's `tandem status --json`, parsed; empty if it did not answer with JSON.
    func statusDocument() -> [String: Any] {
        let r = namespace.run([Shell.tandem, "status", "--json", "-C", directory + "/conntrackd.conf"])
        return (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]) ?? [:]
    }
}
