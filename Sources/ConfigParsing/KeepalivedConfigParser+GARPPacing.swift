/// keepalived 2.2.7's global GARP pacing (global_parser.c): vrrp_garp_interval and
/// vrrp_gna_interval space the GARPs / NAs sent on one interface; vrrp_min_garp brings a
/// new master's announcements down to a single round, with no second burst and no refresh.
extension KeepalivedConfigParser {
    /// global_defs' forms; false for any other keyword.
    mutating func globalGARPPacing(_ n: Node) -> Bool {
        let name = n.keyword.text
        switch name {
        case "vrrp_garp_interval", "vrrp_gna_interval":
            let word = n.arguments.first
            // keepalived takes 1 µs to UINT_MAX µs; 0 is out of range, not "no spacing".
            if let word, let us = decimalMicroseconds(word, range: 1...UInt64(UInt32.max)) {
                if name == "vrrp_garp_interval" { config.garpInterval = Int(us) } else { config.gnaInterval = Int(us) }
            } else {
                error("\(name) '\(word?.text ?? "")' is invalid", word ?? n.keyword)
            }
            let current = name == "vrrp_garp_interval" ? config.garpInterval : config.gnaInterval
            if current >= 1_000_000 { warn("The \(name) is very large - \(word?.text ?? "") seconds", word ?? n.keyword) }
        case "vrrp_garp_extra_if", "vrrp_vmac_garp_intvl":
            if name == "vrrp_vmac_garp_intvl" {
                error("Keyword \"vrrp_vmac_garp_intvl\" is deprecated - please use \"vrrp_garp_extra_if\"", n.keyword)
            }
            // keepalived sets `all` as it reads the words, even when a later one is bad.
            var seconds = 0
            for w in n.arguments {
                if w.text == "all" { config.garpExtraAll = true; continue }
                guard let x = Int(w.text), (1...86400).contains(x) else {
                    error("\(name) '\(w.text)' invalid - ignoring", w)
                    return true
                }
                seconds = x
            }
            guard seconds > 0 else {
                error("\(name) specified without time - ignoring", n.keyword)
                return true
            }
            config.garpExtraInterval = seconds
        case "vrrp_min_garp":
            if let word = n.arguments.first {
                guard let on = Self.trueFalse(word.text) else {
                    error("Invalid value for vrrp_min_garp specified", word)
                    return true
                }
                if !on { return true }
            }
            // Only what still has keepalived's default moves, whether or not it was written:
            // a value set before or after the keyword to anything else wins.
            if config.garpDefaults.repeats == 5 { config.garpDefaults.repeats = 1 }
            if config.garpDefaults.refreshRepeats == 1 { config.garpDefaults.refreshRepeats = 0 }
            if config.garpDefaults.delay == 5 { config.garpDefaults.delay = 0 }
        default:
            return false
        }
        return true
    }

    /// keepalived's read_decimal_unsigned with six decimals, in microseconds: more decimals
    /// are rounded away with a complaint; a negative, malformed or out-of-range number is
    /// reported as keepalived reports it and gives nil.
    mutating func decimalMicroseconds(_ t: Token, range: ClosedRange<UInt64>) -> UInt64? {
        let text = t.text
        if text.hasPrefix("-") {
            error("negative number '\(text)'", t)
            return nil
        }
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        var fraction = parts.count > 1 ? Array(parts[1]) : []
        var roundUp = false
        if fraction.count > 6 {
            error("number '\(text)' has too many decimal places", t)
            roundUp = fraction[6] >= "5"
            fraction = Array(fraction.prefix(6))
        }
        let digits = String(parts[0]) + String(fraction) + String(repeating: "0", count: 6 - fraction.count)
        guard digits.allSatisfy({ $0.isASCII && $0.isNumber }), var value = UInt64(digits) else {
            error("invalid number '\(text)'", t)
            return nil
        }
        if roundUp { value += 1 }
        guard range.contains(value) else {
            func shown(_ us: UInt64) -> String {
                let f = String(us % 1_000_000)
                return "\(us / 1_000_000)." + String(repeating: "0", count: 6 - f.count) + f
            }
            error("number '\(text)' outside range [\(shown(range.lowerBound)), \(shown(range.upperBound))]", t)
            return nil
        }
        return value
    }

    /// The instance's garp_extra_if (vmac_garp_intvl, deprecated); false for any other keyword.
    mutating func garpExtraOption(_ c: Node, instance name: String, into v: inout KeepalivedConfiguration.Instance) -> Bool {
        let keyword = c.keyword.text
        guard keyword == "garp_extra_if" || keyword == "vmac_garp_intvl" else { return false }
        if keyword == "vmac_garp_intvl" { error("Keyword \"vmac_garp_intvl\" is deprecated - please use \"garp_extra_if\"", c.keyword) }
        var seconds: Int?
        for w in c.arguments {
            if w.text == "all" { v.garpExtraAll = true; continue }
            guard let x = Int(w.text), (0...86400).contains(x) else {
                error("(\(name)): \(keyword) '\(w.text)' invalid - ignoring", w)
                return true
            }
            seconds = x
        }
        guard let seconds else {
            error("(\(name)): \(keyword) specified without time - ignoring", c.keyword)
            return true
        }
        v.garpExtraInterval = seconds
        return true
    }

    /// keepalived's vrrp_complete_instance: unset, the global value and its `all`; then off
    /// unless there is an interface to send on: a use_vmac_addr macvlan, or with `all` an
    /// address whose `dev` is another interface.
    mutating func resolveGARPExtra(_ v: inout KeepalivedConfiguration.Instance) {
        if v.garpExtraInterval == nil {
            v.garpExtraInterval = config.garpExtraInterval
            if config.garpExtraAll { v.garpExtraAll = true }
        }
        let own = [v.interface, v.vmacName].compactMap { $0 }
        let addresses = v.virtualAddresses + v.excludedAddresses
        let extraVMAC = addresses.contains { $0.vmacDevice != nil }
        let extra = addresses.contains { $0.device.map { !own.contains($0) } ?? false }
        if !(extraVMAC || (v.garpExtraAll && extra)) { v.garpExtraInterval = 0 }
    }
}
