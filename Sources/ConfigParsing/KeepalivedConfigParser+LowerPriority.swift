/// What a master does about adverts other than its own election's outcome (keepalived 2.2.7,
/// vrrp_parser.c and vrrp_complete_instance): whether it answers a lower priority
/// (lower_prio_no_advert), what it announces then (garp_lower_prio_repeat / _delay),
/// whether it speaks once more before a higher priority overrules it
/// (higher_prio_send_advert), and how many adverts a backup misses before taking over
/// (down_timer_adverts). The instance forms win over global_defs' vrrp_* forms, which are
/// read whole before any instance is completed; strict mode resets what breaks the RFC.
extension KeepalivedConfigParser {
    /// An instance's options as written; nil where the file leaves it to the defaults.
    struct WrittenAdvertOptions {
        var garpRepeat: Int?
        var garpDelay: Int?
        var noAdvert: Bool?
        var higherAdvert: Bool?
    }

    /// The instance keywords of this family; false for any other keyword.
    mutating func advertOption(_ c: Node, instance name: String, into v: inout KeepalivedConfiguration.Instance) -> Bool {
        let first = c.arguments.first
        var written = writtenAdvertOptions[name] ?? WrittenAdvertOptions()
        defer { writtenAdvertOptions[name] = written }
        switch c.keyword.text {
        case "garp_lower_prio_delay":
            guard let x = first.flatMap({ UInt32($0.text) }), x <= UInt32.max / 1_000_000 else {
                error("(\(name)): garp_lower_prio_delay '\(first?.text ?? "")' invalid - ignoring", first ?? c.keyword); return true
            }
            written.garpDelay = Int(x)
        case "garp_lower_prio_repeat":
            guard let x = first.flatMap({ Int32($0.text) }), x >= 0 else {
                error("(\(name)): Invalid garp_lower_prio_repeat '\(first?.text ?? "")'", first ?? c.keyword); return true
            }
            written.garpRepeat = Int(x)
        case "down_timer_adverts":
            guard let x = first.flatMap({ Int($0.text) }), (1...100).contains(x) else {
                error("(\(name)): Invalid down_timer_adverts [1:100] '\(first?.text ?? "")'", first ?? c.keyword); return true
            }
            v.downTimerAdverts = x
        case "lower_prio_no_advert", "higher_prio_send_advert":
            // Alone it means true; a word must be one of keepalived's six.
            var value = true
            if let word = first {
                guard let b = Self.trueFalse(word.text) else {
                    error("(\(name)) invalid \(c.keyword.text) \(word.text) specified", word); return true
                }
                value = b
            }
            if c.keyword.text == "lower_prio_no_advert" { written.noAdvert = value } else { written.higherAdvert = value }
        default:
            return false
        }
        return true
    }

    /// global_defs' forms; false for any other keyword.
    mutating func globalAdvertOption(_ n: Node) -> Bool {
        let first = n.arguments.first
        switch n.keyword.text {
        case "vrrp_garp_lower_prio_delay":
            guard let x = first.flatMap({ UInt32($0.text) }), x <= UInt32.max / 1_000_000 else {
                error("vrrp_garp_lower_prio_delay '\(first?.text ?? "")' invalid - ignoring", first ?? n.keyword); return true
            }
            config.garpDefaults.lowerPriorityDelay = Int(x)
        case "vrrp_garp_lower_prio_repeat":
            guard let x = first.flatMap({ Int32($0.text) }), x >= 0 else {
                error("Invalid vrrp_garp_lower_prio_repeat '\(first?.text ?? "")'", first ?? n.keyword); return true
            }
            config.garpDefaults.lowerPriorityRepeat = Int(x)
        case "vrrp_down_timer_adverts":
            guard let x = first.flatMap({ Int($0.text) }), (1...100).contains(x) else {
                error("Invalid vrrp_down_timer_adverts [1:100] '\(first?.text ?? "")'", first ?? n.keyword); return true
            }
            config.garpDefaults.downTimerAdverts = x
        case "vrrp_lower_prio_no_advert", "vrrp_higher_prio_send_advert":
            var value = true
            if let word = first {
                guard let b = Self.trueFalse(word.text) else {
                    error("Invalid value for \(n.keyword.text) specified", word); return true
                }
                value = b
            }
            if n.keyword.text == "vrrp_lower_prio_no_advert" {
                config.garpDefaults.lowerPriorityNoAdvert = value
            } else {
                config.garpDefaults.higherPriorityAdvert = value
            }
        default:
            return false
        }
        return true
    }

    /// keepalived's check_true_false.
    static func trueFalse(_ s: String) -> Bool? {
        switch s {
        case "true", "on", "yes": true
        case "false", "off", "no": false
        default: nil
        }
    }

    /// The values the instance runs with, once the whole file is read (keepalived's
    /// vrrp_complete_instance): written, else global, else strict mode's; strict mode
    /// reports and resets a written value that breaks the RFC.
    mutating func resolveAdvertOptions(_ v: inout KeepalivedConfiguration.Instance, strict: Bool, at: Token) {
        let w = writtenAdvertOptions[v.name] ?? WrittenAdvertOptions()
        let g = config.garpDefaults
        if strict && v.downTimerAdverts != 3 {
            error("(\(v.name)) down_timer_adverts is incompatible with strict mode - resetting", at)
            v.downTimerAdverts = 3
        }
        v.garpLowerPriorityRepeat = w.garpRepeat ?? (strict ? 0 : g.lowerPriorityRepeat ?? g.repeats)
        if strict && w.garpRepeat.map({ $0 != 0 }) == true {
            error("(\(v.name)) Strict mode requires no repeat garps. resetting", at)
            v.garpLowerPriorityRepeat = 0
        }
        // keepalived keeps the global master delay in whole seconds here.
        v.garpLowerPriorityDelay = w.garpDelay ?? (strict ? 0 : g.lowerPriorityDelay ?? Int(g.delay))
        if strict && w.garpDelay.map({ $0 != 0 }) == true {
            error("(\(v.name)) Strict mode requires no repeat garp delay. resetting", at)
            v.garpLowerPriorityDelay = 0
        }
        v.lowerPriorityNoAdvert = w.noAdvert ?? (strict ? true : g.lowerPriorityNoAdvert)
        if strict && w.noAdvert == false {
            error("(\(v.name)) Strict mode requires no lower priority advert. resetting", at)
            v.lowerPriorityNoAdvert = true
        }
        v.higherPriorityAdvert = w.higherAdvert ?? (strict ? false : g.higherPriorityAdvert)
        if strict && w.higherAdvert == true {
            error("(\(v.name)) strict mode requires higher_prio_send_advert to be clear. resetting", at)
            v.higherPriorityAdvert = false
        }
    }
}
