#if canImport(Glibc)
import Glibc
#endif

/// Runs one nft script as a single transaction (`nft -f -`, the script on its standard
/// input): it applies whole or not at all. Bounded: an nft that has not finished within
/// `timeout` seconds is killed and reported. Tandem drives the nft binary rather than
/// nf_tables netlink because the ruleset keepalived builds needs the expression encoding
/// (payload, lookup, verdict, counter) that nft already gets right.
enum NftCommand {
    enum Failure: Error, CustomStringConvertible {
        case notFound
        case cannotStart(errno: Int32)
        case refused(status: Int32, output: String)
        case timedOut

        var description: String {
            switch self {
            case .notFound: "nft not found (/usr/sbin/nft, /sbin/nft, /usr/bin/nft)"
            case .cannotStart(let e): "cannot start nft: \(String(cString: strerror(e)))"
            case .refused(let s, let out): "nft exited \(s): " + out.split(separator: "\n").prefix(3).joined(separator: " / ")
            case .timedOut: "nft did not finish (killed)"
            }
        }
    }

    static let candidates = ["/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft", "/bin/nft"]

    static var path: String? { candidates.first { access($0, X_OK) == 0 } }

    static func run(_ script: String, timeout: Double = 5) -> Result<Void, Failure> {
        guard let nft = path else { return .failure(.notFound) }
        var input: [Int32] = [0, 0], output: [Int32] = [0, 0]
        guard pipe(&input) == 0 else { return .failure(.cannotStart(errno: errno)) }
        guard pipe(&output) == 0 else {
            let e = errno
            close(input[0]); close(input[1])
            return .failure(.cannotStart(errno: e))
        }
        // Glibc's module has no pipe2: the ends are marked close-on-exec here, so that
        // nft keeps only the copies made on 0, 1 and 2 (and notify scripts none).
        for fd in input + output { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, input[0], 0)
        posix_spawn_file_actions_adddup2(&actions, output[1], 1)
        posix_spawn_file_actions_adddup2(&actions, output[1], 2)
        var argv: [UnsafeMutablePointer<CChar>?] = [strdup(nft), strdup("-f"), strdup("-"), nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, nft, &actions, nil, &argv, environ)
        close(input[0]); close(output[1])
        guard rc == 0 else {
            close(input[1]); close(output[0])
            return .failure(.cannotStart(errno: rc))
        }
        // The scripts are a few hundred bytes, far below a pipe's capacity: the write
        // cannot block on a child that has not read yet.
        let bytes = Array(script.utf8)
        _ = bytes.withUnsafeBytes { write(input[1], $0.baseAddress, $0.count) }
        close(input[1])
        var text: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = monotonicSeconds() + timeout
        var finished = false
        while !finished {
            let left = deadline - monotonicSeconds()
            guard left > 0 else { break }
            var p = pollfd(fd: output[0], events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, Int32(left * 1000) + 1) > 0 else { continue }
            let n = read(output[0], &buffer, buffer.count)
            if n > 0 { text += buffer[0..<n] } else if n == 0 || errno != EINTR { finished = true }
        }
        close(output[0])
        var status: Int32 = 0
        if !finished {
            kill(pid, SIGKILL)
            _ = waitpid(pid, &status, 0)
            return .failure(.timedOut)
        }
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exit = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        guard exit == 0 else { return .failure(.refused(status: exit, output: String(decoding: text, as: UTF8.self))) }
        return .success(())
    }

    private static func monotonicSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
}
