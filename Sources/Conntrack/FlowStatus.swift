/// IPS_* status bits of a connection (nf_conntrack_common.h).
public struct FlowStatus: OptionSet, Hashable, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let expected = FlowStatus(rawValue: 1 << 0)
    public static let seenReply = FlowStatus(rawValue: 1 << 1)
    public static let assured = FlowStatus(rawValue: 1 << 2)
    public static let confirmed = FlowStatus(rawValue: 1 << 3)
    public static let sourceNAT = FlowStatus(rawValue: 1 << 4)
    public static let destinationNAT = FlowStatus(rawValue: 1 << 5)
    public static let sequenceAdjust = FlowStatus(rawValue: 1 << 6)
    public static let sourceNATDone = FlowStatus(rawValue: 1 << 7)
    public static let destinationNATDone = FlowStatus(rawValue: 1 << 8)
    public static let dying = FlowStatus(rawValue: 1 << 9)
    public static let fixedTimeout = FlowStatus(rawValue: 1 << 10)
    public static let template = FlowStatus(rawValue: 1 << 11)
    public static let natClash = FlowStatus(rawValue: 1 << 12)
    public static let helper = FlowStatus(rawValue: 1 << 13)
    public static let offload = FlowStatus(rawValue: 1 << 14)
    public static let hardwareOffload = FlowStatus(rawValue: 1 << 15)

    /// The names conntrack(8) accepts for `-u/--status`.
    public static let names: [(String, FlowStatus)] = [
        ("EXPECTED", .expected), ("ASSURED", .assured), ("SEEN_REPLY", .seenReply),
        ("FIXED_TIMEOUT", .fixedTimeout), ("CONFIRMED", .confirmed), ("SRC_NAT", .sourceNAT),
        ("DST_NAT", .destinationNAT), ("SEQ_ADJUST", .sequenceAdjust), ("SRC_NAT_DONE", .sourceNATDone),
        ("DST_NAT_DONE", .destinationNATDone), ("DYING", .dying), ("TEMPLATE", .template),
        ("OFFLOAD", .offload), ("HW_OFFLOAD", .hardwareOffload), ("UNSET", []),
    ]
}
