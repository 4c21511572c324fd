import ConfigParsing
import TestSupport
import Testing

/// The seed's keepalived.conf broken in many ways: each variant is reported (by a thrown
/// error, a configuration error, or a refusal) with the fault's line named, never a
/// crash. The seed itself, unchanged, is the control: nothing is reported on any line.
@Suite struct KeepalivedConfigCorpusTests {
    static let file = "/etc/keepalived/keepalived.conf"

    /// Everything Tandem reports about a file that names a line of it; problems that name
    /// no line (line 0: the host's script user, for example) belong to the host.
    static func problems(_ text: String) -> [ConfigError] {
        do {
            let c = try KeepalivedConfigParser.parse(text, file: file, configID: nil)
            return (c.errors + c.toleratedErrors + c.unsupported).filter { $0.location.line > 0 }
        } catch {
            return [error]
        }
    }

    @Test func seedLoadsUnchanged() throws {
        let seed = KeepalivedConfigCorpus.seed
        #expect(seed.contains("vrrp_sync_group G1 {") && seed.contains("vrrp_instance EXT {"))
        // keepalived, too, reports that it clears nopreempt on a MASTER instance, and runs.
        let own = Self.problems(seed)
        #expect(own.count == 2 && own.allSatisfy { $0.message.contains("nopreempt will not work with initial state MASTER") }, "\(own)")
        let c = try KeepalivedConfigParser.parse(seed, file: Self.file, configID: nil)
        #expect(c.instances.map(\.name) == ["INT", "EXT"])
    }

    @Test func atLeastFortyVariants() {
        #expect(KeepalivedConfigCorpus.variants.count >= 40)
        #expect(Set(KeepalivedConfigCorpus.variants.map(\.name)).count == KeepalivedConfigCorpus.variants.count)
    }

    @Test(arguments: KeepalivedConfigCorpus.variants.map(\.name))
    func brokenVariantIsReportedAtItsLine(name: String) throws {
        let v = try #require(KeepalivedConfigCorpus.variants.first { $0.name == name })
        #expect(v.text != KeepalivedConfigCorpus.seed)
        let found = Self.problems(v.text)
        #expect(!found.isEmpty, "\(name): accepted")
        #expect(found.contains { $0.location.line == v.line }, "\(name): line \(v.line) not named in \(found.map(\.description))")
        for e in found {
            #expect(e.description.hasPrefix("\(Self.file):\(e.location.line):\(e.location.column): "), "\(e)")
        }
    }
}
