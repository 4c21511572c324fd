import IPAddressing

/// The sender's hot path: a kernel NEW/UPDATE event read straight into the cache's packed
/// form, without building a `Flow` (whose ~600 bytes were decoded, copied, merged and
/// thrown away for every event of a burst).
///
/// It accepts only what the packed form holds: IPv4, tuples without zones, TCP protocol
/// info, status, timeout, mark, id and an all-zero SYNPROXY; counters and the use count
/// are skipped, as the cache drops them anyway. Anything else — and any attribute of an
/// unexpected size — answers nil, and the event takes the general decoder, which also
/// judges and counts malformed input. So the result is always what
/// `CompactFlow(FlowCodec.decode(…))` would hold for the same event.
extension CompactFlow.Packed {
    public init?(eventPayload p: UnsafeRawBufferPointer) {
        // nfgenmsg: family, version, resource id.
        guard p.count >= 4, p[0] == UInt8(AddressFamily.inet) else { return nil }
        var original: PackedTuple?
        var reply: PackedTuple?
        var packed = Self.empty
        var ok = true
        Self.walk(p, from: 4, to: p.count, ok: &ok) { type, v in
            switch type {
            case CTA.tupleOrig:
                original = Self.tuple(p, v)
                return original != nil
            case CTA.tupleReply:
                reply = Self.tuple(p, v)
                return reply != nil
            case CTA.status, CTA.timeout, CTA.mark, CTA.id:
                guard let x = Self.be32(p, v) else { return false }
                switch type {
                case CTA.status: packed.status = x; packed.present |= Bit.status
                case CTA.timeout: packed.timeout = x; packed.present |= Bit.timeout
                case CTA.mark: packed.mark = x; packed.present |= Bit.mark
                default: packed.id = x; packed.present |= Bit.id
                }
            case CTA.protoinfo:
                return Self.protocolInfo(p, v, into: &packed)
            case CTA.synproxy:
                return Self.zeroSynproxy(p, v, into: &packed)
            case CTA.countersOrig, CTA.countersReply:
                // Skipped, but only when well formed: a broken one is the general
                // decoder's to count as malformed.
                var inner = true
                Self.walk(p, from: v.lowerBound, to: v.upperBound, ok: &inner) { t, c in (t == 1 || t == 2) && c.count == 8 }
                return inner
            case CTA.use:
                return v.count == 4
            default:
                return false
            }
            return true
        }
        guard ok, let original, let reply else { return nil }
        packed.original = original
        packed.reply = reply
        self = packed
    }

    private static var empty: Self {
        Self(unchecked: PackedTuple(source: 0, destination: 0, protocolNumber: 0, sourcePort: nil, destinationPort: nil,
                                    icmpType: nil, icmpCode: nil, icmpID: nil)!)
    }

    /// Visits the attributes in `start..<end`; a visitor answering false, or a malformed
    /// attribute header, clears `ok` and stops.
    private static func walk(_ p: UnsafeRawBufferPointer, from start: Int, to end: Int, ok: inout Bool,
                             _ visit: (UInt16, Range<Int>) -> Bool) {
        var at = start
        while at < end {
            guard end - at >= 4 else { ok = false; return }
            let length = Int(p.loadUnaligned(fromByteOffset: at, as: UInt16.self))
            let type = p.loadUnaligned(fromByteOffset: at + 2, as: UInt16.self) & 0x3FFF
            guard length >= 4, at + length <= end else { ok = false; return }
            guard visit(type, (at + 4) ..< (at + length)) else { ok = false; return }
            at += (length + 3) & ~3
        }
    }

    private static func be32(_ p: UnsafeRawBufferPointer, _ v: Range<Int>) -> UInt32? {
        guard v.count == 4 else { return nil }
        return UInt32(bigEndian: p.loadUnaligned(fromByteOffset: v.lowerBound, as: UInt32.self))
    }

    private static func be16(_ p: UnsafeRawBufferPointer, _ v: Range<Int>) -> UInt16? {
        guard v.count == 2 else { return nil }
        return UInt16(bigEndian: p.loadUnaligned(fromByteOffset: v.lowerBound, as: UInt16.self))
    }

    private static func u8(_ p: UnsafeRawBufferPointer, _ v: Range<Int>) -> UInt8? {
        v.count == 1 ? p[v.lowerBound] : nil
    }

    /// CTA_TUPLE_*: IPv4 addresses and the layer-4 identity; a zone (or IPv6) declines.
    private static func tuple(_ p: UnsafeRawBufferPointer, _ range: Range<Int>) -> PackedTuple? {
        var source: UInt32?, destination: UInt32?, proto: UInt8?
        var sourcePort: UInt16?, destinationPort: UInt16?, icmpType: UInt8?, icmpCode: UInt8?, icmpID: UInt16?
        var ok = true
        walk(p, from: range.lowerBound, to: range.upperBound, ok: &ok) { type, v in
            switch type {
            case CTA.Tuple.ip:
                var inner = true
                walk(p, from: v.lowerBound, to: v.upperBound, ok: &inner) { t, a in
                    guard a.count == 4 else { return false }
                    let address = UInt32(bigEndian: p.loadUnaligned(fromByteOffset: a.lowerBound, as: UInt32.self))
                    switch t {
                    case CTA.IP.v4Src: source = address
                    case CTA.IP.v4Dst: destination = address
                    default: return false
                    }
                    return true
                }
                return inner
            case CTA.Tuple.proto:
                var inner = true
                walk(p, from: v.lowerBound, to: v.upperBound, ok: &inner) { t, a in
                    switch t {
                    case CTA.Proto.num: proto = u8(p, a); return proto != nil
                    case CTA.Proto.srcPort: sourcePort = be16(p, a); return sourcePort != nil
                    case CTA.Proto.dstPort: destinationPort = be16(p, a); return destinationPort != nil
                    case CTA.Proto.icmpType: icmpType = u8(p, a); return icmpType != nil
                    case CTA.Proto.icmpCode: icmpCode = u8(p, a); return icmpCode != nil
                    case CTA.Proto.icmpID: icmpID = be16(p, a); return icmpID != nil
                    default: return false
                    }
                }
                return inner
            default:
                return false
            }
        }
        guard ok, let source, let destination, let proto else { return nil }
        return PackedTuple(source: source, destination: destination, protocolNumber: proto, sourcePort: sourcePort,
                           destinationPort: destinationPort, icmpType: icmpType, icmpCode: icmpCode, icmpID: icmpID)
    }

    /// CTA_PROTOINFO: TCP only.
    private static func protocolInfo(_ p: UnsafeRawBufferPointer, _ range: Range<Int>, into packed: inout Self) -> Bool {
        var sawTCP = false
        var ok = true
        walk(p, from: range.lowerBound, to: range.upperBound, ok: &ok) { type, v in
            guard type == CTA.ProtoInfo.tcp, !sawTCP else { return false }
            sawTCP = true
            packed.present |= Bit.tcp
            var inner = true
            walk(p, from: v.lowerBound, to: v.upperBound, ok: &inner) { t, a in
                switch t {
                case CTA.TCP.state:
                    guard let s = u8(p, a) else { return false }
                    packed.tcpState = s; packed.present |= Bit.tcpState
                case CTA.TCP.wscaleOriginal:
                    guard let w = u8(p, a) else { return false }
                    packed.windowScaleOriginal = w; packed.present |= Bit.windowScaleOriginal
                case CTA.TCP.wscaleReply:
                    guard let w = u8(p, a) else { return false }
                    packed.windowScaleReply = w; packed.present |= Bit.windowScaleReply
                case CTA.TCP.flagsOriginal:
                    guard a.count == 2 else { return false }
                    packed.tcpFlags.0 = p[a.lowerBound]; packed.tcpFlags.1 = p[a.lowerBound + 1]
                    packed.present |= Bit.flagsOriginal
                case CTA.TCP.flagsReply:
                    guard a.count == 2 else { return false }
                    packed.tcpFlags.2 = p[a.lowerBound]; packed.tcpFlags.3 = p[a.lowerBound + 1]
                    packed.present |= Bit.flagsReply
                default:
                    return false
                }
                return true
            }
            return inner
        }
        return ok && sawTCP
    }

    /// CTA_SYNPROXY with all three values present and zero (what recent kernels attach to
    /// every TCP flow); anything else declines.
    private static func zeroSynproxy(_ p: UnsafeRawBufferPointer, _ range: Range<Int>, into packed: inout Self) -> Bool {
        var seen = 0
        var ok = true
        walk(p, from: range.lowerBound, to: range.upperBound, ok: &ok) { type, v in
            guard (1 ... 3).contains(type), be32(p, v) == 0 else { return false }
            seen |= 1 << type
            return true
        }
        guard ok, seen == 0b1110 else { return false }
        packed.present |= Bit.zeroSynproxy
        return true
    }
}
