import Foundation
@testable import Lab
import TestSupport
import Testing

/// The failover picture drawn from a hand-built recorded run, read back with XMLParser:
/// what it shows, where, and that no recorded text can break the document.
@Suite struct FailoverPictureTests {
    /// A message every 50 ms from `from` through `to` (both included).
    static func every50ms(_ from: Double, _ to: Double) -> [Double] {
        (0...Int(((to - from) / 0.05).rounded())).map { from + Double($0) * 0.05 }
    }

    static let action = 1000.0
    static let end = 1005.0
    static let hostileTitle = "tandem lab failover: stack <script>alert(\"x\") & 'y'</script>"

    /// Four sessions around a failover at t = 1000: ssh-1 stalls from +300 to +920 ms,
    /// `odd<name>&"` breaks with a reset at +500 ms, the UDP stream and ping stall too.
    static func sessions() -> [SessionRecord] {
        var ssh = SessionRecord(name: "ssh-1", kind: .tcp)
        ssh.arrivals = every50ms(998, 1000.3) + every50ms(1000.92, 1004.97)
        var odd = SessionRecord(name: "odd<name>&\"", kind: .tcp)
        odd.arrivals = every50ms(998, 1000.4)
        odd.fail(.rst, at: 1000.5)
        var udp = SessionRecord(name: "udp-stream", kind: .udp)
        udp.arrivals = every50ms(998, 1000.2) + every50ms(1000.95, 1004.95)
        udp.sent = udp.arrivals
        udp.received = Set(udp.sent.indices)
        var ping = SessionRecord(name: "ping", kind: .icmp)
        ping.arrivals = every50ms(998, 1000.25) + every50ms(1000.93, 1004.98)
        return [ssh, odd, udp, ping]
    }

    /// The phase's timeline as FailoverReport would give it, deliberately out of order, with
    /// a second commit line (the marker is the first) and events that are no milestone.
    static func recorded() -> RecordedRun {
        let phase = Phase(name: "failover", action: action, end: end)
        let events = [
            TimelineEvent(time: 1000.91, text: "VIP moved: fw2 holds 10.0.0.3 and 192.168.255.250", milestone: .vipMoved),
            TimelineEvent(time: 1000.05, text: "fw1 released both VIPs"),
            TimelineEvent(time: 1001.5, text: "commit done on fw2: a second commit", milestone: .commitDone),
            TimelineEvent(time: 1000.92, text: "first packet after VIP moved (ssh-1)", milestone: .firstPacket),
            TimelineEvent(time: action, text: "SIGTERM to fw1's tandem-run <pid 42> & \u{1}control", milestone: .action),
            TimelineEvent(time: 1000.9, text: "commit done on fw2: committed 7 flows", milestone: .commitDone),
        ]
        return RecordedRun(title: hostileTitle, verdict: "verdict: 1/4 sessions broke", survived: false,
                           phases: [RecordedPhase(phase: phase, action: "SIGTERM to fw1's tandem-run", actionLabel: "fw1 stopped", events: events)],
                           sessions: sessions())
    }

    /// x of a time, from the picture's own axis: its first and last ticks fix the scale.
    static func scale(_ svg: XMLTree) throws -> (Double) -> Double {
        let ticks = svg.all("line", class: "axis-tick")
        let first = try #require(ticks.first), last = try #require(ticks.last)
        let s0 = try #require(first.number("data-s"))
        let x0 = try #require(first.number("x1"))
        let s1 = try #require(last.number("data-s"))
        let x1 = try #require(last.number("x1"))
        try #require(s1 > s0)
        return { t in x0 + (t - action - s0) * (x1 - x0) / (s1 - s0) }
    }

    @Test func drawsOneLanePerSessionWithATickPerMessage() throws {
        let svg = try XMLTree.parse(FailoverPicture(Self.recorded()).svg)
        #expect(svg.name == "svg")
        let lanes = svg.all("g", class: "lane")
        #expect(lanes.map { $0["data-session"] } == ["ssh-1", "odd<name>&\"", "udp-stream", "ping"])
        #expect(lanes.map { $0["data-kind"] } == ["tcp", "tcp", "udp", "icmp"])
        // The window starts a second before the action: ssh-1's messages from 999 on.
        let expected = Self.sessions().map { s in s.arrivals.filter { $0 >= Self.action - 1 && $0 <= Self.end }.count }
        let drawn = lanes.map { $0.all("path", class: "ticks").first?.number("data-count").map { Int($0) } }
        #expect(drawn == expected.map { Optional($0) })
        let path = try #require(lanes[0].all("path", class: "ticks").first?["d"])
        #expect(path.components(separatedBy: "M").count - 1 == expected[0])
    }

    @Test func marksTheFourMilestonesInOrderAtTheirTimes() throws {
        let svg = try XMLTree.parse(FailoverPicture(Self.recorded()).svg)
        let x = try Self.scale(svg)
        let markers = svg.all("g", class: "marker")
        #expect(markers.map { $0["data-milestone"] } == ["action", "commitDone", "vipMoved", "firstPacket"])
        let times = [1000.0, 1000.9, 1000.91, 1000.92]
        for (m, t) in zip(markers, times) {
            let line = try #require(m.all("line").first)
            let at = try #require(line.number("x1"))
            #expect(abs(at - x(t)) < 0.15, "\(m["data-milestone"] ?? "?") at \(at), expected \(x(t))")
            #expect(line.number("x2") == at)
            #expect(m.number("data-ms") == ((t - Self.action) * 1000).rounded())
        }
        #expect(markers.map { $0.all("text").first?.text } == ["fw1 stopped", "commit done +900 ms", "VIP moved +910 ms", "first packet after +920 ms"])
        // Labels of events 10 ms apart do not share a row.
        let rows = markers.compactMap { $0.all("text").first?.number("y") }
        #expect(Set(rows.dropFirst()).count == 3, "\(rows)")
        // The second commit line is on the timeline, not a second marker.
        #expect(!markers.contains { $0.all("title").first?.text.contains("second commit") == true })
    }

    @Test func shadesEachSessionsLongestGapWithItsLength() throws {
        let svg = try XMLTree.parse(FailoverPicture(Self.recorded()).svg)
        let x = try Self.scale(svg)
        let gaps = svg.all("rect", class: "gap")
        #expect(gaps.map { $0["data-session"] } == ["ssh-1", "odd<name>&\"", "udp-stream", "ping"])
        let expected: [(from: Double, to: Double, label: String, broken: String)] = [
            (1000.3, 1000.92, "620 ms", "false"),
            (1000.4, Self.end, "≥ 4600 ms, broken (rst)", "true"),
            (1000.2, 1000.95, "750 ms", "false"),
            (1000.25, 1000.93, "680 ms", "false"),
        ]
        let labels = svg.all("text", class: "gap-label")
        for (i, e) in expected.enumerated() {
            let from = try #require(gaps[i].number("x"))
            let width = try #require(gaps[i].number("width"))
            #expect(abs(from - x(e.from)) < 0.15, "\(e.label): x \(from), expected \(x(e.from))")
            #expect(abs(from + width - x(e.to)) < 0.15, "\(e.label): ends at \(from + width), expected \(x(e.to))")
            #expect(gaps[i]["data-broken"] == e.broken)
            #expect(labels[i].text == e.label)
            #expect(labels[i]["data-session"] == gaps[i]["data-session"])
        }
        #expect(svg.all("text", class: "break").map(\.text) == ["✕ rst"])
    }

    @Test func escapesEveryRecordedText() throws {
        let text = FailoverPicture(Self.recorded()).svg
        #expect(!text.contains("<script>") && !text.contains("odd<name>"))
        #expect(!text.unicodeScalars.contains { $0.value == 1 })
        let svg = try XMLTree.parse(text)
        #expect(svg.all("text", class: "title").first?.text == Self.hostileTitle)
        #expect(svg.all("title").first?.text.hasPrefix(Self.hostileTitle) == true)
        let action = try #require(svg.all("g", class: "marker").first?.all("title").first?.text)
        #expect(action == "SIGTERM to fw1's tandem-run <pid 42> & \u{fffd}control")
        #expect(svg.all("text", class: "lane-name").map(\.text).contains("odd<name>&\""))
        #expect(svg.all("text", class: "verdict").first?.text == "verdict: 1/4 sessions broke")
    }

    /// The control: the same sessions with no failover recorded. Lanes, but no marker and no
    /// gap (there is no action to measure a stall around).
    @Test func withoutAFailoverThereIsNoMarker() throws {
        var run = Self.recorded()
        run.phases = []
        let svg = try XMLTree.parse(FailoverPicture(run).svg)
        #expect(svg.all("g", class: "lane").count == 4)
        #expect(svg.all("g", class: "marker").isEmpty)
        #expect(svg.all("rect", class: "gap").isEmpty)
        #expect(svg.all("text", class: "heading").first?.text.contains("no failover recorded") == true)
        // And the run with its failover does draw them: this test can tell the two apart.
        #expect(try XMLTree.parse(FailoverPicture(Self.recorded()).svg).all("g", class: "marker").count == 4)
    }

    /// A phase whose new master never logged a commit says so instead of drawing a marker.
    @Test func aMissingMilestoneIsNamedNotDrawn() throws {
        var run = Self.recorded()
        run.phases[0].events.removeAll { $0.milestone == .commitDone }
        let svg = try XMLTree.parse(FailoverPicture(run).svg)
        #expect(svg.all("g", class: "marker").map { $0["data-milestone"] } == ["action", "vipMoved", "firstPacket"])
        #expect(svg.all("text", class: "heading").first?.text.hasSuffix("(not seen: commit done)") == true)
    }

    @Test func axisRunsFromASecondBeforeTheActionToTheEnd() throws {
        let svg = try XMLTree.parse(FailoverPicture(Self.recorded()).svg)
        let seconds = svg.all("line", class: "axis-tick").compactMap { $0.number("data-s") }
        #expect(seconds == [-1, 0, 1, 2, 3, 4, 5])
        let xs = svg.all("line", class: "axis-tick").compactMap { $0.number("x1") }
        #expect(xs.first == FailoverPicture.plotLeft && xs.last == FailoverPicture.plotRight)
    }

    /// A verdict listing many broken sessions, and a long heading, take several lines inside
    /// the page instead of running off its edge; nothing is lost in the wrapping.
    @Test func longTextsWrapInsideThePage() throws {
        var run = Self.recorded()
        run.verdict = "verdict: 5/6 sessions broke (stack tandem-run, failover stop, replication off): "
            + (1...5).map { "ssh-\($0) (silent, server got RST)" }.joined(separator: ", ")
        run.phases[0].action = String(repeating: "a long action ", count: 20)
        let svg = try XMLTree.parse(FailoverPicture(run).svg)
        let verdict = svg.all("text", class: "verdict")
        #expect(verdict.count >= 2)
        #expect(verdict.map(\.text).joined(separator: " ") == run.verdict)
        let heading = svg.all("text", class: "heading")
        #expect(heading.count >= 2)
        #expect(heading.map(\.text).joined(separator: " ") == "failover: " + run.phases[0].action)
        for line in verdict + heading {
            let size = try #require(line.number("font-size"))
            #expect(20 + Double(line.text.count) * size * 0.62 <= FailoverPicture.plotRight, "\(line.text)")
        }
        // Each line below the one before, and the lanes below the last heading line.
        let ys = (verdict + heading).compactMap { $0.number("y") }
        #expect(ys == ys.sorted() && Set(ys).count == ys.count, "\(ys)")
        let firstLane = try #require(svg.all("g", class: "lane").first?.all("rect").first?.number("y"))
        #expect(firstLane > ys.last! + 10)
    }

    @Test func numbersAndEscapes() {
        #expect(SVGWriter.number(12.34) == "12.3" && SVGWriter.number(-0.05) == "-0.1" && SVGWriter.number(7) == "7")
        #expect(SVGWriter.number(.nan) == "0")
        #expect(SVGWriter.escape("a<b>&\"c'\u{0}\n") == "a&lt;b&gt;&amp;&quot;c&apos;\u{fffd}\n")
    }
}
