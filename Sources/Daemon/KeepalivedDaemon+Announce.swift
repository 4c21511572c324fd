#if canImport(Glibc)
import Glibc
#endif
import ConfigParsing
import Conntrack
import Netlink
import VRRP
import IPAddressing
import LinkIO
import Logging
import Timekeeping

/// What a VRRP instance sends: adverts, and GARP / unsolicited NA for its addresses.
extension KeepalivedDaemon {
    func advertise(_ i: Instance, priority: UInt8) {
        let ah = i.filter.authenticationHeader
        let advert = Advertisement(version: i.version, virtualRouterID: UInt8(i.config.virtualRouterID ?? 0), priority: priority,
                                   interval: i.intervalField, addresses: i.config.virtualAddresses.map(\.address),
                                   authenticationType: ah ? 2 : i.password == nil ? 0 : 1,
                                   authenticationData: ah ? [UInt8](repeating: 0, count: 8) : i.password ?? [UInt8](repeating: 0, count: 8))
        let targets = i.config.unicastPeers.isEmpty ? [i.multicastGroup] : i.config.unicastPeers.map(\.address)
        i.stats.sent += 1
        if priority == 0 {
            i.stats.priorityZeroSent += 1
            log("(\(i.config.name)) sent 0 priority")
        }
        for t in targets {
            let checksumDestination = i.filter.oldUnicastChecksum ? Advertisement.groupV4 : t
            var message = advert.encode(source: i.source, destination: checksumDestination)
            if ah {
                // keepalived numbers its IP IDs per instance from 1, skipping 0.
                i.identification = i.identification == UInt16.max ? 1 : i.identification + 1
                message = AuthenticationHeader.seal(vrrp: message, source: i.source, destination: t, ttl: i.config.unicastPeers.isEmpty ? 255 : i.config.unicastTTL, identification: i.identification,
                                                    sequence: i.filter.nextSequence(), key: i.password ?? [])
            }
            do { try i.socket.send(message, to: t) }
            catch { log("(\(i.config.name)) cannot send advert to \(t): \(error)") }
        }
    }

    /// GARPs for IPv4 VIPs, unsolicited NAs for IPv6 ones, garp_master_repeat rounds of each
    /// (0 rounds: none, as vrrp_min_garp's refresh repeat). With vrrp_garp_interval /
    /// vrrp_gna_interval each one asks the pacer first and may wait in its queue.
    func announce(_ i: Instance, repeats: Int? = nil) {
        let now = Instant.now()
        for _ in 0..<max(0, repeats ?? i.config.garpMasterRepeat) {
            // The excluded addresses are announced too: only the advert leaves them out.
            for v in i.config.virtualAddresses + i.config.excludedAddresses {
                let a = Announcement(owner: ObjectIdentifier(i), interface: pacingInterface(i, v), address: v.address)
                if pacer.offer(a, now: now) { send(v, of: i) }
            }
        }
    }

    /// The queued announcements whose interface is free again; an owner that is no longer
    /// MASTER sends nothing (keepalived's delayed ARP thread skips it).
    func sendQueuedAnnouncements(now: Instant) {
        guard pacer.nextDeadline.map({ $0 <= now }) == true else { return }
        func sender(_ a: Announcement) -> (Instance, KeepalivedConfiguration.VirtualAddress)? {
            guard let i = instances.first(where: { ObjectIdentifier($0) == a.owner }) else { return nil }
            return queuedAddress(a, of: i).map { (i, $0) }
        }
        for a in pacer.due(now: now, sendable: { sender($0) != nil }) {
            if let (i, v) = sender(a) { send(v, of: i) }
        }
    }

    /// garp_extra_if: one announcement per interface other than the instance's that its
    /// addresses are on (the first address there; other than use_vmac_addr's macvlans only
    /// with `all`), and with vmac_xmit_base one on its VMAC too, as keepalived's
    /// vrrp_send_vmac_update picks them; through the pacer.
    func announceOnOtherInterfaces(_ i: Instance) {
        let own = [i.config.interface, i.config.vmacName].compactMap { $0 }
        let now = Instant.now()
        var done: Set<String> = []
        for v in i.config.virtualAddresses + i.config.excludedAddresses {
            let device = (v.vmacDevice ?? v.device).flatMap { own.contains($0) ? nil : $0 }
            if device == nil && !i.config.vmacTransmitBase { continue }
            // Without `all`, only the macvlans use_vmac_addr made (keepalived's own interfaces).
            if device != nil && v.vmacDevice == nil && !i.config.garpExtraAll { continue }
            guard done.insert(device ?? "").inserted else { continue }
            let a = Announcement(owner: ObjectIdentifier(i), interface: pacingInterface(i, v), address: v.address)
            if pacer.offer(a, now: now) { send(v, of: i) }
        }
    }

    /// On the address's own interface, with that interface's MAC, as keepalived sends it:
    /// an address written with `dev` of another interface is announced there, not on the
    /// instance's.
    func send(_ v: KeepalivedConfiguration.VirtualAddress, of i: Instance) {
        let other = otherInterface(i, v)
        var sender = i.garp
        if let other {
            if i.otherSenders[other] == nil {
                do { i.otherSenders[other] = try GratuitousARPSender(interface: other) } catch {
                    actionFailed("GARP", "(\(i.config.name)) no GARP / NA socket on \(other) for \(v.address): \(error)")
                    return
                }
            }
            sender = i.otherSenders[other]
        }
        guard let sender else { return }
        do { try sender.announce(v.address, router: Self.forwardsIPv6(other ?? i.config.interface ?? "")) } catch {
            actionFailed("GARP", "(\(i.config.name)) cannot announce \(v.address): \(error)")
        }
    }

    /// The interface an address names with `dev` when it is not the one the instance's
    /// addresses live on (its VMAC with use_vmac); nil for that one.
    func otherInterface(_ i: Instance, _ v: KeepalivedConfiguration.VirtualAddress) -> String? {
        guard let device = v.vmacDevice ?? v.device, device != (i.config.vmacName ?? i.config.interface) else { return nil }
        return device
    }

    /// keepalived spaces announcements per base interface: the address's own `dev`, else
    /// the instance's interface (a VMAC counts as its base).
    func pacingInterface(_ i: Instance, _ v: KeepalivedConfiguration.VirtualAddress) -> String {
        let base = i.config.interface ?? ""
        guard let device = v.device, device != i.config.vmacName else { return base }
        return device
    }

    typealias Announcement = AnnouncementPacer<ObjectIdentifier>.Announcement

    /// The address a queued announcement is for, while its instance can still send it:
    /// MASTER, with the address still on the interface the entry was queued for.
    func queuedAddress(_ a: Announcement, of i: Instance) -> KeepalivedConfiguration.VirtualAddress? {
        guard i.machine.state == .master else { return nil }
        return (i.config.virtualAddresses + i.config.excludedAddresses).first { $0.address == a.address && pacingInterface(i, $0) == a.interface }
    }

    static func pacer(_ c: KeepalivedConfiguration) -> AnnouncementPacer<ObjectIdentifier> {
        AnnouncementPacer(garpInterval: .microseconds(c.garpInterval), gnaInterval: .microseconds(c.gnaInterval))
    }

    /// keepalived sets the NA Router flag only on an interface that forwards IPv6.
    static func forwardsIPv6(_ interface: String) -> Bool {
        // /proc/sys/net is the namespace of the reading thread, which is the daemon's.
        let fd = open("/proc/sys/net/ipv6/conf/\(interface)/forwarding", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var c: UInt8 = 0
        return read(fd, &c, 1) == 1 && c == UInt8(ascii: "1")
    }

    func vipIndex(_ i: Instance, _ v: KeepalivedConfiguration.VirtualAddress) -> UInt32 {
        (v.vmacDevice ?? v.device).flatMap(InterfaceAddresses.index(of:)) ?? i.interfaceIndex
    }
}
