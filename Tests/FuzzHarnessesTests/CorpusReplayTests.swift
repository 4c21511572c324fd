import FuzzHarnesses
import Testing

/// CI's fuzzing: every committed corpus input (Fuzz/Corpus/<target>, seeded from the
/// golden vectors and grown by libFuzzer) replayed through its harness in the test
/// build. A harness that traps on one fails the whole run, which is the point.
@Suite struct CorpusReplayTests {
    static let corpusRoot: String = {
        // Tests/FuzzHarnessesTests/CorpusReplayTests.swift → the package root.
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/") + "/Fuzz/Corpus"
    }()

    @Test(arguments: FuzzTarget.all.map(\.name))
    func corpusReplaysWithoutCrash(target name: String) throws {
        let target = try #require(FuzzTarget.named(name))
        let inputs = try CorpusFiles.inputs([Self.corpusRoot + "/" + name])
        #expect(!inputs.isEmpty, "Fuzz/Corpus/\(name) is empty: run scripts/fuzz-seeds")
        for input in inputs { target.run(input) }
    }

    @Test func targetNamesAreUniqueAndEveryCorpusHasATarget() throws {
        let names = FuzzTarget.all.map(\.name)
        #expect(Set(names).count == names.count)
        let directories = try CorpusFiles.directories(Self.corpusRoot)
        #expect(Set(directories) == Set(names))
    }

    /// The harnesses themselves take the empty input and short junk.
    @Test(arguments: FuzzTarget.all.map(\.name))
    func degenerateInputs(target name: String) throws {
        let target = try #require(FuzzTarget.named(name))
        for input: [UInt8] in [[], [0], [0xff], [UInt8](repeating: 0, count: 64), [UInt8](repeating: 0xff, count: 64)] {
            target.run(input)
        }
    }
}
