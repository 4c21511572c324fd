/// keepalived's notify hook for the script-driven stacks: Debian's example
/// primary-backup.sh with only its three variables changed, as the seed says to do, and
/// a tracing wrapper in place of the conntrackd binary so the lab can read when each
/// step (above all `conntrackd -c`, the commit) started, finished and what it returned.
struct NotifyScript {
    static let debianExample = "/usr/share/doc/conntrackd/examples/sync/primary-backup.sh"

    let names: LabNames
    let fw: Firewall
    /// The conntrackd the script drives (Debian's, or the state directory's link to Tandem).
    let conntrackd: String

    var scriptPath: String { names.file(fw, "primary-backup.sh") }
    var wrapperPath: String { names.file(fw, "conntrackd-trace.sh") }
    var traceLog: String { names.file(fw, "notify.log") }

    /// Rewrites the example's variable lines; fails if the example no longer has them, since
    /// a script silently driving /usr/sbin/conntrackd would measure the wrong daemon.
    func script(fromExample example: String) throws(LabError) -> String {
        let replacements: [(String, String)] = [
            ("CONNTRACKD_BIN=", "CONNTRACKD_BIN=\(wrapperPath)  # LAB-ADAPTED (traces, then runs \(conntrackd))"),
            ("CONNTRACKD_LOCK=", "CONNTRACKD_LOCK=\(names.file(fw, "conntrack.lock"))  # LAB-ADAPTED"),
            ("CONNTRACKD_CONFIG=", "CONNTRACKD_CONFIG=\(names.file(fw, "conntrackd.conf"))  # LAB-ADAPTED\n"
                + "echo \"$(date +%s.%N) transition $1 (primary-backup.sh)\" >>\(traceLog)  # LAB-ADAPTED"),
        ]
        var seen = Set<String>()
        var lines: [String] = []
        for line in example.split(separator: "\n", omittingEmptySubsequences: false) {
            if let (key, replacement) = replacements.first(where: { line.hasPrefix($0.0) }), !seen.contains(key) {
                seen.insert(key)
                lines.append(replacement)
            } else {
                lines.append(String(line))
            }
        }
        guard seen.count == replacements.count else {
            throw .badState(path: Self.debianExample, reason: "it no longer sets CONNTRACKD_BIN, CONNTRACKD_LOCK and CONNTRACKD_CONFIG")
        }
        return lines.joined(separator: "\n")
    }

    /// One line per conntrackd call: start and end (epoch seconds), rc, arguments.
    var wrapper: String {
        """
        #!/bin/sh
        # tandem lab: logs every conntrackd call primary-backup.sh makes, then runs the real one
        t0=$(date +%s.%N)
        "\(conntrackd)" "$@" >>"\(names.file(fw, "notify-cmd.out"))" 2>&1
        rc=$?
        echo "$t0 $(date +%s.%N) rc=$rc conntrackd $*" >>"\(traceLog)"
        exit $rc

        """
    }
}

/// One line of the wrapper's trace (or a transition line of the script).
struct NotifyTraceLine {
    var started: Double
    var finished: Double?
    var rc: Int?
    var arguments: String

    /// `START END rc=N conntrackd ARGS` or `START transition STATE (primary-backup.sh)`.
    init?(_ line: Substring) {
        let f = line.split(separator: " ", omittingEmptySubsequences: true)
        guard f.count >= 2, let t = Double(f[0]) else { return nil }
        started = t
        if f[1] == "transition" {
            arguments = f.dropFirst().joined(separator: " ")
            return
        }
        guard f.count >= 4, let end = Double(f[1]), f[2].hasPrefix("rc=") else { return nil }
        finished = end
        rc = Int(f[2].dropFirst(3))
        arguments = f.dropFirst(3).joined(separator: " ")
    }

    /// True for the call `conntrackd … FLAG` (the script passes the flag last).
    func isCall(_ flag: String) -> Bool { finished != nil && arguments.hasSuffix(" " + flag) }
    var isTransition: Bool { finished == nil }
}
