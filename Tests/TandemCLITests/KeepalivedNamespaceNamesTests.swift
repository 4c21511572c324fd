@testable import TandemCLI
import Testing

/// keepalived 2.2.7's names in a network namespace: the VRRP ident and the default pid
/// files under /run/keepalived/NAME; outside one, keepalived's own defaults in /run.
@Suite struct KeepalivedNamespaceNamesUnitTests {
    @Test func inANamespace() {
        let n = KeepalivedNamespaceNames(namespace: "blue")
        #expect(n.syslogIdent == "Keepalived_vrrp_blue")
        #expect(n.pidFiles(main: nil, vrrp: nil) == ["/run/keepalived/blue/keepalived.pid", "/run/keepalived/blue/vrrp.pid"])
        #expect(n.pidFiles(main: "/x/k.pid", vrrp: nil) == ["/x/k.pid", "/run/keepalived/blue/vrrp.pid"])
        #expect(n.pidFiles(main: "/x/k.pid", vrrp: "/x/v.pid") == ["/x/k.pid", "/x/v.pid"])
    }

    /// The control: outside a namespace, the plain ident and keepalived's defaults in /run
    /// (measured: keepalived 2.2.7 started without -p / -r writes these two).
    @Test func outsideOne() {
        let n = KeepalivedNamespaceNames(namespace: nil)
        #expect(n.syslogIdent == "Keepalived_vrrp" && n.pidDirectory == nil)
        #expect(n.pidFiles(main: nil, vrrp: nil) == ["/run/keepalived.pid", "/run/vrrp.pid"])
        #expect(n.pidFiles(main: "/x/k.pid", vrrp: nil) == ["/x/k.pid", "/run/vrrp.pid"])
        #expect(n.pidFiles(main: "/x/k.pid", vrrp: "/x/v.pid") == ["/x/k.pid", "/x/v.pid"])
    }
}
