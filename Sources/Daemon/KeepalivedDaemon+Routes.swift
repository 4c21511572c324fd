import ConfigParsing
import Conntrack
import Netlink

/// Each instance's parsed `virtual_routes` (lines that do not parse are logged once), and
/// the rtnetlink socket that installs them, opened only when some instance has them.
struct VirtualRoutes {
    var table: Routes?
    var byInstance: [String: [VirtualRoute]] = [:]
}

/// `virtual_routes`: installed with the virtual addresses, removed with them.
extension KeepalivedDaemon {
    /// `owner`: the instance's name, or "static", for the log line.
    func kernelRoute(_ v: VirtualRoute, owner: String) -> Routes.Route? {
        var interface: UInt32?
        if let d = v.device {
            guard let index = InterfaceAddresses.index(of: d) else {
                log("(\(owner)) \(owner == "static" ? "static" : "virtual") route to \(v.destination.map { "\($0)" } ?? "default"): no interface \(d)")
                return nil
            }
            interface = index
        }
        let kind = Routes.Route.Kind(rawValue: [VirtualRoute.Kind.unicast: 1, .blackhole: 6, .unreachable: 7, .prohibit: 8][v.kind]!)!
        return Routes.Route(family: v.family, destination: v.destination?.bytes ?? [], prefix: UInt8(v.prefix), kind: kind,
                            gateway: v.gateway?.bytes, source: v.source?.bytes, interface: interface, scope: v.scope,
                            table: v.table, metric: v.metric, onlink: v.onlink)
    }

    /// Each instance's routes, lines that do not parse logged and left out.
    static func parsedRoutes(_ c: KeepalivedConfiguration, log: (String) -> Void) -> [String: [VirtualRoute]] {
        var byInstance: [String: [VirtualRoute]] = [:]
        for ic in c.instances where !ic.virtualRoutes.isEmpty {
            var parsed: [VirtualRoute] = []
            for words in ic.virtualRoutes {
                do { parsed.append(try VirtualRoute(words)) } catch { log("(\(ic.name)) \(error): ignored") }
            }
            byInstance[ic.name] = parsed
        }
        return byInstance
    }

    func installRoutes(of i: Instance) {
        installRoutes(routes.byInstance[i.config.name] ?? [], of: i)
    }

    func installRoutes(_ lines: [VirtualRoute], of i: Instance) {
        guard let table = routes.table, !lines.isEmpty else { return }
        for v in lines {
            guard let r = kernelRoute(v, owner: i.config.name) else { continue }
            do { try table.add(r) } catch { log("(\(i.config.name)) cannot add route \(describe(v)): \(error)") }
        }
    }

    func removeRoutes(of i: Instance) {
        removeRoutes(routes.byInstance[i.config.name] ?? [], of: i)
    }

    func removeRoutes(_ lines: [VirtualRoute], of i: Instance) {
        guard let table = routes.table, !lines.isEmpty else { return }
        for v in lines {
            guard let r = kernelRoute(v, owner: i.config.name) else { continue }
            do { try table.remove(r) } catch where !Self.alreadyGone(error) {
                actionFailed("route removal", "(\(i.config.name)) cannot remove route \(describe(v)): \(error)")
            } catch {}
        }
    }

    func describe(_ v: VirtualRoute) -> String {
        (v.destination.map { "\($0)/\(v.prefix)" } ?? "default") + (v.gateway.map { " via \($0)" } ?? "") + (v.device.map { " dev \($0)" } ?? "")
    }
}
