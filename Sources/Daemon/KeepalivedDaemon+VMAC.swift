#if canImport(Glibc)
import Glibc
#endif
import ConfigParsing
import Netlink

/// use_vmac as keepalived 2.2.7 builds it (vrrp_vmac.c, vrrp_if_config.c): a private-mode
/// macvlan with the VRRP MAC on the instance's interface, without IPv6 (no link-local of
/// its own), the sysctls that keep ARP answers for the VIPs on it alone, and nftables'
/// IGMP rule that sends the macvlan's membership reports out of the base interface. The
/// VIPs and GARPs are on the macvlan, and the adverts too unless vmac_xmit_base. With
/// use_vmac_addr, an address on another interface gets such a macvlan of that interface.
extension KeepalivedDaemon {
    struct VMACLinks {
        var links: Links?
        /// The macvlans this run made, by name: deleted at exit.
        var created: [String: UInt32] = [:]
    }

    /// Before the instance's sockets open: the macvlan exists and is up. A failure is
    /// logged and counted; the instance then fails to start on the missing interface.
    func prepareVMAC(_ ic: KeepalivedConfiguration.Instance) {
        if let name = ic.vmacName, let base = ic.interface { prepareMacvlan(name, on: base, of: ic, igmp: true, existing: ic.existingVMAC) }
        // use_vmac_addr's: keepalived adds no IGMP rule for these.
        for m in ic.addressVMACs {
            prepareMacvlan(m.name, on: m.base, of: ic, igmp: false, existing: ic.existingAddressVMACs.contains(m.name) ? .matching : nil)
        }
    }

    /// `existing`: what the configuration found under that name when it was read (see
    /// KeepalivedConfigParser.placeVMAC): an earlier run's VMAC is used as it is, an
    /// incompatible macvlan replaced; anything else of that name was steered clear of.
    /// "As it is" is keepalived 2.2.7's: vrrp_complete_instance marks a found VMAC up and
    /// so never calls netlink_link_add_vmac on it. It is not brought up, its sysctls and
    /// address generation are left alone and no IGMP rule is added; found down, the
    /// instance tracking it goes FAULT until someone brings it up. Still deleted at exit.
    func prepareMacvlan(_ name: String, on base: String, of ic: KeepalivedConfiguration.Instance, igmp: Bool,
                        existing: KeepalivedConfiguration.ExistingVMAC?) {
        guard vmacs.created[name] == nil, let parent = InterfaceAddresses.index(of: base) else { return }
        if vmacs.links == nil {
            do { vmacs.links = try Links() } catch { actionFailed("VMAC", "(\(ic.name)) no link socket for \(name): \(error)"); return }
        }
        guard let links = vmacs.links else { return }
        if existing == .incompatible, let old = InterfaceAddresses.index(of: name) {
            do {
                try links.remove(index: old)
                log("(\(ic.name)) Removing old VMAC interface \(name) due to conflicting interface")
            } catch {
                actionFailed("VMAC", "(\(ic.name)) Error removing VMAC interface \(name): \(error)")
                return
            }
        }
        if existing == .matching, let index = InterfaceAddresses.index(of: name) {
            vmacs.created[name] = index
            return
        }
        do {
            try links.addMacvlan(name: name, parent: parent, mac: ic.vmacAddress, mode: Links.macvlanPrivate)
            log("(\(ic.name)): Success creating VMAC interface \(name)")
        } catch {
            // EEXIST here: a link of that name appeared after the file was read. It is
            // not ours, so it is neither used nor removed at exit.
            actionFailed("VMAC", "(\(ic.name)) cannot create VMAC interface \(name): \(error)")
            return
        }
        guard let index = InterfaceAddresses.index(of: name) else { return }
        vmacs.created[name] = index
        do { try links.disableAddressGeneration(index: index) } catch {
            actionFailed("VMAC", "(\(ic.name)) cannot stop IPv6 address generation on \(name): \(error)")
        }
        setSysctl("ipv6/conf/\(name)/disable_ipv6", 1, owner: ic.name)
        for (key, value) in [("arp_ignore", 1), ("arp_filter", 1)] { setSysctl("ipv4/conf/\(base)/\(key)", value, owner: ic.name) }
        for (key, value) in [("arp_ignore", 1), ("accept_local", 1), ("rp_filter", 0), ("promote_secondaries", 1)] {
            setSysctl("ipv4/conf/\(name)/\(key)", value, owner: ic.name)
        }
        if igmp, let script = firewall.rules.routeIGMP(vmac: name, base: base), case .failure(let f) = NftCommand.run(script) {
            actionFailed("firewall", "(\(ic.name)) cannot add the IGMP rule for \(name): \(f)")
        }
    }

    func setSysctl(_ key: String, _ value: Int, owner: String) {
        let path = "/proc/sys/net/" + key
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { actionFailed("sysctl", "(\(owner)) cannot open \(path): \(String(cString: strerror(errno)))"); return }
        defer { close(fd) }
        let text = Array("\(value)\n".utf8)
        if text.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) != text.count {
            actionFailed("sysctl", "(\(owner)) cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// At exit the macvlans go, as keepalived removes its own.
    func removeVMACs() {
        guard let links = vmacs.links else { return }
        for (name, index) in vmacs.created.sorted(by: { $0.key < $1.key }) {
            do {
                try links.remove(index: index)
                log("Success removing VMAC interface \(name)")
            } catch where Self.alreadyGone(error) || (error as? NetlinkKernelError)?.errno == ENODEV {
            } catch {
                actionFailed("VMAC", "cannot remove VMAC interface \(name): \(error)")
            }
        }
        vmacs.created.removeAll()
    }
}
