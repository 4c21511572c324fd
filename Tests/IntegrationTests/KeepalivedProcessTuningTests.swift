import Foundation
import TestSupport
import Testing

/// global_defs' vrrp_no_swap and vrrp_cpu_affinity beside keepalived 2.2.7: its VRRP
/// process (keepalived's child, Tandem itself) is locked in memory and runs on the CPU
/// named; reloaded without them it is unlocked and stays on that CPU. The control, the
/// same file without them, neither locked nor pinned.
@Suite(.enabled(if: Shell.isRoot && Shell.which("keepalived"), "needs root and keepalived"))
struct KeepalivedProcessTuningTests {
    static func field(_ name: String, of pid: pid_t) -> String? {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").first { $0.hasPrefix(name + ":") }
            .map { $0.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces) }
    }

    @Test(arguments: VRRPRouter.Kind.allCases, [true, false])
    func theVRRPProcessIsLockedAndPinned(_ kind: VRRPRouter.Kind, tuned: Bool) throws {
        let cpus = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        let ns = try KeepalivedStaticTrackingTests.namespace("pt\(kind.rawValue.prefix(1))\(tuned ? "t" : "c")")
        defer { ns.remove() }
        let global = tuned ? "global_defs {\n  vrrp_no_swap\n  vrrp_cpu_affinity \(cpus - 1)\n}\n" : ""
        let config = global + "vrrp_instance V {\n  interface tkgv0\n  virtual_router_id 51\n  virtual_ipaddress {\n    10.143.1.1/24\n  }\n}\n"
        let router = try VRRPRouter(kind, in: ns, config: config)
        defer { router.remove() }
        try #require(eventually(within: 15) { KeepalivedStaticTrackingTests.holds(ns, "10.143.1.1") }, "\(router.log)")
        let pid = try #require(router.vrrpPID)
        let locked = Self.field("VmLck", of: pid).map { $0 != "0 kB" }
        let allowed = Self.field("Cpus_allowed_list", of: pid)
        if tuned {
            #expect(locked == true && allowed == "\(cpus - 1)", "\(kind): VmLck \(Self.field("VmLck", of: pid) ?? "?"), CPUs \(allowed ?? "?")")
            // Reloaded without them: unlocked, and still on the CPU named, on both.
            let plain = String(config.dropFirst(global.count))
            try plain.write(toFile: router.configPath, atomically: true, encoding: .utf8)
            router.signal(SIGHUP)
            let pidAfter = { router.vrrpPID ?? pid }
            #expect(eventually(within: 10) { Self.field("VmLck", of: pidAfter()) == "0 kB" }, "\(kind) after the reload: VmLck \(Self.field("VmLck", of: pidAfter()) ?? "?")")
            #expect(Self.field("Cpus_allowed_list", of: pidAfter()) == "\(cpus - 1)", "\(kind) after the reload")
        } else {
            #expect(locked == false && allowed != "\(cpus - 1)" || cpus == 1, "\(kind): VmLck \(Self.field("VmLck", of: pid) ?? "?"), CPUs \(allowed ?? "?")")
        }
    }
}
