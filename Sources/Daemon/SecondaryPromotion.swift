/// promote_secondaries as keepalived 2.2.7 keeps it (vrrp.c's vrrp_complete_instance and
/// shutdown_vrrp_instances, vrrp_if_config.c): an interface named by an instance with the
/// keyword gets net.ipv4.conf.IF.promote_secondaries = 1 when it reads 0, so deleting the
/// primary address of a subnet promotes a secondary instead of taking it along. Only the
/// interfaces this run turned on are turned off again, at exit; one already on is left as
/// found. A reload that adds the keyword turns it on; one that removes it leaves it on
/// until exit, as keepalived's per-interface counter does.
struct SecondaryPromotion: Equatable {
    /// The interfaces this run turned on, in that order.
    private(set) var raised: [String] = []

    /// The interfaces to turn on, from those that want it and what each reads now (nil:
    /// no such interface, which keepalived skips as it skips an interface with no index).
    mutating func want(_ interfaces: [String], reading: (String) -> Int?) -> [String] {
        var turnOn: [String] = []
        for name in interfaces where !raised.contains(name) && !turnOn.contains(name) {
            guard reading(name) == 0 else { continue }
            turnOn.append(name)
        }
        raised += turnOn
        return turnOn
    }

    /// At exit: every interface this run turned on, to be turned off.
    mutating func release() -> [String] {
        defer { raised.removeAll() }
        return raised
    }
}
