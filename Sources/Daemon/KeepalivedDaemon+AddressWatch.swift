#if canImport(Glibc)
import Glibc
#endif
import ConfigParsing
import IPAddressing
import Netlink
import Timekeeping

/// keepalived 2.2.7's netlink reflector on RTM_DELADDR (keepalived_netlink.c
/// address_is_ours): a MASTER whose virtual or excluded address is deleted under it falls
/// to BACKUP, so that the election puts the address back; an address written `no_track`
/// is let go. Only the first MASTER instance holding the address is looked at, as there.
/// A static_ipaddress deleted is put back at once whatever the VRRP state, unless written
/// `no_track` (the same handler's static_addresses walk, reinstate_static_address).
extension KeepalivedDaemon {
    func addressesDeleted(_ deleted: [LinkMonitor.DeletedAddress], now: Instant) {
        for d in deleted {
            guard let address = IPAddress(bytes: d.address[...]) else { continue }
            restoreStatic(address, interface: d.interface)
            for i in instances where i.machine.state == .master {
                guard let v = (i.config.virtualAddresses + i.config.excludedAddresses)
                    .first(where: { $0.address == address && vipIndex(i, $0) == d.interface }) else { continue }
                // A reload's own removal of a changed address is no loss.
                if let own = i.ownRemovals.firstIndex(of: address) {
                    i.ownRemovals.remove(at: own)
                    break
                }
                if !v.noTrack {
                    log("(\(i.config.name)) virtual address \(address) was deleted")
                    perform(i, i.machine.forceBackup(now: now))
                }
                break
            }
        }
    }
}

extension KeepalivedDaemon {
    /// The first static address not written `no_track` matching the deleted one (address
    /// and interface) is added again, with keepalived's log line. Already there again (the
    /// event of start-up's own clearing of an earlier run's copy): nothing was lost.
    func restoreStatic(_ address: IPAddress, interface: UInt32) {
        guard let v = configuration.staticAddresses.first(where: {
            !$0.noTrack && $0.address == address && InterfaceAddresses.index(of: $0.device ?? "") == interface
        }) else { return }
        do {
            try addAddress(v, interface: interface)
            log("Restoring deleted static address \(Self.staticText(v)) set")
        } catch let e as NetlinkKernelError where e.errno == EEXIST {
        } catch {
            actionFailed("static address", "cannot restore deleted static address \(Self.staticText(v)): \(error)")
        }
    }

    /// keepalived's format_ipaddress for a static address: a host prefix is not written.
    static func staticText(_ v: KeepalivedConfiguration.VirtualAddress) -> String {
        let full = v.address.family == AddressFamily.inet ? 32 : 128
        return "\(v.address)\(v.prefix == full ? "" : "/\(v.prefix)") dev \(v.device ?? "") scope \(v.scope ?? "global")"
            + (v.trackGroup.map { " track_group \($0)" } ?? "")
    }
}

extension KeepalivedDaemon {
    /// A MASTER's tracked virtual route or rule deleted (DeletedVirtualRoutes): the first
    /// instance whose route or rule it is falls to BACKUP, as keepalived's set_vrrp_backup.
    func virtualRoutesDeleted(_ deleted: [LinkMonitor.DeletedRoute], rules deletedRules: [Rules.Rule], now: Instant) {
        for d in deleted {
            for i in instances {
                guard let v = (routes.byInstance[i.config.name] ?? []).first(where: {
                    DeletedVirtualRoutes.matches($0, d, index: InterfaceAddresses.index(of:))
                }) else { continue }
                if v.tracked && i.machine.state == .master {
                    log("(\(i.config.name)) virtual route \(describe(v)) was deleted")
                    perform(i, i.machine.forceBackup(now: now))
                }
                break
            }
        }
        for r in deletedRules {
            for i in instances {
                guard let v = i.config.virtualRules.first(where: { $0.tracked && DeletedVirtualRoutes.matches(Self.kernelRule($0), r) }) else { continue }
                if i.machine.state == .master {
                    log("(\(i.config.name)) virtual rule \(Self.describe(v)) was deleted")
                    perform(i, i.machine.forceBackup(now: now))
                }
                break
            }
        }
    }
}
