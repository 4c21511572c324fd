import Foundation
import TestSupport

/// keepalived.conf text for one side of a SwitchedPair, the same for Tandem and keepalived.
struct VRRPTestConfig: Sendable, CustomStringConvertible {
    var version = 3
    /// Seconds; v2 needs whole seconds.
    var interval = 0.2
    var unicast = false
    var password: String? = "secret1"
    var vrid = 51

    var description: String { "v\(version) \(unicast ? "unicast" : "multicast") \(interval) s" }

    static func vip(_ segment: Int, _ n: Int = 100) -> String { "10.77.\(segment).\(n)" }

    struct Instance {
        var name = "VI_1"
        var segment = 0
        var priority = 100
        var vrid: Int?
        var vips: [String]?
        var extra: [String] = []
    }

    /// A whole configuration for `side` ("a" or "b") of `pair`.
    func text(_ pair: SwitchedPair, side: String, instances: [Instance], syncGroup: Bool = false, top: [String] = [],
              groupExtra: [String] = []) -> String {
        let other = side == "a" ? "b" : "a"
        var out = "global_defs {\n  router_id tdt-\(side)\n}\n" + top.joined(separator: "\n") + "\n"
        if syncGroup {
            out += "vrrp_sync_group G1 {\n  group {\n" + instances.map { "    \($0.name)\n" }.joined() + "  }\n"
                + groupExtra.map { "  \($0)\n" }.joined() + "}\n"
        }
        for i in instances {
            out += "vrrp_instance \(i.name) {\n"
            out += "  state BACKUP\n  interface \(pair.interface(side, i.segment))\n"
            out += "  virtual_router_id \(i.vrid ?? vrid + i.segment)\n  priority \(i.priority)\n"
            out += "  advert_int \(interval)\n  version \(version)\n"
            if version == 2, let password { out += "  authentication {\n    auth_type PASS\n    auth_pass \(password)\n  }\n" }
            if unicast {
                out += "  unicast_src_ip \(pair.address(side, i.segment))\n"
                out += "  unicast_peer {\n    \(pair.address(other, i.segment))\n  }\n"
            }
            out += "  virtual_ipaddress {\n" + (i.vips ?? [Self.vip(i.segment)]).map { "    \($0)/24\n" }.joined() + "  }\n"
            out += i.extra.map { "  \($0)\n" }.joined()
            out += "}\n"
        }
        return out
    }

    /// Master_Down_Interval in seconds for a priority (keepalived's formula, spec §2.2).
    func masterDownInterval(priority: Int) -> Double {
        let skew = version == 2 ? Double(256 - priority) / 256 : Double(256 - priority) * interval / 256
        return 3 * interval + skew
    }

    func skewTime(priority: Int) -> Double {
        version == 2 ? Double(256 - priority) / 256 : Double(256 - priority) * interval / 256
    }
}
