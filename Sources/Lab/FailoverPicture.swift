/// What a failover picture is drawn from: the run as the lab recorded it, in plain values
/// (no files, no clock), so the same run always gives the same picture.
struct RecordedRun: Sendable {
    var title: String
    var verdict: String
    var survived: Bool
    var phases: [RecordedPhase]
    var sessions: [SessionRecord]
}

struct RecordedPhase: Sendable {
    var phase: Phase
    /// What the lab did, in full (the report's heading for the phase).
    var action: String
    /// The same, short enough for a marker label: "fw1 stopped".
    var actionLabel: String
    /// The phase's timeline; the events that carry a milestone become markers.
    var events: [TimelineEvent]
}

/// A recorded run laid out as a picture: one panel per phase, one lane per session with a
/// tick per message received, each milestone a vertical marker across the lanes, each
/// session's longest gap shaded and labelled. Coordinates only; FailoverPicture+SVG.swift
/// writes it out.
struct FailoverPicture: Sendable {
    struct Lane: Sendable {
        let name: String
        let kind: SessionKind
        let top: Double
        /// x of every message received in the panel's window (one per 0.1 px at most).
        let ticks: [Double]
        let gap: Gap?
        /// Where and why the session ended, if it did inside the window.
        let broke: (x: Double, reason: String)?
    }

    struct Gap: Sendable {
        let x: Double
        let width: Double
        let label: String
        let labelX: Double
        let labelAnchor: TextAnchor
        let broken: Bool
    }

    struct Marker: Sendable {
        let milestone: Milestone
        let x: Double
        /// Seconds after the phase's action.
        let offset: Double
        let label: String
        /// The timeline's own sentence, kept as the marker's tooltip.
        let detail: String
        let labelY: Double
        let labelX: Double
        let labelAnchor: TextAnchor
    }

    struct AxisTick: Sendable {
        let x: Double
        /// Seconds after the phase's action (or after the first message, without a phase).
        let seconds: Double
        let label: String
    }

    struct Panel: Sendable {
        /// The heading wrapped to the page; the first line's baseline is `headingY`.
        let heading: [String]
        let headingY: Double
        /// The lanes' area: markers and gaps span it.
        let plotTop: Double
        let plotBottom: Double
        let axis: [AxisTick]
        let axisY: Double
        let axisCaption: String
        let lanes: [Lane]
        let markers: [Marker]
    }

    enum TextAnchor: String, Sendable { case start, end, middle }

    let title: String
    let verdict: String
    /// The verdict wrapped to the page (a long list of broken sessions takes lines).
    let verdictLines: [String]
    let survived: Bool
    let width: Double
    let height: Double
    let panels: [Panel]
    let legendY: Double

    // The page's fixed measures, in px.
    static let pageWidth = 1000.0
    static let plotLeft = 130.0
    static let plotRight = 980.0
    static let laneHeight = 30.0
    static let labelRowHeight = 14.0
    static let lineHeight = 16.0
    static let verdictY = 44.0
    /// Seconds shown before the action: the window the verdict also looks at.
    static let lead = 1.0
    /// A rough advance per character at the labels' 11 px: enough to keep labels apart.
    static let characterWidth = 6.2

    init(_ run: RecordedRun) {
        title = run.title
        verdict = run.verdict
        verdictLines = Self.wrap(run.verdict, fontSize: 13)
        survived = run.survived
        width = Self.pageWidth
        var y = Self.verdictY + Double(verdictLines.count - 1) * Self.lineHeight + 20
        var panels: [Panel] = []
        if run.phases.isEmpty {
            let times = run.sessions.flatMap(\.arrivals)
            let from = times.min() ?? 0
            let to = max(times.max() ?? 1, from + 1)
            panels.append(Self.panel(heading: "the whole run (no failover recorded)", window: (from, to), origin: from,
                                     phase: nil, events: [], sessions: run.sessions, top: &y))
        }
        for p in run.phases {
            let window = (p.phase.action - Self.lead, p.phase.end)
            var heading = "\(p.phase.name): \(p.action)"
            let seen = Set(p.events.compactMap(\.milestone))
            let missing = Milestone.allCases.filter { !seen.contains($0) }
            if !missing.isEmpty { heading += " (not seen: " + missing.map(\.caption).joined(separator: ", ") + ")" }
            panels.append(Self.panel(heading: heading, window: window, origin: p.phase.action, phase: p,
                                     events: p.events, sessions: run.sessions, top: &y))
        }
        self.panels = panels
        legendY = y + 6
        height = legendY + 44
    }

    private static func panel(heading: String, window: (from: Double, to: Double), origin: Double, phase: RecordedPhase?,
                              events: [TimelineEvent], sessions: [SessionRecord], top y: inout Double) -> Panel {
        let span = max(window.to - window.from, 0.001)
        func x(_ t: Double) -> Double {
            plotLeft + (min(max(t, window.from), window.to) - window.from) / span * (plotRight - plotLeft)
        }
        let lines = wrap(heading, fontSize: 12)
        let headingY = y
        // One marker per milestone: its first occurrence in the phase.
        var firsts: [(milestone: Milestone, event: TimelineEvent)] = []
        for e in events.sorted(by: { $0.time < $1.time }) {
            if let m = e.milestone, !firsts.contains(where: { $0.milestone == m }) { firsts.append((m, e)) }
        }
        let placed = placeLabels(firsts.map { f -> LabelRequest in
            let label = f.milestone == .action ? phase?.actionLabel ?? f.milestone.caption
                : "\(f.milestone.caption) \(formatRelativeMilliseconds(f.event.time - origin)) ms"
            return LabelRequest(x: x(f.event.time), text: label)
        })
        let rows = placed.map { $0.row }.max().map { $0 + 1 } ?? 0
        let plotTop = headingY + Double(lines.count - 1) * lineHeight + 16 + Double(rows) * labelRowHeight
        let markers = zip(firsts, placed).map { f, p in
            Marker(milestone: f.milestone, x: p.request.x, offset: f.event.time - origin, label: p.request.text, detail: f.event.text,
                   labelY: plotTop - 4 - Double(p.row) * labelRowHeight, labelX: p.x, labelAnchor: p.anchor)
        }

        var lanes: [Lane] = []
        for (i, s) in sessions.enumerated() {
            let laneTop = plotTop + Double(i) * laneHeight
            var seen = Set<Int>()
            var ticks: [Double] = []
            for t in s.arrivals where t >= window.from && t <= window.to {
                let px = x(t)
                if seen.insert(Int((px * 10).rounded())).inserted { ticks.append(px) }
            }
            var gap: Gap?
            if let phase {
                let v = SessionVerdict(s, in: phase.phase)
                gap = makeGap(v, end: phase.phase.end, x: x)
            }
            var broke: (x: Double, reason: String)?
            if let t = s.failedAt, let f = s.failure, t >= window.from, t <= window.to { broke = (x(t), f.rawValue) }
            lanes.append(Lane(name: s.name, kind: s.kind, top: laneTop, ticks: ticks, gap: gap, broke: broke))
        }
        let plotBottom = plotTop + Double(sessions.count) * laneHeight
        let axis = axisTicks(from: window.from - origin, to: window.to - origin).map {
            AxisTick(x: x($0 + origin), seconds: $0, label: axisLabel($0))
        }
        y = plotBottom + 46
        return Panel(heading: lines, headingY: headingY, plotTop: plotTop, plotBottom: plotBottom,
                     axis: axis, axisY: plotBottom + 14, axisCaption: phase == nil ? "time since the first message" : "time after the action",
                     lanes: lanes, markers: markers)
    }

    /// The session's longest gap in the phase, shaded; labelled beside it where there is room.
    private static func makeGap(_ v: SessionVerdict, end: Double, x: (Double) -> Double) -> Gap? {
        guard v.stall > 0 else { return nil }
        let from = x(v.stallStart)
        let to = x(v.stallStart + v.stall)
        let open = v.stallStart + v.stall >= end - 1e-6 // still silent when the observation ended
        var label = "\(open ? "≥ " : "")\(Int((v.stall * 1000).rounded())) ms"
        if let b = v.broken { label += ", broken (\(b))" }
        let w = textWidth(label)
        var lx = (from + to) / 2, anchor = TextAnchor.middle
        if to + 4 + w <= plotRight {
            lx = to + 4
            anchor = .start
        } else if from - 4 - w >= plotLeft {
            lx = from - 4
            anchor = .end
        }
        return Gap(x: from, width: to - from, label: label, labelX: lx, labelAnchor: anchor, broken: v.broken != nil)
    }

    struct LabelRequest {
        let x: Double
        let text: String
    }

    struct PlacedLabel {
        let request: LabelRequest
        let row: Int
        let x: Double
        let anchor: TextAnchor
    }

    /// Marker labels in rows above the lanes: each goes in the lowest row where it does not
    /// run into another, so labels of events a few ms apart stay legible.
    private static func placeLabels(_ requests: [LabelRequest]) -> [PlacedLabel] {
        var taken: [[ClosedRange<Double>]] = []
        return requests.map { r in
            let w = textWidth(r.text)
            let right = r.x + 3 + w <= plotRight
            let span = right ? (r.x + 3)...(r.x + 3 + w) : (r.x - 3 - w)...(r.x - 3)
            let padded = (span.lowerBound - 6)...(span.upperBound + 6)
            let row = taken.firstIndex { $0.allSatisfy { !$0.overlaps(padded) } } ?? taken.count
            if row == taken.count { taken.append([]) }
            taken[row].append(padded)
            return PlacedLabel(request: r, row: row, x: right ? r.x + 3 : r.x - 3, anchor: right ? .start : .end)
        }
    }

    static func textWidth(_ s: String) -> Double { Double(s.count) * characterWidth }

    /// Words in lines that fit the page at `fontSize` (bold, by the same rough estimate).
    static func wrap(_ text: String, fontSize: Double) -> [String] {
        let room = Int((plotRight - 20) / (fontSize * 0.62))
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: false) {
            if !line.isEmpty && line.count + 1 + word.count > room {
                lines.append(line)
                line = String(word)
            } else {
                line += (line.isEmpty ? "" : " ") + word
            }
        }
        return lines + [line]
    }

    /// Round steps (0.1, 0.2, 0.5, 1, 2, 5 … s) giving at most ten ticks, always through 0.
    static func axisTicks(from: Double, to: Double) -> [Double] {
        let steps = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600]
        let step = steps.first { (to - from) / $0 <= 10 } ?? (to - from) / 10
        var out: [Double] = []
        var k = (from / step).rounded(.up)
        while k * step <= to + 1e-9 {
            out.append(k * step)
            k += 1
        }
        return out
    }

    private static func axisLabel(_ s: Double) -> String {
        let text = s == s.rounded() ? String(Int(s)) : String((s * 10).rounded() / 10)
        return s > 0 ? "+\(text) s" : s == 0 ? "0" : "\(text) s"
    }
}

extension Milestone {
    /// The marker's name in labels and the legend.
    var caption: String {
        switch self {
        case .action: return "master stopped"
        case .vipMoved: return "VIP moved"
        case .commitDone: return "commit done"
        case .firstPacket: return "first packet after"
        }
    }
}
