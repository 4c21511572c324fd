#if canImport(Glibc)
import Glibc
#endif
import CLinux
import ConfigParsing

/// Starting a configured script as keepalived 2.2.7 starts one (lib/notify.c,
/// system_call_script): a child in its own process group, with no signal blocked, that
/// takes the script's group, that group alone as its supplementary groups, then its user,
/// and only then execs. posix_spawn cannot change the user, hence the fork in the shim.
enum ScriptLaunch {
    struct Failure: Error, CustomStringConvertible {
        var errno: Int32
        var description: String { String(cString: strerror(errno)) }
    }

    /// `search`: a bare program name is looked up along PATH. `user` nil: the daemon's own.
    static func start(_ argv: [String], search: Bool, as user: ScriptUser?) -> Result<pid_t, Failure> {
        guard let program = argv.first else { return .failure(Failure(errno: ENOENT)) }
        let target = user ?? .ours
        // As root the supplementary groups are always reset, as keepalived does; a daemon
        // not running as root can only run scripts as itself.
        let drop: Int32 = geteuid() == 0 || target != .ours ? 1 : 0
        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        let rc = clinux_spawn_as(program, &cArgs, environ, search ? 1 : 0, drop, target.uid, target.gid)
        return rc > 0 ? .success(pid_t(rc)) : .failure(Failure(errno: -rc))
    }
}
