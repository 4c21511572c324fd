/// keepalived 2.2.7's command line (Debian's build), flag by flag, with what
/// `tandem keepalived` does with each. docs/compatibility.md is checked against this
/// table, and `-h` prints it.
struct KeepalivedFlag: Hashable, Sendable {
    enum Argument: Hashable, Sendable { case none, required, optional }
    enum Status: String, Hashable, Sendable {
        /// Done as keepalived does it.
        case actedOn = "acted on"
        /// Answered and exits (-v, -h, --signum).
        case answers = "answers"
        /// Accepted because it changes nothing in Tandem (the reason is logged at start).
        case accepted = "accepted, no effect"
        /// Refused: the command exits 1 naming the flag and "not supported".
        case refused = "refused"
    }

    var short: Character?
    var long: String?
    var argument: Argument
    var status: Status
    /// The option's metavariable in the help and the table.
    var value: String
    var help: String
    /// Why an accepted flag changes nothing, or what a refused one would need.
    var note: String
    /// In `-h`: keepalived's help leaves out -g (not built) and --config-fd (internal).
    var listed: Bool { long != "log-file" && long != "config-fd" }

    var names: String {
        [short.map { "-\($0)" }, long.map { "--\($0)" }].compactMap { $0 }.joined(separator: ", ")
    }
}

enum KeepalivedFlags {
    static func flag(_ short: Character?, _ long: String?, _ argument: KeepalivedFlag.Argument, _ status: KeepalivedFlag.Status,
                     value: String = "", _ help: String, note: String = "") -> KeepalivedFlag {
        KeepalivedFlag(short: short, long: long, argument: argument, status: status, value: value, help: help, note: note)
    }

    /// In keepalived's own order (its `-h`).
    static let all: [KeepalivedFlag] = [
        flag("f", "use-file", .required, .actedOn, value: "FILE", "Use the specified configuration file"),
        flag("P", "vrrp", .none, .actedOn, "Only run with VRRP subsystem", note: "VRRP is all Tandem runs"),
        flag("C", "check", .none, .refused, "Only run with Health-checker subsystem", note: "Tandem has no health checker (LVS)"),
        flag("B", "no_bfd", .none, .actedOn, "Don't run BFD subsystem", note: "Tandem never runs BFD"),
        flag(nil, "all", .none, .refused, "Force all child processes to run, even if have no configuration", note: "Tandem has no checker or BFD process"),
        flag("l", "log-console", .none, .actedOn, "Log messages to local console", note: "the log goes to stderr only with it, as keepalived's with --dont-fork"),
        flag("D", "log-detail", .none, .accepted, "Detailed log messages", note: "Tandem logs the same detail with or without it"),
        flag("S", "log-facility", .required, .actedOn, value: "FACILITY", "Set syslog facility", note: "0-7 or local0-local7, daemon or user; daemon by default"),
        flag("g", "log-file", .optional, .refused, value: "FILE", "Also log to FILE", note: "Debian's keepalived is built without it and refuses it too"),
        flag("G", "no-syslog", .none, .actedOn, "Don't log via syslog"),
        flag("u", "umask", .required, .actedOn, value: "MASK", "umask for file creation (in numeric form)"),
        flag("X", "release-vips", .none, .refused, "Drop VIP on transition from signal."),
        flag("V", "dont-release-vrrp", .none, .actedOn, "Don't remove VRRP VIPs and VROUTEs on daemon stop"),
        flag("I", "dont-release-ipvs", .none, .refused, "Don't remove IPVS topology on daemon stop", note: "Tandem has no IPVS (LVS)"),
        flag("R", "dont-respawn", .none, .actedOn, "Don't respawn child processes", note: "Tandem runs VRRP in its one process: there is no child to respawn"),
        flag("n", "dont-fork", .none, .actedOn, "Don't fork the daemon process", note: "Tandem never forks: it always runs in the foreground"),
        flag("d", "dump-conf", .none, .refused, "Dump the configuration data"),
        flag("p", "pid", .required, .actedOn, value: "FILE", "Use specified pidfile for parent process"),
        flag("r", "vrrp_pid", .required, .actedOn, value: "FILE", "Use specified pidfile for VRRP child process"),
        flag("T", "genhash", .none, .refused, "Enter into genhash utility mode", note: "genhash is part of the health checker (LVS)"),
        flag("c", "checkers_pid", .required, .accepted, value: "FILE", "Use specified pidfile for checkers child process",
             note: "there is no checker process; the file is not written"),
        flag("a", "address-monitoring", .none, .refused, "Report all address additions/deletions notified via netlink"),
        flag("b", "bfd_pid", .required, .accepted, value: "FILE", "Use specified pidfile for BFD child process",
             note: "there is no BFD process; the file is not written"),
        flag("x", "snmp", .none, .refused, "Enable SNMP subsystem"),
        flag("A", "snmp-agent-socket", .required, .refused, value: "FILE", "Use the specified socket for master agent"),
        flag("s", "namespace", .required, .actedOn, value: "NAME", "Run in network namespace NAME (overrides config)"),
        flag("m", "core-dump", .none, .refused, "Produce core dump if terminate abnormally"),
        flag("M", "core-dump-pattern", .optional, .refused, value: "PATN", "Also set /proc/sys/kernel/core_pattern to PATN"),
        flag("e", "all-config", .none, .refused, "Error if any configuration file missing"),
        flag("i", "config-id", .required, .actedOn, value: "id", "Skip any configuration lines beginning '@' that don't match id"),
        flag(nil, "signum", .required, .answers, value: "SIGFUNC", "Return signal number for STOP, RELOAD, DATA, STATS, STATS_CLEAR, JSON"),
        flag("t", "config-test", .optional, .actedOn, value: "LOG_FILE", "Check the configuration for obvious errors"),
        flag(nil, "config-fd", .required, .refused, value: "fd_num", "keepalived's internal use"),
        flag("v", "version", .none, .answers, "Display the version number"),
        flag("h", "help", .none, .answers, "Display this help message"),
    ]

    /// keepalived's --signum names (its build has JSON, not TDUMP).
    static let signalNumbers: [(String, Int32)] = [("STOP", 15), ("RELOAD", 1), ("DATA", 10), ("STATS", 12), ("STATS_CLEAR", 63), ("JSON", 36)]
}
