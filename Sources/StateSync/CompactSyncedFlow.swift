import Conntrack

/// A peer's flow as the external cache keeps it. What conntrackd sends for an IPv4
/// TCP/UDP/ICMP flow without NAT or helpers fits in 28 bytes (`Packed`) instead of
/// `SyncedFlow`'s ~300; anything else is kept whole. `synced` gives back exactly what
/// was stored, so listings and commits see the message as it arrived.
public enum CompactSyncedFlow: Sendable {
    case packed(Packed)
    indirect case general(SyncedFlow)

    public init(_ s: SyncedFlow) {
        self = Packed(s).map(CompactSyncedFlow.packed) ?? .general(s)
    }

    public var synced: SyncedFlow {
        switch self {
        case .packed(let p): p.synced
        case .general(let s): s
        }
    }

    /// Whether the flow names a master (an expected flow, such as FTP data): a commit
    /// writes those after the rest, and a packed flow never has one.
    public var hasMaster: Bool {
        switch self {
        case .packed: false
        case .general(let s): s.masterSource != nil
        }
    }

    public struct Packed: Sendable {
        public var source: UInt32
        public var destination: UInt32
        /// Ports as source << 16 | destination, or ICMP type << 24 | code << 16 | id.
        public var layer4: UInt32 = 0
        public var status: UInt32 = 0
        public var timeout: UInt32 = 0
        public var mark: UInt32 = 0
        public var protocolNumber: UInt8 = 0
        public var tcpState: UInt8 = 0
        public var present: UInt16 = 0

        public enum Bit {
            public static let protocolNumber: UInt16 = 1, ports: UInt16 = 2, tcpState: UInt16 = 4, status: UInt16 = 8
            public static let timeout: UInt16 = 16, mark: UInt16 = 32, icmpType: UInt16 = 64, icmpCode: UInt16 = 128
            public static let icmpID: UInt16 = 256
            /// An all-zero SYNPROXY, which a sender on a recent kernel attaches to every TCP flow.
            public static let zeroSynproxy: UInt16 = 512
        }

        /// nil unless every attribute of `s` has a place here.
        public init?(_ s: SyncedFlow) {
            guard case .v4(let src)? = s.source, case .v4(let dst)? = s.destination,
                  s.masterSource == nil, s.masterDestination == nil, s.masterProtocol == nil, s.masterPorts == nil,
                  s.sourceNAT == nil, s.destinationNAT == nil, s.sourcePortNAT == nil, s.destinationPortNAT == nil,
                  s.sequenceAdjustment == nil, s.sctpState == nil, s.sctpVtagOriginal == nil, s.sctpVtagReply == nil,
                  s.dccpState == nil, s.dccpRole == nil, s.windowScaleOriginal == nil, s.windowScaleReply == nil,
                  s.helper == nil, s.labels == nil, s.zone == nil,
                  s.synproxy == nil || s.synproxy == SyncSynproxy(its: 0, isn: 0, tsoff: 0)
            else { return nil }
            let icmp = s.icmpType != nil || s.icmpCode != nil || s.icmpID != nil
            // Ports and ICMP fields share `layer4`.
            if icmp && s.ports != nil { return nil }
            source = src
            destination = dst
            if let v = s.protocolNumber { protocolNumber = v; present |= Bit.protocolNumber }
            if let p = s.ports { layer4 = UInt32(p.source) << 16 | UInt32(p.destination); present |= Bit.ports }
            if let v = s.icmpType { layer4 |= UInt32(v) << 24; present |= Bit.icmpType }
            if let v = s.icmpCode { layer4 |= UInt32(v) << 16; present |= Bit.icmpCode }
            if let v = s.icmpID { layer4 |= UInt32(v); present |= Bit.icmpID }
            if let v = s.tcpState { tcpState = v; present |= Bit.tcpState }
            if let v = s.status { status = v; present |= Bit.status }
            if let v = s.timeout { timeout = v; present |= Bit.timeout }
            if let v = s.mark { mark = v; present |= Bit.mark }
            if s.synproxy != nil { present |= Bit.zeroSynproxy }
        }

        public func has(_ bit: UInt16) -> Bool { present & bit != 0 }

        public var synced: SyncedFlow {
            var s = SyncedFlow()
            s.source = .v4(source)
            s.destination = .v4(destination)
            if has(Bit.protocolNumber) { s.protocolNumber = protocolNumber }
            if has(Bit.ports) {
                s.ports = SyncPorts(source: UInt16(truncatingIfNeeded: layer4 >> 16), destination: UInt16(truncatingIfNeeded: layer4))
            }
            if has(Bit.icmpType) { s.icmpType = UInt8(truncatingIfNeeded: layer4 >> 24) }
            if has(Bit.icmpCode) { s.icmpCode = UInt8(truncatingIfNeeded: layer4 >> 16) }
            if has(Bit.icmpID) { s.icmpID = UInt16(truncatingIfNeeded: layer4) }
            if has(Bit.tcpState) { s.tcpState = tcpState }
            if has(Bit.status) { s.status = status }
            if has(Bit.timeout) { s.timeout = timeout }
            if has(Bit.mark) { s.mark = mark }
            if has(Bit.zeroSynproxy) { s.synproxy = SyncSynproxy(its: 0, isn: 0, tsoff: 0) }
            return s
        }
    }
}
