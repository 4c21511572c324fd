import Foundation

/// Two namespaces joined by a veth pair with one IPv4 address on each end.
public final class VethLink: @unchecked Sendable {
    public let a: TestNamespace
    public let b: TestNamespace
    public let interfaceA: String
    public let interfaceB: String

    /// `prefix` names the interfaces (prefix + pid + a/b); addresses are CIDR strings;
    /// `namespacePrefix` starts the namespaces' names (each engineer's tests have their own).
    public init(tag: String, prefix: String, addressA: String, addressB: String, namespacePrefix: String = "tdt") throws {
        a = try TestNamespace("\(tag)a", prefix: namespacePrefix)
        b = try TestNamespace("\(tag)b", prefix: namespacePrefix)
        interfaceA = "\(prefix)\(getpid() % 100000)a"
        interfaceB = "\(prefix)\(getpid() % 100000)b"
        for argv in [
            ["ip", "link", "add", interfaceA, "netns", a.name, "type", "veth", "peer", "name", interfaceB, "netns", b.name],
            ["ip", "-n", a.name, "addr", "add", addressA, "dev", interfaceA], ["ip", "-n", a.name, "link", "set", interfaceA, "up"],
            ["ip", "-n", b.name, "addr", "add", addressB, "dev", interfaceB], ["ip", "-n", b.name, "link", "set", interfaceB, "up"],
        ] {
            let r = Shell.run(argv)
            if r.status != 0 { remove(); throw TestSetupError("\(argv): \(r.stderr)") }
        }
    }

    public func remove() {
        a.remove()
        b.remove()
    }
}
