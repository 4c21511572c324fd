import ConfigParsing
@testable import Daemon
import Testing

/// Which processes a vrrp_track_process counts, as keepalived 2.2.7 matches them.
@Suite struct TrackedProcessMatchTests {
    func process(_ path: String, _ params: [String] = [], match: KeepalivedConfiguration.TrackProcess.ParameterMatch = .none,
                 full: Bool = false) -> KeepalivedConfiguration.TrackProcess {
        var p = KeepalivedConfiguration.TrackProcess(name: "p")
        p.process = path
        p.parameters = params
        p.parameterMatch = match
        p.fullCommand = full || !params.isEmpty || match != .none
        return p
    }

    func cmdline(_ words: String...) -> [UInt8] { words.flatMap { Array($0.utf8) + [0] } }

    @Test func commOrArgv0() {
        #expect(TrackedProcesses.matches(process("nginx"), comm: "nginx", cmdline: nil))
        #expect(!TrackedProcesses.matches(process("nginx"), comm: "nginx: worker", cmdline: nil))
        #expect(TrackedProcesses.matches(process("/usr/sbin/nginx", full: true), comm: nil, cmdline: cmdline("/usr/sbin/nginx", "-g", "x")))
        #expect(!TrackedProcesses.matches(process("nginx", full: true), comm: nil, cmdline: cmdline("/usr/sbin/nginx")))
    }

    @Test func parameterMatching() {
        let line = cmdline("/usr/bin/python3", "worker.py", "--queue", "high")
        #expect(TrackedProcesses.matches(process("/usr/bin/python3", ["worker.py", "--queue", "high"], match: .exact), comm: nil, cmdline: line))
        #expect(!TrackedProcesses.matches(process("/usr/bin/python3", ["worker.py", "--queue"], match: .exact), comm: nil, cmdline: line))
        #expect(TrackedProcesses.matches(process("/usr/bin/python3", ["worker.py", "--queue"], match: .partial), comm: nil, cmdline: line))
        #expect(!TrackedProcesses.matches(process("/usr/bin/python3", ["worker.py", "--q"], match: .partial), comm: nil, cmdline: line))
        #expect(TrackedProcesses.matches(process("/usr/bin/python3", ["worker.py", "--q"], match: .initial), comm: nil, cmdline: line))
        // `param_match` alone with no arguments: only a process without arguments.
        #expect(!TrackedProcesses.matches(process("/usr/bin/python3", match: .exact), comm: nil, cmdline: line))
        #expect(TrackedProcesses.matches(process("/usr/bin/python3", match: .exact), comm: nil, cmdline: cmdline("/usr/bin/python3")))
    }

    @Test func statGivesCommAndZombies() {
        #expect(TrackedProcesses.parseStat(Array("42 (tk2 sleeper) S 1 2".utf8)).map { [$0.0, "\($0.1)"] } == ["tk2 sleeper", "false"])
        #expect(TrackedProcesses.parseStat(Array("42 (x) Z 1".utf8))?.1 == true)
        #expect(TrackedProcesses.parseStat(Array("garbage".utf8)) == nil)
    }
}
