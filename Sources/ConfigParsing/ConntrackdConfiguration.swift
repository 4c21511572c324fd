import Conntrack
import IPAddressing

/// conntrackd.conf 1.4.7 as a value, with the daemon's defaults (spec §7.2).
public struct ConntrackdConfiguration: Hashable, Sendable {
    public enum Mode: String, Hashable, Sendable { case ftfw = "FTFW", notrack = "NOTRACK", alarm = "ALARM" }

    public struct Sync: Hashable, Sendable {
        public var mode: Mode = .ftfw
        public var modeWasGiven = false
        public var resendQueueSize = 131072
        public var ackWindowSize = 300
        /// 0 = estimate from the kernel's timeouts and send TIMEOUT attributes.
        public var commitTimeout = 0
        public var purgeTimeout = 60
        public var disableExternalCache = false
        public var disableInternalCache = false
        public var startupResync = false
        public var refreshTime = 60
        public var cacheTimeout = 180
        public var channels: [Channel] = []
        public var tcpWindowTracking = false
        public var expectationSync: ExpectationSync = .off
    }

    public enum ExpectationSync: Hashable, Sendable {
        case off
        case all
        case helpers([String])
    }

    public struct Channel: Hashable, Sendable {
        public enum Kind: String, Hashable, Sendable { case udp = "UDP", multicast = "Multicast", tcp = "TCP" }
        public var kind: Kind
        public var isDefault = false
        public var ipv4Address: IPAddress?
        public var ipv6Address: IPAddress?
        public var ipv4Destination: IPAddress?
        public var ipv6Destination: IPAddress?
        /// Multicast: the local address to send from.
        public var ipv4Interface: IPAddress?
        public var interface: String?
        /// UDP/TCP Port, or Multicast Group.
        public var port = 0
        public var sendBuffer: Int?
        public var receiveBuffer: Int?
        public var checksum = true
        public var errorQueueLength = 128
        public var location: SourceLocation

        public init(kind: Kind, location: SourceLocation) {
            self.kind = kind
            self.location = location
        }
    }

    public enum LogTarget: Hashable, Sendable {
        case off
        case file(String)
    }

    public enum Policy: String, Hashable, Sendable { case accept = "Accept", ignore = "Ignore" }

    public struct Filter: Hashable, Sendable {
        public enum Source: Hashable, Sendable { case userspace, kernelspace }
        public var source: Source = .userspace
        public var protocols: (policy: Policy, numbers: [UInt8])? {
            get { protocolPolicy.map { ($0, protocolNumbers) } }
            set { protocolPolicy = newValue?.policy; protocolNumbers = newValue?.numbers ?? [] }
        }
        public var protocolPolicy: Policy?
        public var protocolNumbers: [UInt8] = []
        public var addressPolicy: Policy?
        public var addresses: [NetworkPrefix] = []
        public var statePolicy: Policy?
        public var states: [TCPState] = []
    }

    public struct NetworkPrefix: Hashable, Sendable {
        public var address: IPAddress
        public var prefix: Int
        public func contains(_ a: IPAddress) -> Bool {
            guard a.family == address.family else { return false }
            let m = IPAddress.mask(family: a.family, prefix: prefix)
            return a.masked(by: m) == address.masked(by: m)
        }
    }

    public struct General: Hashable, Sendable {
        public var hashSize = 65536
        public var hashLimit = 262144
        public var logFile: LogTarget = .off
        /// nil = off; otherwise the facility name ("daemon" for `on`).
        public var syslogFacility: String?
        public var lockFile = "/var/lock/conntrackd.lock"
        public var unixPath: String?
        public var netlinkBufferSize = 0
        public var netlinkBufferSizeMaxGrowth = 0
        /// Seconds to wait before the resync after an overrun; nil = off.
        public var netlinkOverrunResync: Int? = 30
        public var netlinkEventsReliable = false
        public var eventIterationLimit = 100
        public var pollSeconds: Int?
        public var filters: [Filter] = []
        /// `Scheduler { Type … Priority … }`; nil keeps the system's default scheduler.
        public var scheduler: Scheduler?
        public var systemd = true
    }

    /// A real-time scheduling class for the daemon's thread, as conntrackd's
    /// `sched_setscheduler(0, type, priority)`.
    public struct Scheduler: Hashable, Sendable {
        public enum Policy: String, Hashable, Sendable { case roundRobin = "RR", fifo = "FIFO" }
        public var policy: Policy
        /// 1 … 99, as the kernel takes for SCHED_RR and SCHED_FIFO.
        public var priority: Int
        public init(policy: Policy, priority: Int) {
            self.policy = policy
            self.priority = priority
        }
    }

    public struct Stats: Hashable, Sendable {
        public var logFile: LogTarget = .off
        public var syslogFacility: String?
    }

    public var file: String
    public var sync: Sync?
    public var general = General()
    public var stats: Stats?
    public var warnings: [ConfigWarning] = []
    /// What the file asks for that Tandem does not do (statistics mode, user-space
    /// helpers, IPv6 links), in file order. A client command (`-s`, `-c`, `tandem
    /// status`) needs only the socket's path and goes on; `--check` and starting the
    /// daemon refuse the file with these.
    public var unsupported: [ConfigError] = []

    public init(file: String) { self.file = file }

    /// Neither Sync nor Stats: conntrackd runs in statistics mode.
    public var isStatisticsMode: Bool { sync == nil }
}
