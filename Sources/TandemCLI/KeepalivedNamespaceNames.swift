#if canImport(Glibc)
import Glibc
#endif

/// What keepalived 2.2.7 names after its net_namespace NAME (main.c make_syslog_ident and
/// its pid-file choice, namespaces.c set_run_mount): the VRRP process logs as
/// `Keepalived_vrrp_NAME`, and a pid file not given with -p / -r goes in /run/keepalived/NAME
/// (keepalived.pid, vrrp.pid), a directory removed again at exit with /run/keepalived if that
/// is then empty. Outside a namespace those defaults are /run/keepalived.pid and /run/vrrp.pid. keepalived writes there through a private mount namespace with that
/// directory bind-mounted on /run/keepalived; Tandem writes to it directly, which is what
/// every other process sees.
struct KeepalivedNamespaceNames: Equatable {
    /// nil: not in a namespace of the file's or -s's.
    let namespace: String?

    static let pidRoot = "/run/keepalived"
    /// keepalived's defaults outside a namespace (Debian's build, measured).
    static let mainPidFile = "/run/keepalived.pid"
    static let vrrpPidFile = "/run/vrrp.pid"

    var syslogIdent: String { namespace.map { "Keepalived_vrrp_\($0)" } ?? "Keepalived_vrrp" }

    /// The ident of keepalived's parent process, which in a namespace first logs `identChange`.
    static let parentIdent = "Keepalived"

    /// What keepalived's parent logs in a namespace (main.c, before it starts the VRRP child).
    var identChange: String? { namespace.map { "Changing syslog ident to Keepalived_\($0)" } }

    var pidDirectory: String? { namespace.map { Self.pidRoot + "/" + $0 } }

    /// The pid files to write: as given (-p, -r), else keepalived's defaults, in the
    /// namespace's directory when there is one. Both hold Tandem's one pid.
    func pidFiles(main: String?, vrrp: String?) -> [String] {
        guard let directory = pidDirectory else { return [main ?? Self.mainPidFile, vrrp ?? Self.vrrpPidFile] }
        return [main ?? directory + "/keepalived.pid", vrrp ?? directory + "/vrrp.pid"]
    }

    /// Makes the directory when some pid file is to go in it; false (with the reason) when
    /// it cannot be made.
    func preparePidDirectory(for files: [String]) -> String? {
        guard let directory = pidDirectory, files.contains(where: { $0.hasPrefix(directory + "/") }) else { return nil }
        for d in [Self.pidRoot, directory] where mkdir(d, 0o755) != 0 && errno != EEXIST {
            return "Unable to create directory \(d): \(String(cString: strerror(errno)))"
        }
        return nil
    }

    /// At exit, once the files are gone: the directories, where empty (another keepalived's
    /// namespace may still be using /run/keepalived).
    func removePidDirectory() {
        guard let directory = pidDirectory else { return }
        rmdir(directory)
        rmdir(Self.pidRoot)
    }
}
