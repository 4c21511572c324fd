import IPAddressing
/// NAT manipulation range (CTA_NAT_SRC / CTA_NAT_DST) as given when creating a flow.
public struct NATRange: Hashable, Sendable {
    public var minimumAddress: IPAddress?
    public var maximumAddress: IPAddress?
    public var minimumPort: UInt16?
    public var maximumPort: UInt16?

    public init(minimumAddress: IPAddress? = nil, maximumAddress: IPAddress? = nil,
                minimumPort: UInt16? = nil, maximumPort: UInt16? = nil) {
        self.minimumAddress = minimumAddress
        self.maximumAddress = maximumAddress
        self.minimumPort = minimumPort
        self.maximumPort = maximumPort
    }
}

/// TCP sequence adjustment one direction needs after a helper rewrote payload (NAT'd FTP).
public struct SequenceAdjustment: Hashable, Sendable {
    public var correctionPosition: UInt32
    public var offsetBefore: UInt32
    public var offsetAfter: UInt32

    public init(correctionPosition: UInt32, offsetBefore: UInt32, offsetAfter: UInt32) {
        self.correctionPosition = correctionPosition
        self.offsetBefore = offsetBefore
        self.offsetAfter = offsetAfter
    }
}

public struct Counters: Hashable, Sendable {
    public var packets: UInt64
    public var bytes: UInt64
    public init(packets: UInt64, bytes: UInt64) { self.packets = packets; self.bytes = bytes }
}

public struct Timestamp: Hashable, Sendable {
    /// Nanoseconds since the epoch.
    public var start: UInt64?
    public var stop: UInt64?
    public init(start: UInt64? = nil, stop: UInt64? = nil) { self.start = start; self.stop = stop }
}

public struct Helper: Hashable, Sendable {
    public var name: String
    public var info: [UInt8]?
    public init(name: String, info: [UInt8]? = nil) { self.name = name; self.info = info }
}

public struct Synproxy: Hashable, Sendable {
    public var initialSequence: UInt32
    public var initialTimestamp: UInt32
    public var timestampOffset: UInt32
    public init(initialSequence: UInt32, initialTimestamp: UInt32, timestampOffset: UInt32) {
        self.initialSequence = initialSequence
        self.initialTimestamp = initialTimestamp
        self.timestampOffset = timestampOffset
    }
}

/// One connection-tracking entry: everything ctnetlink exposes and conntrackd syncs.
/// A plain value: no references, so a table of flows is one allocation, not one per flow.
/// Every attribute is optional because requests carry only what they set, and a decoded
/// message must re-encode byte for byte.
public struct Flow: Hashable, Sendable {
    public var family: UInt8
    public var original: Tuple?
    public var reply: Tuple?
    public var master: Tuple?
    public var status: FlowStatus?
    public var statusMask: FlowStatus?
    public var timeout: UInt32?
    public var mark: UInt32?
    public var markMask: UInt32?
    public var secmark: UInt32?
    public var id: UInt32?
    public var use: UInt32?
    public var zone: UInt16?
    public var protocolInfo: ProtocolInfo?
    public var helper: Helper?
    public var sourceNAT: NATRange?
    public var destinationNAT: NATRange?
    public var sequenceAdjustmentOriginal: SequenceAdjustment?
    public var sequenceAdjustmentReply: SequenceAdjustment?
    public var countersOriginal: Counters?
    public var countersReply: Counters?
    public var timestamp: Timestamp?
    public var securityContext: String?
    public var labels: [UInt8]?
    public var labelsMask: [UInt8]?
    public var synproxy: Synproxy?

    public init(family: UInt8 = AddressFamily.unspecified) {
        self.family = family
    }

    /// A flow with both tuples, the way `conntrack -I` builds one: the reply defaults to
    /// the inverted original.
    public init(original: Tuple, reply: Tuple? = nil) {
        self.family = original.family
        self.original = original
        self.reply = reply ?? original.inverted
    }

    public var protocolNumber: UInt8? { original?.protocolNumber ?? reply?.protocolNumber }

    /// Source NAT as seen from the tuples: replies come back to another address or port
    /// than the original source.
    public var isSourceNATted: Bool {
        guard let o = original, let r = reply else { return false }
        return o.source != r.destination || o.sourcePort != r.destinationPort
    }

    /// Destination NAT as seen from the tuples.
    public var isDestinationNATted: Bool {
        guard let o = original, let r = reply else { return false }
        return o.destination != r.source || o.destinationPort != r.sourcePort
    }
}
