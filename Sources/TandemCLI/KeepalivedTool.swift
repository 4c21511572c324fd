#if canImport(Glibc)
import Glibc
#endif
import ConfigParsing

/// `tandem keepalived` and the `keepalived` link. So far: `-t` / `--config-test` with
/// keepalived 2.2.7's exit codes (0 OK, 4 cannot run, 5 errors but would run, 6 scripts
/// without script security). The flags the reference lab passes are accepted.
public struct KeepalivedTool {
    let output: OutputSink

    public init(output: OutputSink) { self.output = output }

    static let flagsWithValue: Set<String> = ["-p", "--pid", "-r", "--vrrp_pid", "-c", "--checkers_pid", "-b", "--bfd_pid",
                                               "-S", "--log-facility", "-g", "--log-file", "-i", "--config-id", "-s", "--namespace"]

    public func run(_ argv: [String]) -> Int32 {
        var file = "/etc/keepalived/keepalived.conf"
        var test = false
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
            else if Self.flagsWithValue.contains(a) { i += 1 }
            else if a == "-v" || a == "--version" { output.out("Keepalived v2.2.7 compatible (tandem)"); return 0 }
            i += 1
        }
        guard test else {
            output.err("tandem keepalived: the VRRP daemon is not implemented yet (available: -t -f FILE)")
            return 1
        }
        let config: KeepalivedConfiguration
        do {
            config = try KeepalivedConfigParser.parse(file: file)
        } catch {
            output.err(error.description)
            return 4
        }
        for w in config.warnings { output.err(w.description) }
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
