/// One decoder reachable from outside, driven with arbitrary bytes. A harness returns
/// normally for every input: bad input must come back as a typed error or a counted
/// drop. A harness traps only where a decoder broke a promise it documents (an
/// invariant), which is a finding just like a crash.
public struct FuzzTarget: Sendable {
    public let name: String
    /// What the bytes are and what drives them.
    public let summary: String
    public let run: @Sendable ([UInt8]) -> Void

    public init(name: String, summary: String, run: @escaping @Sendable ([UInt8]) -> Void) {
        self.name = name
        self.summary = summary
        self.run = run
    }
}

extension FuzzTarget {
    /// Every target; `scripts/fuzz --list` prints these names and the corpora live in
    /// Fuzz/Corpus/<name>.
    public static let all: [FuzzTarget] = [
        SyncDatagramHarness.target,
        SyncStreamHarness.target,
        SyncEngineHarness.target,
        AdvertHarness.ipv4Target,
        AdvertHarness.ipv6Target,
        NetlinkHarness.target,
        LinkEventHarness.target,
        ConfigHarness.conntrackdTarget,
        ConfigHarness.keepalivedTarget,
        ControlRequestHarness.target,
        ControlAnswerHarness.target,
        PeerViewHarness.target,
    ]

    public static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }
}

/// Fuzzer invariant broken: reported as a crash so the fuzzer keeps the input.
func invariant(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
               file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { fatalError("fuzz invariant: \(message())", file: file, line: line) }
}
