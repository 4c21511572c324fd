#if canImport(Glibc)
import Glibc
#endif
import ConfigParsing
import VRRP
import Timekeeping

/// Runs the vrrp_scripts every `interval` without ever waiting for one: each run is a
/// child in its own process group, reaped when it exits and killed when it outlives its
/// timeout (a hung check must fail, not stall the protocol).
final class ScriptRunner {
    final class Script {
        let config: KeepalivedConfiguration.Script
        var health: ScriptHealth
        var nextRun: Instant
        var running: (pid: pid_t, deadline: Instant)?
        /// Set when the timeout's SIGTERM went out; SIGKILL follows at this time.
        var killAt: Instant?
        init(config: KeepalivedConfiguration.Script, now: Instant) {
            self.config = config
            health = ScriptHealth(rise: config.rise, fall: config.fall, initFail: config.initFail)
            nextRun = now
        }
        var interval: Duration { .seconds(max(0.01, config.interval)) }
        var timeout: Duration { .seconds(max(0.01, config.timeout ?? config.interval)) }
    }

    private(set) var scripts: [String: Script] = [:]
    let log: (String) -> Void

    init(_ configs: [KeepalivedConfiguration.Script], now: Instant, log: @escaping (String) -> Void) {
        self.log = log
        for c in configs where c.command != nil { scripts[c.name] = Script(config: c, now: now) }
    }

    /// A reload keeps the status of scripts whose command is unchanged.
    func reload(_ configs: [KeepalivedConfiguration.Script], now: Instant) {
        var next: [String: Script] = [:]
        for c in configs where c.command != nil {
            if let old = scripts[c.name], old.config == c { next[c.name] = old } else { next[c.name] = Script(config: c, now: now) }
        }
        for (name, old) in scripts where next[name] !== old {
            if let r = old.running { kill(-r.pid, SIGKILL); var st: Int32 = 0; waitpid(r.pid, &st, 0) }
        }
        scripts = next
    }

    func status(_ name: String) -> Bool? { scripts[name]?.health.isOK }

    var nextDeadline: Instant {
        scripts.values.map { s in
            if let k = s.killAt { return k }
            if let r = s.running { return r.deadline }
            return s.nextRun
        }.min() ?? .never
    }

    /// Reaps, kills the overdue, starts the due. Returns the scripts whose status changed.
    func service(now: Instant) -> [String] {
        var changed: [String] = []
        for (name, s) in scripts {
            if let r = s.running {
                var status: Int32 = 0
                let w = waitpid(r.pid, &status, WNOHANG)
                if w == r.pid || w < 0 {
                    s.running = nil
                    s.killAt = nil
                    let success = w == r.pid && (status & 0x7f) == 0 && (status >> 8) & 0xff == 0
                    s.nextRun = max(s.nextRun, now)
                    if let ok = s.health.record(success: success) {
                        log("VRRP_Script(\(name)) \(ok ? "succeeded" : "failed")")
                        changed.append(name)
                    }
                } else if let k = s.killAt, now >= k {
                    kill(-r.pid, SIGKILL)
                } else if s.killAt == nil, now >= r.deadline {
                    log("VRRP_Script(\(name)) timed out")
                    kill(-r.pid, SIGTERM)
                    s.killAt = now + .seconds(2)
                }
                continue
            }
            guard now >= s.nextRun, let command = s.config.command else { continue }
            s.nextRun = now + s.interval
            switch Self.spawn(command, as: s.config.user) {
            case .success(let pid):
                s.running = (pid, now + s.timeout)
            case .failure(let why):
                // Counted as a failed check (its fall count applies); logged when that
                // changes the script's health, so a script that never starts is one line.
                if let ok = s.health.record(success: false) {
                    log("VRRP_Script(\(name)) cannot be run: \(why)")
                    if !ok { changed.append(name) }
                }
            }
        }
        return changed
    }

    /// Terminates running checks at shutdown, as keepalived does.
    func stopAll() {
        for s in scripts.values {
            guard let r = s.running else { continue }
            kill(-r.pid, SIGKILL)
            var status: Int32 = 0
            waitpid(r.pid, &status, 0)
            s.running = nil
        }
    }

    /// As keepalived runs a check: the command line split into words (its quoting rules)
    /// and executed directly, with no shell between; only a `<FILE` readability test goes
    /// through the shell, as keepalived's system() does. A new process group so a timeout
    /// reaches the script's own children too; the script's user and group.
    static func spawn(_ command: String, as user: ScriptUser?) -> Result<pid_t, ScriptLaunch.Failure> {
        let argv = ScriptCommand.argv(command)
        if argv.first?.hasPrefix("<") == true {
            return ScriptLaunch.start(["/bin/sh", "-c", argv.joined(separator: " ")], search: false, as: user)
        }
        return ScriptLaunch.start(argv, search: true, as: user)
    }
}
