#if canImport(Glibc)
import Glibc
#endif
import FuzzHarnesses

/// The fuzzer without libFuzzer: replays files, or mutates a corpus at random for a
/// while. Coverage-blind, so it finds less; it needs no special build and runs anywhere.
enum StandaloneRunner {
    static let usage = """
        usage: tandem-fuzz --list
               tandem-fuzz TARGET FILE|DIR...            replay inputs
               tandem-fuzz TARGET --random SECONDS [--seed N] [DIR...]
                                                        mutate the corpus (or random bytes) for SECONDS
        """

    static func main(_ args: [String]) -> Int32 {
        guard let first = args.first else { warn(usage + "\n"); return 2 }
        if first == "--list" {
            for t in FuzzTarget.all { print("\(t.name)\t\(t.summary)") }
            return 0
        }
        guard let target = FuzzTarget.named(first) else {
            warn("tandem-fuzz: unknown target `\(first)'; --list names them\n")
            return 2
        }
        var rest = Array(args.dropFirst())
        var seconds: Int?
        var seed: UInt64 = 1
        var paths: [String] = []
        while !rest.isEmpty {
            let a = rest.removeFirst()
            switch a {
            case "--random":
                guard let s = rest.first.flatMap({ Int($0) }), s > 0 else { warn("tandem-fuzz: --random needs seconds\n"); return 2 }
                seconds = s; rest.removeFirst()
            case "--seed":
                guard let s = rest.first.flatMap({ UInt64($0) }) else { warn("tandem-fuzz: --seed needs a number\n"); return 2 }
                seed = s; rest.removeFirst()
            default:
                if a.hasPrefix("-") { warn("tandem-fuzz: unknown option `\(a)'\n" + usage + "\n"); return 2 }
                paths.append(a)
            }
        }
        let inputs: [[UInt8]]
        do { inputs = try CorpusFiles.inputs(paths) } catch {
            warn("tandem-fuzz: \(error)\n")
            return 1
        }
        for input in inputs { target.run(input) }
        guard let seconds else {
            print("\(target.name): replayed \(inputs.count) inputs")
            return 0
        }
        var rng = Mutator(seed: seed, corpus: inputs)
        let deadline = time(nil) + seconds
        var executions = 0
        while time(nil) < deadline {
            for _ in 0..<1000 {
                target.run(rng.next())
                executions += 1
            }
        }
        print("\(target.name): \(executions) executions in \(seconds) s, 0 crashes")
        return 0
    }
}

/// To standard error (fd 2: Glibc's `stderr` is a global Swift 6 refuses to share).
func warn(_ text: String) {
    var bytes = Array(text.utf8)
    _ = write(2, &bytes, bytes.count)
}
