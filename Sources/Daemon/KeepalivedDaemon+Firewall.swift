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
        log("(\(i.config.name)) setting firewall drop rule")
        let wasBuilt = firewall.rules.built
        guard let script = firewall.rules.drop(addresses) else { return }
        if case .failure(let f) = NftCommand.run(script) {
            // Not built after all: the next attempt starts from the table again.
            if !wasBuilt { _ = firewall.rules.teardown() }
            actionFailed("firewall", "(\(i.config.name)) cannot set the firewall drop rule: \(f)")
            return
        }
        firewall.dropping[i.config.name] = addresses
    }

    func removeDropRule(of i: Instance) {
        guard let addresses = firewall.dropping.removeValue(forKey: i.config.name) else { return }
        log("(\(i.config.name)) removing firewall drop rule")
        guard let script = firewall.rules.release(addresses) else { return }
        if case .failure(let f) = NftCommand.run(script) {
            actionFailed("firewall", "(\(i.config.name)) cannot remove the firewall drop rule: \(f)")
        }
    }

    /// At exit the table goes, with whatever it still holds.
    func removeFirewall() {
        firewall.dropping.removeAll()
        guard let script = firewall.rules.teardown() else { return }
        if case .failure(let f) = NftCommand.run(script) {
            actionFailed("firewall", "cannot delete nftables table \(configuration.firewall.table): \(f)")
        }
    }
}
