#if canImport(Glibc)
import Glibc
#endif

/// Programs the lab runs (iproute2, sysctl, iptables-restore, the daemons). Spawned with
/// a clean signal mask and default dispositions so a daemon's SIGTERM handling does not
/// depend on what the lab blocked.
enum ExternalCommand {
    static let searchPath = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]

    /// The absolute path of `name`, looked up in PATH and then the usual system directories
    /// (root's PATH under sudo often lacks /usr/sbin).
    static func locate(_ name: String) -> String? {
        if name.hasPrefix("/") { return FileSystem.isExecutable(name) ? name : nil }
        let fromEnvironment = (getenv("PATH").map { String(cString: $0) } ?? "").split(separator: ":").map(String.init)
        for dir in fromEnvironment + searchPath where FileSystem.isExecutable(dir + "/" + name) {
            return dir + "/" + name
        }
        return nil
    }

    static func require(_ name: String, for why: String) throws(LabError) -> String {
        guard let p = locate(name) else { throw .missingProgram(name, neededFor: why) }
        return p
    }

    struct Output {
        var status: Int32
        var text: String
    }

    /// Runs to completion (at most `timeout` seconds, then SIGKILL) with stdout and stderr
    /// captured together.
    static func run(_ argv: [String], timeout: Double = 20) throws(LabError) -> Output {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw .socket("pipe", errno: errno) }
        let (readEnd, writeEnd) = (fds[0], fds[1])
        _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(writeEnd, F_SETFD, FD_CLOEXEC)
        let pid: pid_t
        do {
            pid = try spawn(argv, stdin: "/dev/null", outputFD: writeEnd, outputFile: nil, newSession: false)
        } catch {
            close(readEnd); close(writeEnd)
            throw error
        }
        close(writeEnd)
        defer { close(readEnd) }
        var collected: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 8192)
        let deadline = WallClock.now() + timeout
        var status: Int32 = 0
        var exited = false
        while true {
            var p = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, 50)
            if ready > 0 {
                let n = chunk.withUnsafeMutableBytes { Glibc.read(readEnd, $0.baseAddress, $0.count) }
                if n > 0 { collected.append(contentsOf: chunk[0..<n]); continue }
                if n == 0 { break }
            }
            // A grandchild may keep the pipe open after the command itself exited.
            if !exited && waitpid(pid, &status, WNOHANG) == pid { exited = true }
            if exited && ready == 0 { break }
            if WallClock.now() > deadline {
                kill(pid, SIGKILL)
                break
            }
        }
        if !exited { _ = waitpid(pid, &status, 0) }
        let text = String(decoding: collected, as: UTF8.self)
        if WallClock.now() > deadline && !exited {
            throw .timedOut(waitingFor: "`\(argv.joined(separator: " "))`", seconds: timeout, log: nil)
        }
        let code: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Output(status: code, text: text)
    }

    /// Runs and throws with the output if the exit status is not 0.
    @discardableResult
    static func check(_ argv: [String], timeout: Double = 20) throws(LabError) -> String {
        let r = try run(argv, timeout: timeout)
        guard r.status == 0 else { throw .commandFailed(command: argv.joined(separator: " "), status: r.status, output: r.text) }
        return r.text
    }

    /// Starts a long-running program in a session of its own (so the terminal's Ctrl-C
    /// reaches only the lab, which then stops it by PID) with both outputs appended to `log`.
    static func startDaemon(_ argv: [String], log: String) throws(LabError) -> pid_t {
        try spawn(argv, stdin: "/dev/null", outputFD: nil, outputFile: log, newSession: true)
    }

    private static func spawn(_ argv: [String], stdin: String, outputFD: Int32?, outputFile: String?, newSession: Bool) throws(LabError) -> pid_t {
        guard let program = argv.first, let path = locate(program) else {
            throw .missingProgram(argv.first ?? "(nothing)", neededFor: "the lab")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0)
        if let fd = outputFD {
            posix_spawn_file_actions_adddup2(&actions, fd, 1)
            posix_spawn_file_actions_adddup2(&actions, fd, 2)
        } else if let file = outputFile {
            posix_spawn_file_actions_addopen(&actions, 1, file, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGUSR1, SIGUSR2, SIGCHLD] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        // 0x80 = POSIX_SPAWN_SETSID, which Glibc's Swift module hides behind _GNU_SOURCE.
        let flags = Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF) | (newSession ? 0x80 : 0)
        posix_spawnattr_setflags(&attributes, Int16(flags))
        var cArgs: [UnsafeMutablePointer<CChar>?] = ([path] + argv.dropFirst()).map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attributes, &cArgs, environ)
        guard rc == 0 else { throw .socket("posix_spawn \(path)", errno: rc) }
        return pid
    }
}
