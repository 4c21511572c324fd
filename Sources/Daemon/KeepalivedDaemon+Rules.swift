#if canImport(Glibc)
import Glibc
#endif
import ConfigParsing
import IPAddressing
import Netlink

/// The rtnetlink socket for FIB rules, opened only when the configuration has some.
struct HostRules {
    var table: Rules?
}

/// `virtual_rules` (added on becoming MASTER, removed on leaving it) and the rule
/// conversion `static_rules` shares.
extension KeepalivedDaemon {
    static func kernelRule(_ v: VirtualRule) -> Rules.Rule {
        let action: Rules.Rule.Action
        var table: UInt32 = 0
        var target: UInt32 = 0
        switch v.action {
        case .table(let t): action = .table; table = t
        case .goto(let g): action = .goto; target = g
        case .nop: action = .nop
        case .blackhole: action = .blackhole
        case .unreachable: action = .unreachable
        case .prohibit: action = .prohibit
        }
        var r = Rules.Rule(family: v.family, action: action)
        r.table = table
        r.gotoTarget = target
        // `from all` selects every address: no attribute, as `ip rule` sends it.
        if let p = v.from, let a = p.address { r.source = a.bytes; r.sourceLength = UInt8(p.length) }
        if let p = v.to, let a = p.address { r.destination = a.bytes; r.destinationLength = UInt8(p.length) }
        r.tos = v.tos
        r.invert = v.invert
        r.priority = v.priority
        r.fwmark = v.fwmark
        r.fwmask = v.fwmask
        r.inputInterface = v.inputInterface
        r.outputInterface = v.outputInterface
        r.protocolNumber = v.tracked ? Rules.protocolKeepalived : v.protocolNumber
        r.suppressPrefixLength = v.suppressPrefixLength
        r.uidRange = v.uidRange
        r.ipProtocol = v.ipProtocol
        r.sourcePorts = v.sourcePorts
        r.destinationPorts = v.destinationPorts
        return r
    }

    static func describe(_ v: VirtualRule) -> String {
        var words: [String] = []
        if v.invert { words.append("not") }
        words.append("from " + (v.from.flatMap { p in p.address.map { "\($0)/\(p.length)" } } ?? "all"))
        if let p = v.to { words.append("to " + (p.address.map { "\($0)/\(p.length)" } ?? "all")) }
        if let m = v.fwmark { words.append("fwmark \(m)" + (v.fwmask.map { "/\($0)" } ?? "")) }
        if let i = v.inputInterface { words.append("iif \(i)") }
        if let o = v.outputInterface { words.append("oif \(o)") }
        switch v.action {
        case .table(let t): words.append("table \(t)")
        case .goto(let g): words.append("goto \(g)")
        case .nop: words.append("nop")
        case .blackhole: words.append("blackhole")
        case .unreachable: words.append("unreachable")
        case .prohibit: words.append("prohibit")
        }
        if let p = v.priority { words.append("priority \(p)") }
        return words.joined(separator: " ")
    }

    func installRules(of i: Instance) {
        addRules(i.config.virtualRules, owner: "(\(i.config.name)) ")
    }

    func removeRules(of i: Instance) {
        removeRules(i.config.virtualRules, owner: "(\(i.config.name)) ")
    }

    /// A rule already there counts as added: an earlier run or another owner put it in.
    func addRules(_ lines: [VirtualRule], owner: String) {
        guard !lines.isEmpty else { return }
        guard let table = rules.table else { actionFailed("rule add", "\(owner)rules cannot be added: no rule socket"); return }
        for v in lines {
            do { try table.add(Self.kernelRule(v)) } catch let e as NetlinkKernelError where e.errno == EEXIST {
            } catch {
                actionFailed("rule add", "\(owner)cannot add rule \(Self.describe(v)): \(error)")
            }
        }
    }

    /// A rule that is not there is no failure (an earlier run's, cleared at start).
    func removeRules(_ lines: [VirtualRule], owner: String) {
        guard let table = rules.table, !lines.isEmpty else { return }
        for v in lines {
            do { try table.remove(Self.kernelRule(v)) } catch where Self.alreadyGone(error) {
            } catch {
                actionFailed("rule removal", "\(owner)cannot remove rule \(Self.describe(v)): \(error)")
            }
        }
    }
}
