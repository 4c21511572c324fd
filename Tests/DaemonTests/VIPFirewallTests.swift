import ConfigParsing
@testable import Daemon
import Foundation
import TestSupport
import Testing

/// The nft scripts of non-accept mode: the table is built once, on first use, and only a
/// built table is emptied or deleted (KeepalivedNoAcceptFirewallTests runs them beside
/// keepalived 2.2.7).
struct VIPFirewallTests {
    @Test func tableBuiltOnceThenElementsOnly() throws {
        var settings = FirewallSettings()
        settings.counters = true
        var f = VIPFirewall(settings)
        // Nothing built: nothing to release or delete.
        #expect(f.release(["10.1.1.1"]) == nil && f.teardown() == nil)
        let built = f.drop(["10.1.1.1", "10.1.1.2"])
        let first = try #require(built)
        #expect(first.contains("add table ip6 keepalived\ndelete table ip6 keepalived\n")
                && first.contains("add rule ip keepalived in ip daddr @vips counter drop")
                && first.hasSuffix("add element ip keepalived vips { 10.1.1.1, 10.1.1.2 }\n"))
        // The control: a second master adds its elements to the table already there.
        #expect(f.drop(["10.1.2.1"]) == "add element ip keepalived vips { 10.1.2.1 }\n")
        #expect(f.release(["10.1.2.1"]) == "delete element ip keepalived vips { 10.1.2.1 }\n")
        #expect(f.teardown() == "delete table ip keepalived\n" && f.teardown() == nil)
    }

    /// IPv6: the ip6 table's chains and sets once, each link-local set with its first
    /// element; global and link-local addresses each in their set.
    @Test func ipv6TableAsKeepalivedBuildsIt() throws {
        var f = VIPFirewall(FirewallSettings())
        let d = VIPFirewall.IPv6Drop(global: ["fd00::1"], linkLocal: [.init(address: "fe80::1", interface: "eth0", byName: false)])
        let script = f.drop6(d)
        let first = try #require(script)
        #expect(first.contains("add chain ip6 keepalived out { type filter hook output priority -1; policy accept; }\nadd chain ip6 keepalived in ")
                && first.contains("add rule ip6 keepalived in ip6 daddr fe80::/10 goto in_link_local\n")
                && first.contains("add rule ip6 keepalived in_link_local ip6 daddr . iif @vips_link_local drop\n")
                && first.hasSuffix("add element ip6 keepalived vips { fd00::1 }\nadd element ip6 keepalived vips_link_local { fe80::1 . \"eth0\" }\n"), "\(first)")
        // A second master by name: only its set and element are new.
        let byName = VIPFirewall.IPv6Drop(linkLocal: [.init(address: "fe80::2", interface: "eth1", byName: true)])
        #expect(f.drop6(byName) == "add set ip6 keepalived vips_link_local_name { type ipv6_addr . ifname; }\n"
                + "add rule ip6 keepalived in_link_local ip6 daddr . iifname @vips_link_local_name drop\n"
                + "add rule ip6 keepalived out_link_local ip6 saddr . oifname @vips_link_local_name drop\n"
                + "add element ip6 keepalived vips_link_local_name { fe80::2 . \"eth1\" }\n")
        #expect(f.release6(d) == "delete element ip6 keepalived vips { fd00::1 }\ndelete element ip6 keepalived vips_link_local { fe80::1 . \"eth0\" }\n")
        #expect(f.teardown() == "delete table ip6 keepalived\n")
        // The control: nothing built, nothing to release.
        #expect(VIPFirewall(FirewallSettings()).release6(d) == nil)
    }

    /// A script nft refuses comes back as a typed failure with nft's own words.
    @Test(.enabled(if: Shell.isRoot && Shell.which("nft"), "needs root and nft"))
    func refusedScriptIsATypedFailure() throws {
        // Neither script changes anything: one does not parse, the other only lists.
        guard case .failure(let f) = NftCommand.run("add tabel ip tkbnothing\n") else {
            Issue.record("a misspelt script was accepted"); return
        }
        guard case .refused(let status, let output) = f else { Issue.record("\(f)"); return }
        #expect(status == 1 && output.contains("syntax error"), "\(status) \(output)")
        // The control: a script that only lists succeeds.
        #expect((try? NftCommand.run("list tables\n").get()) != nil)
    }
}
