import IPAddressing

/// keepalived 2.2.7's strict mode (vrrp.c, vrrp_complete_instance): an instance's
/// strict_mode, else global_defs' vrrp_strict, makes it keep to RFC 5798. keepalived
/// reports what breaks the RFC and repairs it, or drops the instance; and it answers no
/// lower-priority master. Without `accept`, a strict non-owner also drops traffic to its
/// addresses through keepalived's nftables set (KeepalivedConfigParser+Firewall).
extension KeepalivedConfigParser {
    mutating func applyStrictMode() {
        var kept: [KeepalivedConfiguration.Instance] = []
        for var v in config.instances {
            v.defaultVersion = config.vrrpVersion
            let strict = v.strictMode ?? config.strict
            let at = Token(kind: .word, text: v.name, location: v.location, startsLine: true)
            guard strict else {
                // Outside strict mode keepalived clears a MASTER's preempt_delay (its -t then
                // exits 5); strict mode has already made such an instance BACKUP below.
                if v.preemptDelay > 0 && v.initialState == "MASTER" {
                    tolerate("(\(v.name)) Warning - preempt delay will not work with initial state MASTER - clearing", at)
                    v.preemptDelay = 0
                }
                resolveAcceptMode(&v, accept: v.accept ?? true, at: at)
                resolveAdvertOptions(&v, strict: false, at: at)
                kept.append(v)
                continue
            }
            let v6 = v.virtualAddresses.first?.address.family == AddressFamily.inet6
            if v6 && v.version == 2 {
                error("(\(v.name)) cannot use IPv6 with VRRP version 2; setting version 3", at)
                v.version = 3
            }
            if v.virtualAddresses.isEmpty {
                error("(\(v.name)) No VIP specified; at least one is required", at)
                continue
            }
            if v.priority == nil { v.priority = v.initialState == "MASTER" ? 255 : 100 }
            if (v.initialState == "MASTER") != (v.effectivePriority == 255) {
                error("(\(v.name)) State MASTER must match being address owner", at)
                v.initialState = v.effectivePriority == 255 ? "MASTER" : "BACKUP"
            }
            if v.authenticationType != nil {
                error("(\(v.name)) Strict mode does not support authentication. Ignoring.", at)
                v.authenticationType = nil
                v.authenticationPassword = nil
            }
            if !v.unicastPeers.isEmpty {
                error("(\(v.name)) Unicast peers are not supported in strict mode", at)
                continue
            }
            if v6, let b = v.virtualAddresses.first?.address.bytes, !(b[0] == 0xfe && b[1] & 0xc0 == 0x80) {
                error("(\(v.name)) the first IPv6 VIP address must be link local", at)
            }
            if v.vmacName != nil && v.vmacTransmitBase {
                error("(\(v.name)) xmit_base is incompatible with strict mode - resetting", at)
                v.vmacTransmitBase = false
            }
            if v.preemptDelay > 0 {
                error("(\(v.name)) preempt_delay is incompatible with strict mode - resetting", at)
                v.preemptDelay = 0
            }
            let owner = v.effectivePriority == 255
            var accept = v.accept ?? owner
            if accept && !owner && v.effectiveVersion == 2 {
                error("(\(v.name)) warning - accept mode for VRRP version 2 does not comply with RFC3768 - resetting", at)
                accept = false
            }
            let where_ = v.strictModeLocation.map { Token(kind: .word, text: "strict_mode", location: $0, startsLine: true) } ?? strictToken ?? at
            resolveAcceptMode(&v, accept: accept, at: where_)
            resolveAdvertOptions(&v, strict: true, at: at)
            kept.append(v)
        }
        config.instances = kept
    }
}
