#if canImport(Glibc)
import Glibc
#endif
import ConfigParsing
import Daemon

/// `tandem keepalived` and the `keepalived` link. So far: `-t` / `--config-test` with
/// keepalived 2.2.7's exit codes (0 OK, 4 cannot run, 5 errors but would run, 6 scripts
/// without script security). The flags the reference lab passes are accepted.
public struct KeepalivedTool {
    let output: OutputSink
    let shouldStop: () -> Bool

    public init(output: OutputSink, shouldStop: @escaping () -> Bool = { false }) {
        self.output = output
        self.shouldStop = shouldStop
    }

    static let flagsWithValue: Set<String> = ["-p", "--pid", "-r", "--vrrp_pid", "-c", "--checkers_pid", "-b", "--bfd_pid",
                                               "-S", "--log-facility", "-g", "--log-file", "-i", "--config-id", "-s", "--namespace"]

    public func run(_ argv: [String]) -> Int32 {
        var file = "/etc/keepalived/keepalived.conf"
        var test = false
        var pidFiles: [String] = []
        var i = 0
        while i < argv.count {
            let a = argv[i]
            if a == "-f" || a == "--use-file" {
                guard i + 1 < argv.count else { output.err("keepalived: option -f needs a file"); return 2 }
                file = argv[i + 1]
                i += 2
                continue
            }
            if a.hasPrefix("--use-file=") { file = String(a.dropFirst("--use-file=".count)) }
            else if a == "-t" || a.hasPrefix("--config-test") { test = true }
            else if ["-p", "--pid", "-r", "--vrrp_pid"].contains(a), i + 1 < argv.count { pidFiles.append(argv[i + 1]); i += 1 }
            else if Self.flagsWithValue.contains(a) { i += 1 }
            else if a == "-v" || a == "--version" { output.out("Keepalived v2.2.7 compatible (tandem)"); return 0 }
            i += 1
        }
        let config: KeepalivedConfiguration
        do {
            config = try KeepalivedConfigParser.parse(file: file)
        } catch {
            output.err(error.description)
            return 4
        }
        for w in config.warnings { output.err(w.description) }
        if !test { return runDaemon(config, pidFiles: pidFiles) }
        var missingInterface = false
        for v in config.instances {
            for name in [v.interface].compactMap({ $0 }) + v.virtualAddresses.compactMap(\.device) where if_nametoindex(name) == 0 {
                output.err("\(v.location): warning: interface \(name) for vrrp_instance \(v.name) doesn't exist")
                missingInterface = true
            }
        }
        for e in config.errors { output.err(e.description) }
        if missingInterface { output.err("Non-existent interface specified in configuration") }
        let scripts = !config.scripts.isEmpty || config.syncGroups.contains { $0.notify != .init() }
            || config.instances.contains { $0.notify != .init() }
        if !config.errors.isEmpty || missingInterface { return 5 }
        if scripts && !config.enableScriptSecurity && config.scriptUser == nil {
            output.err("SECURITY VIOLATION - scripts are being executed but script_security not enabled.")
            return 6
        }
        return 0
    }
}

extension KeepalivedTool {
    func runDaemon(_ config: KeepalivedConfiguration, pidFiles: [String]) -> Int32 {
        for e in config.errors { output.err(e.description) }
        for path in pidFiles {
            let text = Array("\(getpid())\n".utf8)
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            if fd >= 0 { _ = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }; close(fd) }
        }
        defer { for path in pidFiles { unlink(path) } }
        let out = output
        do {
            let daemon = try KeepalivedDaemon(configuration: config, log: { out.err("Keepalived_vrrp[\(getpid())]: \($0)") },
                                              shouldStop: shouldStop)
            try daemon.run()
            return 0
        } catch {
            output.err("Keepalived_vrrp: \(error)")
            return 1
        }
    }
}
