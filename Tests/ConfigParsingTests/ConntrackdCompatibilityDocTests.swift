import ConfigParsing
import TestSupport
import Testing

/// docs/compatibility.md's conntrackd.conf table has one row per keyword of conntrackd
/// 1.4.7's lexer, no more, and each row says what becomes of the keyword.
@Suite struct ConntrackdCompatibilityDocTests {
    @Test func everyKeywordHasARowAndEveryRowAKeyword() {
        let rows = CompatibilityTable.rows(section: "conntrackd.conf")
        #expect(rows.count >= 80, "the table is read")
        let documented = rows.flatMap(\.names)
        #expect(Set(documented).count == documented.count, "a keyword is listed twice")
        let keywords = Set(ConntrackdKeywords.all)
        #expect(keywords.count == ConntrackdKeywords.all.count)
        #expect(keywords.subtracting(documented).sorted() == [], "keywords without a row")
        #expect(Set(documented).subtracting(keywords).sorted() == [], "rows for no keyword")
        for row in rows {
            let s = row.status
            #expect(s.hasPrefix("acted on") || s.hasPrefix("refused") || s.hasPrefix("out of scope"), "\(row.line)")
        }
    }

    /// The rows that say "refused" are refused by the parser (the control: the same
    /// file without the keyword loads).
    @Test func refusedRowsAreRefused() throws {
        let link = "UDP { IPv4_address 10.0.0.1 IPv4_Destination_Address 10.0.0.2 Port 3780 }"
        _ = try ConntrackdConfigParser.check("Sync { \(link) }")
        for text in ["Stats { }", "Sync { \(link) }\nHelper { }", "General { }"] {
            do {
                _ = try ConntrackdConfigParser.check(text)
                Issue.record("accepted: \(text)")
            } catch {
                #expect(error.message.contains("not supported"), "\(error)")
            }
        }
    }
}
