#if canImport(Glibc)
import Glibc
#endif
import ConfigParsing
import IPAddressing
import Netlink

/// use_vmac as keepalived 2.2.7 builds it (vrrp_vmac.c, vrrp_if_config.c): a private-mode
/// macvlan with the VRRP MAC on the instance's interface. For IPv4: without IPv6 (no
/// link-local of its own), the sysctls that keep ARP answers for the VIPs on it alone, and
/// nftables' IGMP rule that sends the macvlan's membership reports out of the base
/// interface; for IPv6: its interface's link-local and the MLD rules. The VIPs and GARPs
/// (NAs) are on the macvlan, and the adverts too unless vmac_xmit_base. With
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
        if let name = ic.vmacName, let base = ic.interface {
            prepareMacvlan(name, on: base, of: ic, family: ic.family, igmp: true, existing: ic.existingVMAC)
        }
        // use_vmac_addr's: keepalived adds no IGMP or MLD rule for these.
        for m in ic.addressVMACs {
            prepareMacvlan(m.name, on: m.base, of: ic, family: m.family, igmp: false,
                           existing: ic.existingAddressVMACs.contains(m.name) ? .matching : nil)
        }
    }

    /// `existing`: what the configuration found under that name when it was read (see
    /// KeepalivedConfigParser.placeVMAC): an earlier run's VMAC is used as it is, an
    /// incompatible macvlan replaced; anything else of that name was steered clear of.
    /// "As it is" is keepalived 2.2.7's: vrrp_complete_instance marks a found VMAC up and
    /// so never calls netlink_link_add_vmac on it. It is not brought up, its sysctls and
    /// address generation are left alone and no IGMP rule is added; found down, the
    /// instance tracking it goes FAULT until someone brings it up. Still deleted at exit.
    func prepareMacvlan(_ name: String, on base: String, of ic: KeepalivedConfiguration.Instance, family: UInt8, igmp: Bool,
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
        let ipv6 = family == AddressFamily.inet6
        do {
            // An IPv6 one is made down: up before address generation is off, it would get
            // a link-local of its own from the VRRP MAC (keepalived ups it afterwards too).
            try links.addMacvlan(name: name, parent: parent, mac: ic.vmacAddress(for: family), mode: Links.macvlanPrivate, up: !ipv6)
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
        if ipv6 {
            prepareIPv6VMAC(name, index: index, on: base, of: ic, own: igmp, links: links)
            return
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

    /// keepalived 2.2.7's netlink_link_add_vmac for an IPv6 VMAC: IPv6 left on, none of
    /// the IPv4 ARP sysctls, the link up, then a link-local added without DAD and
    /// deprecated as keepalived's add_link_local_address adds it: on the instance's own
    /// (`own`), unless the adverts leave from the base, the source they come from (the
    /// configured one, else the interface's link-local), with MLD and router solicitations
    /// through the `ip6` table; on a use_vmac_addr one, its interface's link-local only.
    func prepareIPv6VMAC(_ name: String, index: UInt32, on base: String, of ic: KeepalivedConfiguration.Instance, own: Bool, links: Links) {
        setSysctl("ipv6/conf/\(name)/disable_ipv6", 0, owner: ic.name)
        do { try links.setUp(index: index) } catch { actionFailed("VMAC", "(\(ic.name)) cannot bring VMAC interface \(name) up: \(error)") }
        if !own || !ic.vmacTransmitBase {
            let configured = own ? [ic.unicastSource, ic.multicastSource].compactMap { $0 }.first { $0.family == AddressFamily.inet6 } : nil
            if let source = configured ?? Self.linkLocalAddress(of: base) {
                do {
                    try addresses.add(source.bytes, prefix: 64, interface: index, flags: AddressFlags.noDAD.rawValue, preferredLifetime: 0)
                } catch {
                    actionFailed("VMAC", "(\(ic.name)) adding link-local address to \(name) failed: \(error)")
                }
            } else {
                actionFailed("VMAC", "(\(ic.name)) adding link-local address to \(name) failed: no IPv6 link-local on \(base)")
            }
        }
        if own, let script = firewall.rules.routeMLD(vmac: name, base: base), case .failure(let f) = NftCommand.run(script) {
            actionFailed("firewall", "(\(ic.name)) cannot add the MLD rules for \(name): \(f)")
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
