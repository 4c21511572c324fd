import Netlink
import IPAddressing

/// conntrackd's `Filter From Kernelspace` (spec §5.8) as a socket filter: the kernel drops
/// unwanted events before they are queued, so a busy table costs no reads or decodes.
/// The program only ever drops what the daemon's own filter would drop; whatever it
/// cannot judge (a missing attribute, an IPv6 address) it passes on, and the daemon's
/// filter, which always runs too, decides.
public struct EventFilterProgram: Sendable {
    public enum Policy: Sendable { case accept, ignore }

    public enum Rule: Sendable {
        case protocols(Policy, [UInt8])
        /// IPv4 prefixes (network, prefix length), matched against the original and
        /// the reply source, as the daemon's filter does.
        case sources(Policy, [(network: UInt32, prefix: Int)])
        /// TCP states; other protocols pass.
        case tcpStates(Policy, [UInt8])
        /// Events caused by the netlink socket with this port id (its own writes, echoed
        /// back) are dropped: the kernel puts the writer's port id in the event's header.
        case notFrom(port: UInt32)
    }

    public let rules: [Rule]
    public init(_ rules: [Rule]) { self.rules = rules }

    public enum BuildError: Error, Sendable { case tooLong }

    /// The instructions; `tooLong` when a list is too long for 8-bit jump offsets.
    public func instructions() throws(BuildError) -> [BPFInstruction] {
        var a = Assembler()
        for rule in rules {
            let pass = a.label()
            switch rule {
            case .protocols(let policy, let numbers):
                a.loadProtocolNumber(orElse: pass)
                decide(&a, policy, pass) { a, match in for n in numbers { a.jumpIfEqual(UInt32(n), match) } }
            case .sources(let policy, let prefixes):
                let match = a.label()
                for tuple in [CTA.tupleOrig, CTA.tupleReply] {
                    a.find([tuple, CTA.Tuple.ip, CTA.IP.v4Src], orElse: pass)
                    a.emit(Op.tax)
                    a.emit(Op.loadWordAtX, k: 4)
                    a.emit(Op.store, k: 0)
                    for p in prefixes {
                        let mask: UInt32 = p.prefix == 0 ? 0 : ~UInt32(0) << UInt32(32 - min(32, p.prefix))
                        a.emit(Op.loadScratch, k: 0)
                        a.emit(Op.and, k: mask)
                        a.jumpIfEqual(p.network & mask, match)
                    }
                }
                conclude(&a, policy, pass, match)
            case .tcpStates(let policy, let states):
                let tcp = a.label()
                a.loadProtocolNumber(orElse: pass)
                a.jumpIfEqual(UInt32(IPProtocolNumber.tcp), tcp, otherwise: pass)
                a.place(tcp)
                a.find([CTA.protoinfo, CTA.ProtoInfo.tcp, CTA.TCP.state], orElse: pass)
                a.emit(Op.tax)
                a.emit(Op.loadByteAtX, k: 4)
                decide(&a, policy, pass) { a, match in for s in states { a.jumpIfEqual(UInt32(s), match) } }
            case .notFrom(let port):
                // An absolute load reads in network order; nlmsg_pid is in host order.
                a.emit(Op.loadAbsoluteWord, k: Op.headerPortID)
                decide(&a, .ignore, pass) { a, match in a.jumpIfEqual(port.bigEndian, match) }
            }
            a.place(pass)
        }
        a.emit(Op.returnConstant, k: 0xFFFF_FFFF)
        return try a.resolve()
    }

    /// Emits the comparisons, then what a match and a miss mean under `policy`.
    private func decide(_ a: inout Assembler, _ policy: Policy, _ pass: Assembler.Label, _ compare: (inout Assembler, Assembler.Label) -> Void) {
        let match = a.label()
        compare(&a, match)
        conclude(&a, policy, pass, match)
    }

    private func conclude(_ a: inout Assembler, _ policy: Policy, _ pass: Assembler.Label, _ match: Assembler.Label) {
        // Fell through every comparison: no match.
        if policy == .accept { a.emit(Op.returnConstant, k: 0) } else { a.jump(pass) }
        a.place(match)
        if policy == .accept { a.jump(pass) } else { a.emit(Op.returnConstant, k: 0) }
    }

    /// Classic BPF opcodes used here, and the kernel's netlink attribute helpers.
    enum Op {
        static let loadImmediate: UInt16 = 0x00      // A = k
        static let loadXImmediate: UInt16 = 0x01     // X = k
        static let loadAbsoluteWord: UInt16 = 0x20   // A = ancillary (nlattr helpers)
        static let loadWordAtX: UInt16 = 0x40        // A = word at X + k (network order)
        static let loadByteAtX: UInt16 = 0x50        // A = byte at X + k
        static let store: UInt16 = 0x02              // M[k] = A
        static let loadScratch: UInt16 = 0x60        // A = M[k]
        static let and: UInt16 = 0x54                // A &= k
        static let jumpEqual: UInt16 = 0x15          // A == k ? jt : jf
        static let jumpAlways: UInt16 = 0x05
        static let tax: UInt16 = 0x07                // X = A
        static let returnConstant: UInt16 = 0x06
        /// SKF_AD_OFF + SKF_AD_NLATTR: A = offset of attribute X searched from offset A (0: none).
        static let nlattr: UInt32 = 0xFFFF_F000 &+ 12
        /// SKF_AD_OFF + SKF_AD_NLATTR_NEST: the same, inside the nested attribute at A.
        static let nlattrNest: UInt32 = 0xFFFF_F000 &+ 16
        /// The first attribute of a ctnetlink message: netlink header (16) + nfgenmsg (4).
        static let attributes: UInt32 = 20
        /// nlmsg_pid in the netlink header.
        static let headerPortID: UInt32 = 12
    }

    /// Straight-line code with forward labels, resolved into relative jumps at the end.
    struct Assembler {
        struct Label: Hashable { let id: Int }
        enum Slot {
            case plain(BPFInstruction)
            case equal(UInt32, Label, Label?)
            case always(Label)
        }

        var slots: [Slot] = []
        var places: [Label: Int] = [:]
        var labels = 0

        mutating func label() -> Label {
            labels += 1
            return Label(id: labels)
        }

        mutating func place(_ l: Label) { places[l] = slots.count }
        mutating func emit(_ code: UInt16, k: UInt32 = 0) { slots.append(.plain(BPFInstruction(code: code, k: k))) }
        mutating func jump(_ l: Label) { slots.append(.always(l)) }
        /// Jumps to `l` when A == k; falls through (or goes to `otherwise`) when not.
        mutating func jumpIfEqual(_ k: UInt32, _ l: Label, otherwise: Label? = nil) { slots.append(.equal(k, l, otherwise)) }

        /// A = offset of the attribute at `path` (top level, then nested), or to `missing`.
        mutating func find(_ path: [UInt16], orElse missing: Label) {
            emit(Op.loadImmediate, k: Op.attributes)
            for (i, type) in path.enumerated() {
                emit(Op.loadXImmediate, k: UInt32(type))
                emit(Op.loadAbsoluteWord, k: i == 0 ? Op.nlattr : Op.nlattrNest)
                let found = label()
                jumpIfEqual(0, missing, otherwise: found)
                place(found)
            }
        }

        /// A = the original tuple's layer-4 protocol number, or to `missing`.
        mutating func loadProtocolNumber(orElse missing: Label) {
            find([CTA.tupleOrig, CTA.Tuple.proto, CTA.Proto.num], orElse: missing)
            emit(Op.tax)
            emit(Op.loadByteAtX, k: 4)
        }

        func resolve() throws(BuildError) -> [BPFInstruction] {
            var out: [BPFInstruction] = []
            for (pc, slot) in slots.enumerated() {
                func offset(_ l: Label?) throws(BuildError) -> UInt8 {
                    guard let l else { return 0 }
                    let d = places[l]! - pc - 1
                    guard (0...255).contains(d) else { throw .tooLong }
                    return UInt8(d)
                }
                switch slot {
                case .plain(let i): out.append(i)
                case .equal(let k, let t, let f):
                    out.append(BPFInstruction(code: Op.jumpEqual, jumpIfTrue: try offset(t), jumpIfFalse: try offset(f), k: k))
                case .always(let l):
                    out.append(BPFInstruction(code: Op.jumpAlways, k: UInt32(places[l]! - pc - 1)))
                }
            }
            return out
        }
    }
}
