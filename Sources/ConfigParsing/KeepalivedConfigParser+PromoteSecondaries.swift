/// promote_secondaries beside use_vmac: keepalived 2.2.7's vrrp_complete_instance says so
/// and drops the word (a configuration error, so `-t` exits 5), since the macvlan it makes
/// gets the sysctl anyway (KeepalivedDaemon+VMAC).
extension KeepalivedConfigParser {
    mutating func dropPromoteSecondariesOnVMACs() {
        for n in config.instances.indices where config.instances[n].promoteSecondaries && config.instances[n].vmacName != nil {
            let v = config.instances[n]
            let at = Token(kind: .word, text: "promote_secondaries", location: v.promoteSecondariesLocation ?? v.location, startsLine: true)
            tolerate("(\(v.name)) promote_secondaries is automatically set for vmacs - ignoring", at)
            config.instances[n].promoteSecondaries = false
        }
    }
}
