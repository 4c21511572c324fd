/// Every keyword conntrackd 1.4.7's lexer knows (src/read_config_lex.l), in its spelling:
/// keywords are case-sensitive there, while the values `on`/`off`/`yes`/`no` and the mode
/// names are not. docs/compatibility.md has one row per entry, and a test holds the two
/// together.
public enum ConntrackdKeywords {
    public static let all: [String] = [
        // sections
        "General", "Sync", "Stats", "Helper",
        // General
        "HashSize", "HashLimit", "LogFile", "Syslog", "LockFile", "UNIX", "Path", "Backlog",
        "NetlinkBufferSize", "NetlinkBufferSizeMaxGrowth", "SocketBufferSize", "SocketBufferSizeMaxGrowth",
        "SocketBufferSizeMaxGrown", "NetlinkOverrunResync", "NetlinkEventsReliable", "EventIterationLimit",
        "PollSecs", "Nice", "Scheduler", "Type", "Priority", "Systemd",
        // General › Filter
        "Filter", "From", "Userspace", "Kernelspace", "Protocol", "Address", "State", "Accept", "Ignore", "for",
        "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT", "CLOSE_WAIT", "LAST_ACK", "TIME_WAIT", "CLOSE", "CLOSED", "LISTEN",
        // Sync
        "Mode", "ResendQueueSize", "ACKWindowSize", "CommitTimeout", "PurgeTimeout", "RefreshTime", "CacheTimeout",
        "DisableExternalCache", "DisableInternalCache", "StartupResync", "Options", "TCPWindowTracking", "ExpectationSync",
        // Sync › dedicated links
        "UDP", "TCP", "Multicast", "Default", "IPv4_address", "IPv6_address", "IPv4_Destination_Address",
        "IPv6_Destination_Address", "IPv4_interface", "IPv6_interface", "Interface", "Port", "Group",
        "SndSocketBuffer", "RcvSocketBuffer", "Checksum", "ErrorQueueLength",
        // Helper
        "QueueNum", "QueueLen", "Policy", "ExpectMax", "ExpectTimeout", "Setup",
    ]

    static let set = Set(all)

    /// The keyword an operator probably meant when only the case is wrong.
    static func spelling(of text: String) -> String? {
        all.first { $0.lowercased() == text.lowercased() && $0 != text }
    }
}
