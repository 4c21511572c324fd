#if canImport(Glibc)
import Glibc
#endif
import Netlink

/// What the VRRP side could not do to the host (remove an address or a route, send a GARP,
/// open the route or link socket): logged with its cause and counted by action, never
/// swallowed. A removal that finds the address or route already gone is not a failure.
extension KeepalivedDaemon {
    func actionFailed(_ action: String, _ detail: String) {
        actionFailures[action, default: 0] += 1
        log(detail)
    }

    /// Whether `error` only says the thing to remove is not there (EADDRNOTAVAIL, ESRCH, ENOENT).
    static func alreadyGone(_ error: Error) -> Bool {
        guard let e = error as? NetlinkKernelError else { return false }
        return e.errno == EADDRNOTAVAIL || e.errno == ESRCH || e.errno == ENOENT
    }

    /// "3 GARP, 1 address removal", for `tandem status`.
    var actionFailuresText: String? {
        guard !actionFailures.isEmpty else { return nil }
        return actionFailures.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
    }

    /// An earlier run's addresses go first, as keepalived's do; usually there are none.
    /// Its virtual rules too: a master that died leaves them, and an instance starting as
    /// BACKUP must not route by them (a rule that is not there is no failure).
    func removeStaleAddresses(of i: Instance) {
        removeRules(of: i)
        removeAddresses(of: i, stale: true)
    }

    /// Takes the instance's virtual addresses off its interfaces.
    func removeAddresses(of i: Instance, stale: Bool = false) {
        for v in i.config.virtualAddresses + i.config.excludedAddresses {
            do { try removeAddress(v, interface: vipIndex(i, v)) } catch where !Self.alreadyGone(error) {
                actionFailed("address removal", "(\(i.config.name)) cannot remove \(stale ? "the stale address " : "")\(v.address): \(error)")
            } catch {}
        }
    }
}
