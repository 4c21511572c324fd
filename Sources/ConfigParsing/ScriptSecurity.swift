#if canImport(Glibc)
import Glibc
#endif

/// keepalived 2.2.7's look at a configured script before it runs anything (lib/notify.c,
/// check_script_secure): a bare name is searched along PATH, a path must resolve and be
/// stat-able, and only then is it a script at all. A script that is found counts towards
/// "SECURITY VIOLATION - scripts are being executed but script_security not enabled"
/// (`-t` exits 6); one that is missing or not executable is disabled with a log line.
public enum ScriptSecurity {
    public enum Verdict: Hashable, Sendable {
        /// Found and executable for the user it runs as.
        case runnable
        /// Found, but not executable for that user: keepalived disables it.
        case notExecutable
        /// Not found or not accessible: keepalived disables it.
        case missing
        /// `</path`: a test that a file opens, nothing is executed.
        case fileTest
    }

    public struct Finding: Hashable, Sendable {
        public var verdict: Verdict
        /// keepalived's log line for a disabled or unsafe script.
        public var message: String?
        /// Runs as root from a path others could change: enable_script_security disables it.
        public var insecure = false
        /// A found file: what keepalived's SC_ISSCRIPT marks.
        public var isScript: Bool { verdict == .runnable || verdict == .notExecutable }
    }

    /// The user scripts run as when none is configured: keepalived_script if the host has
    /// that user, else the daemon's own.
    public static var defaultUser: (uid: uid_t, gid: gid_t) {
        if let account = AccountLookup.user(named: "keepalived_script") { return (account.uid, account.gid) }
        return (getuid(), getgid())
    }

    public static func check(_ command: String, uid: uid_t, gid: gid_t, path: String? = nil) -> Finding {
        guard let program = ScriptCommand.argv(command).first, !program.isEmpty else {
            return Finding(verdict: .missing, message: "Script `\(command)` is empty - disabling")
        }
        if program.hasPrefix("<"), program.dropFirst().drop(while: { $0 == " " || $0 == "\t" }).hasPrefix("/") {
            return Finding(verdict: .fileTest, message: nil)
        }
        var file = program
        if !program.contains("/") {
            let search = path ?? getenv("PATH").map { String(cString: $0) } ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
            guard let found = search.split(separator: ":").map({ ($0.isEmpty ? "." : String($0)) + "/" + program })
                .first(where: { access($0, F_OK) == 0 }) else {
                return Finding(verdict: .missing, message: "Cannot find script \(program) in path - disabling")
            }
            file = found
        }
        guard let resolved = realpath(file, nil) else {
            return Finding(verdict: .missing, message: "Script \(file) cannot be accessed - \(String(cString: strerror(errno)))")
        }
        let real = String(cString: resolved)
        free(resolved)
        var st = stat()
        guard stat(real, &st) == 0 else {
            return Finding(verdict: .missing, message: "Unable to access script `\(file)` - disabling")
        }
        guard executable(st, uid: uid, gid: gid) else {
            return Finding(verdict: .notExecutable, message: "WARNING - script '\(file)' is not executable for uid:gid \(uid):\(gid) - disabling.")
        }
        // Run with root's rights, every step of the path must be root's alone.
        let privileged = uid == 0 || gid == 0 || (st.st_uid == 0 && st.st_mode & S_ISUID != 0) || (st.st_gid == 0 && st.st_mode & S_ISGID != 0)
        if privileged, let unsafe = firstUnsafeStep(real) {
            return Finding(verdict: .runnable, message: "Unsafe permissions found for script '\(file)' (\(unsafe))", insecure: true)
        }
        return Finding(verdict: .runnable, message: nil)
    }

    /// The first step of the path (from `/` down) that someone other than root could change:
    /// not owned by root, or writable by a group other than root's or by anyone, except a
    /// directory with the sticky bit.
    static func firstUnsafeStep(_ path: String) -> String? {
        var steps = ["/"]
        var prefix = ""
        for part in path.split(separator: "/") {
            prefix += "/" + part
            steps.append(prefix)
        }
        for step in steps {
            var st = stat()
            guard lstat(step, &st) == 0 else { return step }
            let isDirectory = st.st_mode & S_IFMT == S_IFDIR
            let guarded = isDirectory && st.st_mode & S_ISVTX != 0
            if st.st_uid != 0 { return step }
            if !guarded && ((st.st_gid != 0 && st.st_mode & S_IWGRP != 0) || st.st_mode & S_IWOTH != 0) { return step }
        }
        return nil
    }

    /// Execute permission as the kernel grants it to uid:gid (root: any execute bit).
    static func executable(_ st: stat, uid: uid_t, gid: gid_t) -> Bool {
        let mode = st.st_mode
        if uid == 0 { return mode & 0o111 != 0 }
        if st.st_uid == uid { return mode & S_IXUSR != 0 }
        if st.st_gid == gid { return mode & S_IXGRP != 0 }
        return mode & S_IXOTH != 0
    }
}
