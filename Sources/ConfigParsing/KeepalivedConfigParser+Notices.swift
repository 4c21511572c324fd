/// global_defs options that change what keepalived 2.2.7 tells the operator
/// (global_parser.c): vrrp_notify_priority_changes, fifo_write_vrrp_states_on_reload and
/// log_unknown_vrids.
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
}
