import Foundation
import TestSupport
import Testing

/// Where a use_vmac instance's addresses go, beside keepalived 2.2.7: one written with
/// `dev` of the instance's own interface goes on the VMAC like one without `dev`; one of
/// the other family stays on the base interface. The SIGUSR1 dump names them the same
/// way (`dev vrrp.51@BASE`). The control is each tool without use_vmac, where the same
/// `dev` line leaves the address on the base interface.
@Suite(.serialized, .enabled(if: Shell.isRoot && FileManager.default.isExecutableFile(atPath: "/usr/sbin/keepalived"), "needs root and keepalived"))
struct KeepalivedVMACAddressTests {
    static let addresses = ["10.77.0.100", "10.77.0.101", "fd00:78::1"]

    static func config(base: String, vmac: Bool) -> String {
        """
        global_defs {
          router_id tkd-a
        }
        vrrp_instance VI_1 {
          state BACKUP
          interface \(base)
          virtual_router_id 51
          priority 150
          advert_int 0.2
          version 3
        \(vmac ? "  use_vmac\n" : "")  virtual_ipaddress {
            10.77.0.100/24 dev \(base)
            10.77.0.101/24
          }
          virtual_ipaddress_excluded {
            fd00:78::1/64
          }
        }

        """
    }

    struct Seen {
        /// address → the interface holding it, BASE for the instance's own.
        var holder: [String: String] = [:]
        /// The dump's address lines, BASE for the instance's interface.
        var dumpLines: [String] = []
    }

    func observe(_ kind: VRRPRouter.Kind, vmac: Bool) throws -> Seen {
        let pair = try SwitchedPair(tag: "va\(kind.rawValue.prefix(1))\(vmac ? "v" : "p")", prefix: "tkd")
        defer { pair.remove() }
        let base = pair.interface("a", 0)
        let r = try VRRPRouter(kind, in: pair.a, config: Self.config(base: base, vmac: vmac))
        defer { r.remove() }
        func holders() -> [String: String] {
            var out: [String: String] = [:]
            for line in pair.a.run(["ip", "-br", "addr"]).stdout.split(separator: "\n") {
                let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
                guard let name = words.first?.split(separator: "@").first.map(String.init) else { continue }
                for a in Self.addresses where words.contains(where: { $0.hasPrefix(a + "/") }) {
                    out[a] = name == base ? "BASE" : name
                }
            }
            return out
        }
        #expect(eventually(within: 10) { holders().count == Self.addresses.count }, "\(kind) vmac \(vmac): \(holders())\n\(r.log)")
        var s = Seen()
        s.holder = holders()
        s.dumpLines = r.data().split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { l in Self.addresses.contains { l.hasPrefix($0 + "/") } }
            .map { $0.replacingOccurrences(of: base, with: "BASE") }
        return s
    }

    @Test func devOfTheBaseInterfaceGoesOnTheVMAC() throws {
        let ours = try observe(.tandem, vmac: true), theirs = try observe(.keepalived, vmac: true)
        #expect(theirs.holder == ["10.77.0.100": "vrrp.51", "10.77.0.101": "vrrp.51", "fd00:78::1": "BASE"], "\(theirs.holder)")
        #expect(ours.holder == theirs.holder, "tandem \(ours.holder)\nkeepalived \(theirs.holder)")
        #expect(!theirs.dumpLines.isEmpty && ours.dumpLines == theirs.dumpLines, "tandem \(ours.dumpLines)\nkeepalived \(theirs.dumpLines)")
        // The control: without use_vmac both leave everything on the base interface.
        let plain = try observe(.tandem, vmac: false), theirPlain = try observe(.keepalived, vmac: false)
        #expect(theirPlain.holder.values.allSatisfy { $0 == "BASE" } && theirPlain.holder.count == 3, "\(theirPlain.holder)")
        #expect(plain.holder == theirPlain.holder, "tandem \(plain.holder)\nkeepalived \(theirPlain.holder)")
    }
}
