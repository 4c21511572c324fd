import ConfigParsing
import IPAddressing

/// Non-accept mode on the host: a master that is not its addresses' owner puts them in
/// the nftables drop set before adding them, and takes them out after removing them, as
/// keepalived 2.2.7 does (vrrp_state_become_master, vrrp_restore_interface). A script nft
/// refuses is logged and counted ("firewall"); VRRP carries on, the addresses answer.
extension KeepalivedDaemon {
    /// The drop rules this run has put in place, by instance name: kept across reloads,
    /// which replace the instances but not the host's state.
    struct FirewallState {
        var rules: VIPFirewall
        var dropping: [String: [String]] = [:]
        var dropping6: [String: VIPFirewall.IPv6Drop] = [:]
        /// Said once: keepalived's notice that no_accept chose nftables for it.
        var announced = false
    }

    func setDropRule(of i: Instance) {
        guard i.config.dropsTrafficAsMaster, firewall.dropping[i.config.name] == nil else { return }
        if !firewall.announced && !configuration.firewall.configured {
            log("use_vmac or no_accept/strict specified, but no firewall configured - using nftables")
        }
        firewall.announced = true
        let addresses = (i.config.virtualAddresses + i.config.excludedAddresses)
            .filter { $0.address.family == AddressFamily.inet }.map { "\($0.address)" }
        let v6 = ipv6Drop(of: i)
        log("(\(i.config.name)) setting firewall drop rule")
        let before = firewall.rules
        let script = (firewall.rules.drop(addresses) ?? "") + (firewall.rules.drop6(v6) ?? "")
        guard !script.isEmpty else { return }
        if case .failure(let f) = NftCommand.run(script) {
            // Not built after all: the next attempt starts from where it stood.
            firewall.rules = before
            actionFailed("firewall", "(\(i.config.name)) cannot set the firewall drop rule: \(f)")
            return
        }
        firewall.dropping[i.config.name] = addresses
        firewall.dropping6[i.config.name] = v6
    }

    /// The instance's IPv6 addresses as non-accept mode drops them: a link-local one with
    /// its interface (its own `dev`, else the instance's, its VMAC's if it has one).
    func ipv6Drop(of i: Instance) -> VIPFirewall.IPv6Drop {
        var d = VIPFirewall.IPv6Drop()
        let own = i.config.vmacName ?? i.config.interface ?? ""
        for a in i.config.virtualAddresses + i.config.excludedAddresses where a.address.family == AddressFamily.inet6 {
            let b = a.address.bytes
            guard b[0] == 0xfe && b[1] & 0xc0 == 0x80 else { d.global.append("\(a.address)"); continue }
            let interface = a.vmacDevice ?? a.device ?? own
            let byName = !configuration.firewall.linkLocalByIndex && i.config.dontTrackPrimary && (interface == own || a.noTrack)
            d.linkLocal.append(.init(address: "\(a.address)", interface: interface, byName: byName))
        }
        return d
    }

    func removeDropRule(of i: Instance) {
        guard let addresses = firewall.dropping.removeValue(forKey: i.config.name) else { return }
        let v6 = firewall.dropping6.removeValue(forKey: i.config.name) ?? .init()
        log("(\(i.config.name)) removing firewall drop rule")
        let script = (firewall.rules.release(addresses) ?? "") + (firewall.rules.release6(v6) ?? "")
        guard !script.isEmpty else { return }
        if case .failure(let f) = NftCommand.run(script) {
            actionFailed("firewall", "(\(i.config.name)) cannot remove the firewall drop rule: \(f)")
        }
    }

    /// At exit the table goes, with whatever it still holds.
    func removeFirewall() {
        firewall.dropping.removeAll()
        firewall.dropping6.removeAll()
        guard let script = firewall.rules.teardown() else { return }
        if case .failure(let f) = NftCommand.run(script) {
            actionFailed("firewall", "cannot delete nftables table \(configuration.firewall.table): \(f)")
        }
    }
}
