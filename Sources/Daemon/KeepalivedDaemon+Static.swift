import ConfigParsing
import IPAddressing
import Netlink

/// static_ipaddress, static_routes and static_rules: the host's own addresses, routes and
/// rules keepalived keeps whatever the VRRP state. At start an earlier run's are cleared
/// and they go in; at stop they come out (rules, routes, then addresses, as keepalived
/// orders it); a reload removes the ones no longer configured and adds the new ones.
extension KeepalivedDaemon {
    func installStatics() {
        let c = configuration
        guard !c.staticAddresses.isEmpty || !c.staticRoutes.isEmpty || !c.staticRules.isEmpty else { return }
        removeStatics(addresses: c.staticAddresses, routes: c.staticRoutes, rules: c.staticRules)
        addStatics(addresses: c.staticAddresses, routes: c.staticRoutes, rules: c.staticRules)
    }

    func clearStatics() {
        let c = configuration
        removeStatics(addresses: c.staticAddresses, routes: c.staticRoutes, rules: c.staticRules)
    }

    func reloadStatics(from old: KeepalivedConfiguration, to new: KeepalivedConfiguration) {
        removeStatics(addresses: old.staticAddresses.filter { !new.staticAddresses.contains($0) },
                      routes: old.staticRoutes.filter { !new.staticRoutes.contains($0) },
                      rules: old.staticRules.filter { !new.staticRules.contains($0) })
        addStatics(addresses: new.staticAddresses.filter { !old.staticAddresses.contains($0) },
                   routes: new.staticRoutes.filter { !old.staticRoutes.contains($0) },
                   rules: new.staticRules.filter { !old.staticRules.contains($0) })
    }

    func addStatics(addresses list: [KeepalivedConfiguration.VirtualAddress], routes lines: [VirtualRoute], rules ruleLines: [VirtualRule]) {
        for v in list {
            guard let index = staticIndex(v) else { continue }
            do {
                try addAddress(v, interface: index)
            } catch {
                actionFailed("static address", "cannot add static address \(v.address) dev \(v.device ?? "?"): \(error)")
            }
        }
        for v in lines {
            guard let table = routes.table else { actionFailed("static route", "static routes cannot be added: no route socket"); break }
            guard let r = kernelRoute(v, owner: "static") else { continue }
            do { try table.add(r) } catch { actionFailed("static route", "cannot add static route \(describe(v)): \(error)") }
        }
        addRules(ruleLines, owner: "static_rules: ")
    }

    func removeStatics(addresses list: [KeepalivedConfiguration.VirtualAddress], routes lines: [VirtualRoute], rules ruleLines: [VirtualRule]) {
        removeRules(ruleLines, owner: "static_rules: ")
        if let table = routes.table {
            for v in lines {
                guard let r = kernelRoute(v, owner: "static") else { continue }
                do { try table.remove(r) } catch where !Self.alreadyGone(error) {
                    actionFailed("route removal", "cannot remove static route \(describe(v)): \(error)")
                } catch {}
            }
        }
        for v in list {
            // A missing interface is reported when the address is added.
            guard let index = InterfaceAddresses.index(of: v.device ?? "") else { continue }
            do { try removeAddress(v, interface: index) } catch where !Self.alreadyGone(error) {
                actionFailed("address removal", "cannot remove static address \(v.address): \(error)")
            } catch {}
        }
    }

    func staticIndex(_ v: KeepalivedConfiguration.VirtualAddress) -> UInt32? {
        let name = v.device ?? ""
        guard let index = InterfaceAddresses.index(of: name) else {
            actionFailed("static address", "static address \(v.address): no interface \(name)")
            return nil
        }
        return index
    }
}
