import ConfigParsing
import TestSupport
import Testing

/// The seed's conntrackd.conf broken in many ways: each variant is refused with an
/// error naming the fault's line, never accepted, never a crash (a trap would end the
/// test process). The seed itself, unchanged, is the control.
@Suite struct ConntrackdConfigCorpusTests {
    @Test func seedLoadsUnchanged() throws {
        let seed = ConntrackdConfigCorpus.seed
        #expect(seed.contains("Sync {") && seed.contains("General {"))
        let c = try ConntrackdConfigParser.check(seed, file: "seed.conf")
        #expect(c.sync?.channels.count == 1)
    }

    @Test func atLeastFortyVariants() {
        #expect(ConntrackdConfigCorpus.variants.count >= 40)
        #expect(Set(ConntrackdConfigCorpus.variants.map(\.name)).count == ConntrackdConfigCorpus.variants.count)
    }

    @Test(arguments: ConntrackdConfigCorpus.variants.map(\.name))
    func brokenVariantIsRefusedAtItsLine(name: String) throws {
        let v = try #require(ConntrackdConfigCorpus.variants.first { $0.name == name })
        #expect(v.text != ConntrackdConfigCorpus.seed)
        do {
            let c = try ConntrackdConfigParser.check(v.text, file: "/etc/conntrackd/conntrackd.conf")
            Issue.record("\(name): accepted (\(c.warnings.map(\.description)))")
        } catch {
            #expect(error.location.line == v.line, "\(name): \(error)")
            #expect(error.description.hasPrefix("/etc/conntrackd/conntrackd.conf:\(v.line):\(error.location.column): error: "), "\(error)")
            // What Tandem does not do is said in so many words.
            if v.name.contains("Helper") {
                #expect(error.message.contains("not supported"), "\(error)")
            }
            // With a Sync section, Stats is conntrackd's own error.
            if v.name.contains("Stats") { #expect(error.message.contains("cannot use both `Stats' and `Sync'"), "\(error)") }
        }
    }
}
