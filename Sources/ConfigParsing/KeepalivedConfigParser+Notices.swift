/// Options that change what keepalived 2.2.7 tells the operator (global_parser.c,
/// vrrp_parser.c): vrrp_notify_priority_changes (and an instance's or sync group's
/// notify_priority_changes), fifo_write_vrrp_states_on_reload and log_unknown_vrids.
extension KeepalivedConfigParser {
    /// False for any other keyword.
    mutating func globalNotice(_ n: Node) -> Bool {
        switch n.keyword.text {
        case "vrrp_notify_priority_changes":
            // No value: on, as keepalived reads it.
            guard let word = n.arguments.first else { config.notifyPriorityChanges = true; return true }
            guard let on = Self.trueFalse(word.text) else {
                error("Invalid value '\(word.text)' for global vrrp_notify_priority_changes specified", word)
                return true
            }
            config.notifyPriorityChanges = on
        case "fifo_write_vrrp_states_on_reload": config.fifoWriteStatesOnReload = true
        case "log_unknown_vrids": config.logUnknownVRIDs = true
        default: return false
        }
        return true
    }

    /// notify_priority_changes `[true|false]` of an instance or sync group (`owner` its
    /// name); nil for a bad value, which keepalived reports and ignores.
    mutating func notifyPriorityChanges(_ c: Node, owner: String, group: Bool) -> Bool? {
        guard let word = c.arguments.first else { return true }
        guard let on = Self.trueFalse(word.text) else {
            error("(\(owner)) Invalid value '\(word.text)' for \(group ? "sync group " : "")notify_priority_changes specified", word)
            return nil
        }
        return on
    }

    /// Once the file is read (keepalived's vrrp_complete_instance): an instance without its
    /// own setting takes its sync group's, else the global one.
    mutating func resolveNotifyPriorityChanges() {
        for n in config.instances.indices where config.instances[n].notifyPriorityChanges == nil {
            let name = config.instances[n].name
            let group = config.syncGroups.first { $0.members.contains(name) }
            config.instances[n].notifyPriorityChanges = group?.notifyPriorityChanges ?? config.notifyPriorityChanges
        }
    }
}
