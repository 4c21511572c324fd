import IPAddressing
import Netlink

/// keepalived 2.2.7's use_vmac (vrrp_parser.c, vrrp.c): the instance moves onto a macvlan
/// of its interface that carries the VRRP MAC, or the MAC written, named vrrp.VRID unless
/// a name is given; and use_vmac_addr, which gives its addresses on other interfaces
/// macvlans of their own.
extension KeepalivedConfigParser {
    mutating func useVMAC(_ c: Node, into v: inout KeepalivedConfiguration.Instance) {
        v.vmacName = ""
        v.vmacLocation = c.keyword.location
        var sawMAC = false
        for a in c.arguments {
            if a.text.contains(":") {
                // keepalived reads the first word with a colon as the MAC and passes over
                // any later one without a word; Tandem says so.
                guard !sawMAC else {
                    tolerate("(\(v.name)) use_vmac: MAC address already specified - ignoring \(a.text)", a)
                    continue
                }
                sawMAC = true
                switch Self.vmacMAC(a.text) {
                case nil: tolerate("VMAC invalid MAC address \(a.text)", a)
                case let mac? where mac[0] & 1 != 0: tolerate("VMAC MAC address is multicast \(a.text) - ignoring", a)
                case let mac? where mac.starts(with: [0x00, 0x00, 0x5e, 0x00]) && (mac[4] == 1 || mac[4] == 2):
                    tolerate("VMAC MAC address not allowed to be RFC5798 address (\(a.text)) - ignoring", a)
                case let mac?: v.vmacOwnMAC = mac
                }
            } else if v.vmacName?.isEmpty == false {
                tolerate("VMAC interface name already specified", a)
            } else if !Self.deviceNameValid(a.text) {
                tolerate("VMAC interface name '\(a.text)' too long or invalid characters - ignoring", a)
            } else if let other = config.instances.first(where: { $0.vmacName == a.text }) {
                tolerate("(\(v.name)) VRRP instance \(other.name) is already using \(a.text) - ignoring name", a)
            } else if let link = link(named: a.text, at: a), !link.isPrivateMacvlan {
                // keepalived takes over only what could be its own; the default name is used instead.
                tolerate("(\(v.name)) interface \(a.text) already exists and is not a private macvlan; ignoring vmac if_name", a)
            } else {
                v.vmacName = a.text
            }
        }
    }

    /// use_vmac's MAC as keepalived 2.2.7 reads it: six octets of one or two hex digits
    /// each, or five (a trailing colon allowed) that the VRID completes; nil otherwise.
    static func vmacMAC(_ text: String) -> [UInt8]? {
        var words = text.split(separator: ":", omittingEmptySubsequences: false)
        if words.count == 6 && words[5].isEmpty { words.removeLast() }
        guard words.count == 5 || words.count == 6 else { return nil }
        var mac: [UInt8] = []
        for w in words {
            guard (1...2).contains(w.utf8.count), let b = UInt8(w, radix: 16) else { return nil }
            mac.append(b)
        }
        return mac
    }

    /// The kernel's dev_name_valid, which keepalived applies to a VMAC's name.
    static func deviceNameValid(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count < 16 && name != "." && name != ".."
            && !name.unicodeScalars.contains { $0 == "/" || $0 == ":" || $0.properties.isWhitespace }
    }

    /// keepalived's ipaddresstos: a host prefix is not written.
    static func addressText(_ a: KeepalivedConfiguration.VirtualAddress) -> String {
        "\(a.address)\(a.prefix == (a.address.family == AddressFamily.inet ? 32 : 128) ? "" : "/\(a.prefix)")"
    }

    /// keepalived 2.2.7's default link source: this namespace's links.
    public static func hostLinks() throws -> [LinkDescription] { try Links().all() }

    /// The host's links, listed once. A listing that fails is a warning at the first
    /// `use_vmac` that needed it, and the names are then chosen as if no link existed.
    mutating func links(at t: Token) -> [LinkDescription] {
        if let knownLinks { return knownLinks }
        do {
            knownLinks = try linkSource()
        } catch {
            warn("cannot list this host's links (\(error)): VMAC names are chosen as if none existed", t)
            knownLinks = []
        }
        return knownLinks ?? []
    }

    mutating func link(named name: String, at t: Token) -> LinkDescription? { links(at: t).first { $0.name == name } }

    /// vrrp_complete_instance on a use_vmac instance's name, against the links there: a
    /// private macvlan on its interface with its VRRP MAC is taken over whatever its name;
    /// else a macvlan of the written name is replaced; else, unnamed, the default name
    /// skips every name in use, a link's included.
    mutating func placeVMAC(_ v: inout KeepalivedConfiguration.Instance, taken: Set<String>) {
        guard let written = v.vmacName, let location = v.vmacLocation else { return }
        let at = Token(kind: .word, text: "use_vmac", location: location, startsLine: true)
        let base = v.interface.flatMap { link(named: $0, at: at) }?.index
        if let base, let match = links(at: at).first(where: {
            $0.isPrivateMacvlan && $0.parent == base && $0.address == v.vmacAddress && ($0.name == written || !taken.contains($0.name))
        }) {
            warn("(\(v.name)) Found matching interface \(match.name)", at)
            if !written.isEmpty && written != match.name {
                warn("(\(v.name)) vmac name mismatch \(written) <=> \(match.name). changing to \(match.name).", at)
            }
            v.vmacName = match.name
            v.existingVMAC = .matching
        } else if !written.isEmpty, link(named: written, at: at) != nil {
            warn("(\(v.name)) VMAC \(written) already exists but is incompatible. It will be deleted/updated", at)
            v.existingVMAC = .incompatible
        } else if written.isEmpty {
            v.vmacName = Self.vmacName(prefix: config.vmacPrefix ?? "vrrp", vrid: v.virtualRouterID ?? 0, taken: taken.union(links(at: at).map(\.name)))
        }
    }

    /// Once the instance is read: where its addresses go, and what Tandem does not build.
    mutating func resolveVMAC(_ v: inout KeepalivedConfiguration.Instance) {
        guard v.vmacName != nil, let location = v.vmacLocation else { return }
        let at = Token(kind: .word, text: "use_vmac", location: location, startsLine: true)
        // keepalived 2.2.7 (vrrp_complete_instance): unicast adverts leave from the base
        // interface, whose address the peers send to; the VMAC holds only the addresses.
        if !v.unicastPeers.isEmpty && !v.vmacTransmitBase {
            tolerate("(\(v.name)) unicast with use_vmac requires vmac_xmit_base - setting", at)
            v.vmacTransmitBase = true
        }
        v.virtualAddresses = v.virtualAddresses.map { onVMAC($0, of: v) }
        v.excludedAddresses = v.excludedAddresses.map { onVMAC($0, of: v) }
    }

    /// Where keepalived 2.2.7 puts an address of a use_vmac instance (vrrp.c, the VIP
    /// checks of vrrp_complete_instance): one without `dev`, or with `dev` of the
    /// instance's own interface, goes on the VMAC (no device: the instance's home) when it
    /// is of the instance's family, else on the base interface itself; one naming another
    /// interface stays there.
    func onVMAC(_ a: KeepalivedConfiguration.VirtualAddress, of v: KeepalivedConfiguration.Instance) -> KeepalivedConfiguration.VirtualAddress {
        guard a.device == nil || a.device == v.interface else { return a }
        var moved = a
        moved.device = a.address.family == v.family ? nil : v.interface
        return moved
    }

    /// keepalived's create_vmac_name: PREFIX.VRID, else PREFIX1.VRID, PREFIX2.VRID... until
    /// one is free; the prefix gives way to keep the name within IFNAMSIZ.
    static func vmacName(prefix: String, vrid: Int, taken: Set<String>) -> String {
        var number = 0
        while true {
            let tail = (number == 0 ? "" : String(number)) + ".\(vrid)"
            let name = String(decoding: prefix.utf8.prefix(max(0, 15 - tail.utf8.count)), as: UTF8.self) + tail
            if !taken.contains(name) { return name }
            number += 1
        }
    }

    /// Once every instance is read, as keepalived's vrrp_complete_instance does in order:
    /// each use_vmac instance without a name of its own gets one, then each use_vmac_addr
    /// address off the instance's interface (or of the other family) a macvlan of the
    /// interface it names, one per interface, VRID and family, shared by the addresses there.
    mutating func nameVMACs() {
        var taken = Set(config.instances.compactMap(\.vmacName).filter { !$0.isEmpty })
        var made: [String: String] = [:]
        for n in config.instances.indices {
            var v = config.instances[n]
            let vrid = v.virtualRouterID ?? 0
            placeVMAC(&v, taken: taken)
            if let name = v.vmacName { taken.insert(name) }
            let family = v.family
            let interface = v.interface
            let fallback = v.vmacForAddressesLocation ?? v.location
            let (name, onVMAC, forAddresses) = (v.name, v.vmacName != nil, v.vmacForAddresses)
            let macs = [AddressFamily.inet: v.vmacAddress(for: AddressFamily.inet), AddressFamily.inet6: v.vmacAddress(for: AddressFamily.inet6)]
            var existing = Set<String>()
            func place(_ a: inout KeepalivedConfiguration.VirtualAddress) {
                let own = a.device == nil || a.device == interface
                let at = Token(kind: .word, text: a.useVMAC ? "use_vmac" : "use_vmac_addr", location: a.useVMACAt.location ?? fallback,
                               startsLine: false)
                // keepalived's checks of an address's own use_vmac: on the instance's VMAC it
                // is said and dropped; covered by use_vmac_addr it is said and dropped.
                var wants = forAddresses && !(own && a.address.family == family)
                if a.useVMAC {
                    let text = Self.addressText(a)
                    if own && onVMAC && a.address.family == family {
                        tolerate("(\(name)) use_vmac specified for VIP/eVIP \(text) and vrrp instance", at)
                        a.useVMAC = false
                    } else if wants {
                        tolerate("(\(name)) use_vmac_addr specified and use_vmac specified for VIP/eVIP \(text)", at)
                        a.useVMAC = false
                    } else {
                        wants = true
                    }
                }
                guard wants, let base = a.device ?? interface else { return }
                // One per interface, VRID and family: an IPv6 one has its own VRRP MAC.
                let key = "\(base) \(vrid) \(a.address.family)"
                let macvlan: String
                if let known = made[key] {
                    macvlan = known
                } else if let leftover = leftoverVMAC(on: base, mac: macs[a.address.family] ?? [], at: at) {
                    macvlan = leftover
                    existing.insert(leftover)
                } else {
                    macvlan = Self.vmacName(prefix: config.vmacAddressPrefix ?? config.vmacPrefix ?? "vrrp", vrid: vrid,
                                            taken: taken.union(links(at: at).map(\.name)))
                }
                made[key] = macvlan
                taken.insert(macvlan)
                a.device = base
                a.vmacDevice = macvlan
            }
            for i in v.virtualAddresses.indices { place(&v.virtualAddresses[i]) }
            for i in v.excludedAddresses.indices { place(&v.excludedAddresses[i]) }
            v.existingAddressVMACs = existing
            config.instances[n] = v
        }
    }

    /// keepalived 2.2.7's if_get_by_vmac for a use_vmac_addr address: the first private
    /// macvlan on `base` carrying the VRRP MAC, whatever its name, is an earlier run's and
    /// is used rather than a new one made beside it.
    mutating func leftoverVMAC(on base: String, mac: [UInt8], at t: Token) -> String? {
        guard let parent = link(named: base, at: t)?.index else { return nil }
        return links(at: t).first { $0.isPrivateMacvlan && $0.parent == parent && $0.address == mac }?.name
    }

    /// global_defs' vmac_prefix / vmac_addr_prefix: the first one written counts, as in
    /// keepalived, which reports the others.
    mutating func vmacPrefix(_ n: Node) -> Bool {
        let keyword = n.keyword.text
        guard keyword == "vmac_prefix" || keyword == "vmac_addr_prefix" else { return false }
        guard let prefix = n.arguments.first else { error("`\(keyword)' needs a prefix", n.keyword); return true }
        if keyword == "vmac_prefix" {
            if config.vmacPrefix != nil { error("vmac prefix has already been specified - ignoring \(prefix.text)", prefix); return true }
            config.vmacPrefix = prefix.text
        } else {
            if config.vmacAddressPrefix != nil { error("vmac_addr prefix has already been specified - ignoring \(prefix.text)", prefix); return true }
            config.vmacAddressPrefix = prefix.text
        }
        return true
    }
}
