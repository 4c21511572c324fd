/// Writes a FailoverPicture as a standalone SVG document. Every element a reader (or a test)
/// looks for carries a class and data-* attributes naming what it shows.
extension FailoverPicture {
    var svg: String {
        var w = SVGWriter()
        w.text += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        let size = SVGWriter.number(width), tall = SVGWriter.number(height)
        w.open("svg", ["xmlns": "http://www.w3.org/2000/svg", "width": size, "height": tall, "viewBox": "0 0 \(size) \(tall)",
                       "font-family": "DejaVu Sans, Helvetica, Arial, sans-serif", "font-size": "11"])
        w.element("title", [:], text: title + " — " + verdict)
        w.element("rect", ["width": size, "height": tall, "fill": "white"])
        w.element("text", ["class": "title", "x": "20", "y": "24", "font-size": "16", "font-weight": "bold"], text: title)
        for (i, line) in verdictLines.enumerated() {
            w.element("text", ["class": "verdict", "x": "20", "y": SVGWriter.number(Self.verdictY + Double(i) * Self.lineHeight),
                               "font-size": "13", "font-weight": "bold", "fill": survived ? "#1e8449" : "#c0392b"], text: line)
        }
        for p in panels { draw(p, into: &w) }
        drawLegend(into: &w)
        w.close("svg")
        return w.text
    }

    private func draw(_ p: Panel, into w: inout SVGWriter) {
        let n = SVGWriter.number
        w.open("g", ["class": "panel"])
        for (i, line) in p.heading.enumerated() {
            w.element("text", ["class": "heading", "x": "20", "y": n(p.headingY + Double(i) * Self.lineHeight), "font-size": "12",
                               "font-weight": "bold"], text: line)
        }
        w.open("g", ["class": "axis", "fill": "#555"])
        for t in p.axis {
            w.element("line", ["class": "axis-tick", "data-s": n(t.seconds), "x1": n(t.x), "x2": n(t.x), "y1": n(p.plotTop),
                               "y2": n(p.plotBottom + 4), "stroke": t.seconds == 0 ? "#999" : "#e3e3e3"])
            w.element("text", ["x": n(t.x), "y": n(p.axisY + 4), "text-anchor": "middle"], text: t.label)
        }
        w.element("text", ["x": n(Self.plotRight), "y": n(p.axisY + 18), "text-anchor": "end"], text: p.axisCaption)
        w.close("g")
        for (i, lane) in p.lanes.enumerated() { draw(lane, index: i, into: &w) }
        for m in p.markers {
            let colour = m.milestone.colour
            w.open("g", ["class": "marker", "data-milestone": m.milestone.rawValue, "data-ms": n(m.offset * 1000)])
            w.element("title", [:], text: m.detail)
            w.element("line", ["x1": n(m.x), "x2": n(m.x), "y1": n(m.labelY + 3), "y2": n(p.plotBottom),
                               "stroke": colour, "stroke-width": "1.5", "stroke-dasharray": "4 2"])
            w.element("text", ["x": n(m.labelX), "y": n(m.labelY), "text-anchor": m.labelAnchor.rawValue, "fill": colour], text: m.label)
            w.close("g")
        }
        w.close("g")
    }

    private func draw(_ lane: Lane, index: Int, into w: inout SVGWriter) {
        let n = SVGWriter.number
        let inner = Self.laneHeight - 4
        w.open("g", ["class": "lane", "data-session": lane.name, "data-kind": lane.kind.rawValue])
        // Translucent, so the time grid drawn before the lanes still shows through.
        w.element("rect", ["x": n(Self.plotLeft), "y": n(lane.top + 2), "width": n(Self.plotRight - Self.plotLeft),
                           "height": n(inner), "fill": "#dde3ea", "fill-opacity": index % 2 == 0 ? "0.45" : "0.2"])
        w.element("text", ["class": "lane-name", "x": n(Self.plotLeft - 8), "y": n(lane.top + 14), "text-anchor": "end",
                           "font-weight": "bold"], text: lane.name)
        w.element("text", ["x": n(Self.plotLeft - 8), "y": n(lane.top + 25), "text-anchor": "end", "fill": "#777", "font-size": "9"],
                  text: lane.kind.laneCaption)
        if let g = lane.gap {
            w.element("rect", ["class": "gap", "data-session": lane.name, "data-broken": g.broken ? "true" : "false",
                               "x": n(g.x), "y": n(lane.top + 2), "width": n(max(g.width, 1)), "height": n(inner),
                               "fill": g.broken ? "#e74c3c" : "#f5b041", "fill-opacity": g.broken ? "0.3" : "0.45"])
        }
        var path = ""
        for x in lane.ticks { path += "M\(n(x)) \(n(lane.top + 13))v14" }
        w.element("path", ["class": "ticks", "data-count": String(lane.ticks.count), "d": path.isEmpty ? "M0 0" : path,
                           "stroke": lane.kind.colour, "stroke-width": "1", "fill": "none"])
        if let g = lane.gap {
            w.element("text", ["class": "gap-label", "data-session": lane.name, "x": n(g.labelX), "y": n(lane.top + 11),
                               "text-anchor": g.labelAnchor.rawValue, "font-size": "10", "font-weight": "bold",
                               "fill": g.broken ? "#c0392b" : "#9a6400"], text: g.label)
        }
        if let b = lane.broke {
            w.element("text", ["class": "break", "x": n(b.x), "y": n(lane.top + 25), "text-anchor": "middle", "fill": "#c0392b",
                               "font-weight": "bold"], text: "✕ " + b.reason)
        }
        w.close("g")
    }

    private func drawLegend(into w: inout SVGWriter) {
        let n = SVGWriter.number
        enum Swatch { case tick(String), shade(String, String), marker(String) }
        var items: [(Swatch, String)] = [SessionKind.tcp, .udp, .icmp].map { (Swatch.tick($0.colour), $0.legend) }
        items.append((.shade("#f5b041", "0.45"), "longest gap (ms)"))
        items.append((.shade("#e74c3c", "0.3"), "longest gap, session broke"))
        items += Milestone.allCases.map { (Swatch.marker($0.colour), $0 == .action ? "the lab's action on fw1" : $0.caption) }
        w.open("g", ["class": "legend"])
        var x = 20.0, y = legendY + 12
        for (swatch, label) in items {
            let need = 22 + Self.textWidth(label) + 18
            if x + need > Self.plotRight { x = 20; y += 20 }
            switch swatch {
            case .tick(let c):
                w.element("path", ["d": "M\(n(x + 4)) \(n(y - 9))v12M\(n(x + 8)) \(n(y - 9))v12M\(n(x + 12)) \(n(y - 9))v12", "stroke": c])
            case .shade(let c, let o):
                w.element("rect", ["x": n(x), "y": n(y - 10), "width": "16", "height": "13", "fill": c, "fill-opacity": o])
            case .marker(let c):
                w.element("line", ["x1": n(x + 8), "x2": n(x + 8), "y1": n(y - 11), "y2": n(y + 4), "stroke": c,
                                   "stroke-width": "1.5", "stroke-dasharray": "4 2"])
            }
            w.element("text", ["x": n(x + 22), "y": n(y)], text: label)
            x += need
        }
        w.close("g")
    }
}

extension SessionKind {
    fileprivate var colour: String {
        switch self {
        case .tcp: return "#37474f"
        case .udp: return "#d35400"
        case .icmp: return "#138d75"
        }
    }

    fileprivate var laneCaption: String {
        switch self {
        case .tcp: return "TCP, SSH-like"
        case .udp: return "UDP stream"
        case .icmp: return "ping"
        }
    }

    fileprivate var legend: String {
        switch self {
        case .tcp: return "TCP session: a tick per message received"
        case .udp: return "UDP stream"
        case .icmp: return "ping replies"
        }
    }
}

extension Milestone {
    fileprivate var colour: String {
        switch self {
        case .action: return "#c0392b"
        case .vipMoved: return "#2471a3"
        case .commitDone: return "#1e8449"
        case .firstPacket: return "#7d3c98"
        }
    }
}

/// Just enough of an XML writer for the picture: elements with attributes in a fixed
/// order, and text that can never break the document.
struct SVGWriter {
    var text = ""

    mutating func open(_ name: String, _ attributes: KeyValuePairs<String, String>) {
        text += "<" + name + Self.attributeText(attributes) + ">\n"
    }

    mutating func close(_ name: String) {
        text += "</" + name + ">\n"
    }

    mutating func element(_ name: String, _ attributes: KeyValuePairs<String, String>, text content: String? = nil) {
        text += "<" + name + Self.attributeText(attributes)
        if let content {
            text += ">" + Self.escape(content) + "</" + name + ">\n"
        } else {
            text += "/>\n"
        }
    }

    private static func attributeText(_ attributes: KeyValuePairs<String, String>) -> String {
        attributes.map { " \($0.key)=\"\(escape($0.value))\"" }.joined()
    }

    /// XML's five reserved characters as entities; characters XML 1.0 cannot carry at all
    /// (control characters from a daemon's log, say) become U+FFFD.
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out.unicodeScalars.append(c)
            default:
                let v = c.value
                let allowed = v >= 0x20 && !(0x7f...0x9f).contains(v) && v != 0xfffe && v != 0xffff
                out.unicodeScalars.append(allowed ? c : "\u{fffd}")
            }
        }
        return out
    }

    /// A coordinate with at most one decimal, without Foundation's formatters.
    static func number(_ v: Double) -> String {
        guard v.isFinite else { return "0" }
        let tenths = Int((v * 10).rounded())
        let a = tenths.magnitude
        return (tenths < 0 ? "-" : "") + (a % 10 == 0 ? "\(a / 10)" : "\(a / 10).\(a % 10)")
    }
}
