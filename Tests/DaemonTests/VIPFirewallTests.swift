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
