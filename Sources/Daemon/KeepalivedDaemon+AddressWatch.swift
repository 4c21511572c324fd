import ConfigParsing
import IPAddressing
import Timekeeping

/// keepalived 2.2.7's netlink reflector on RTM_DELADDR (keepalived_netlink.c
/// address_is_ours): a MASTER whose virtual or excluded address is deleted under it falls
/// to BACKUP, so that the election puts the address back; an address written `no_track`
/// is let go. Only the first MASTER instance holding the address is looked at, as there.
extension KeepalivedDaemon {
    func addressesDeleted(_ deleted: [LinkMonitor.DeletedAddress], now: Instant) {
        for d in deleted {
            guard let address = IPAddress(bytes: d.address[...]) else { continue }
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
