#if canImport(Glibc)
import Glibc
#endif

/// What keepalived 2.2.7 makes of a configuration's scripts before the VRRP process runs
/// (vrrp.c, check_vrrp_script_security): each script is looked at as the user it runs
/// as; a missing or non-executable one is disabled (a track script's disabling is a
/// configuration error, a notify script's only a log line), an unsafe one too when
/// enable_script_security is set; and any script found at all without
/// enable_script_security is the "SECURITY VIOLATION" that makes `-t` exit 6. `vetted`
/// is the configuration with the disabled scripts taken out, which is what runs.
public struct ScriptVetting {
    public private(set) var logLines: [String] = []
    /// Configuration errors (`-t` exits 5 for them).
    public private(set) var errors: [String] = []
    /// The violation line, when scripts run without enable_script_security.
    public private(set) var securityViolation: String?
    public private(set) var vetted: KeepalivedConfiguration

    /// Each script is looked at as the user it runs as (the file gave every one its user);
    /// `user` stands in for one that has none, as in a configuration built by hand.
    public init(_ config: KeepalivedConfiguration, user: (uid: uid_t, gid: gid_t) = ScriptSecurity.defaultUser, path: String? = nil) {
        vetted = config
        guard !config.instances.isEmpty else { return }
        var lines: [String] = []
        var sawScript = false
        var sawInsecure = false
        let guarded = config.enableScriptSecurity
        func look(_ command: String, as runAs: ScriptUser?) -> ScriptSecurity.Finding {
            let f = ScriptSecurity.check(command, uid: runAs?.uid ?? user.uid, gid: runAs?.gid ?? user.gid, path: path)
            sawScript = sawScript || f.isScript
            sawInsecure = sawInsecure || f.insecure
            if let m = f.message { lines.append(guarded && f.insecure ? m + " - disabling" : m) }
            return f
        }
        var failures: [String] = []
        var disabled: Set<String> = []
        for s in config.scripts {
            guard let command = s.command else { continue }
            let f = look(command, as: s.user)
            switch f.verdict {
            case .missing: failures.append("Disabling track script \(s.name) since not found/accessible")
            case .notExecutable: break
            case .runnable where guarded && f.insecure: failures.append("Disabling track script \(s.name) due to insecure")
            case .runnable, .fileTest: continue
            }
            disabled.insert(s.name)
        }
        func keep(_ command: String?, as runAs: ScriptUser?) -> String? {
            guard let command else { return nil }
            let f = look(command, as: runAs)
            switch f.verdict {
            case .missing, .notExecutable: return nil
            case .runnable: return guarded && f.insecure ? nil : command
            case .fileTest: return command
            }
        }
        func screened(_ n: KeepalivedConfiguration.Notify) -> KeepalivedConfiguration.Notify {
            var v = n
            for slot in KeepalivedConfiguration.Notify.Slot.allCases { v[slot] = keep(n[slot], as: n.runAs[slot]) }
            return v
        }
        var result = config
        result.scripts.removeAll { disabled.contains($0.name) }
        for i in result.instances.indices {
            result.instances[i].notify = screened(config.instances[i].notify)
            result.instances[i].trackScripts.removeAll { disabled.contains($0.name) }
        }
        for g in result.syncGroups.indices {
            result.syncGroups[g].notify = screened(config.syncGroups[g].notify)
            result.syncGroups[g].trackScripts.removeAll { disabled.contains($0.name) }
        }
        result.notifyFifoScript = keep(config.notifyFifoScript, as: config.notifyFifoScriptUser)
        self.vetted = result
        logLines = lines
        errors = failures
        if !guarded && sawScript {
            securityViolation = "SECURITY VIOLATION - scripts are being executed but script_security not enabled."
                + (sawInsecure ? " There are insecure scripts." : "")
        }
    }
}
