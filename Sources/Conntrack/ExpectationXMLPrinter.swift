#if canImport(Glibc)
import Glibc
#endif

/// conntrackd's `-i expect -x` / `-e expect -x` element (spec §6.5): one `<flow>` per
/// expectation, its three tuples grouped by layer, each child only when known.
public enum ExpectationXMLPrinter {
    /// conntrack's `-L expect -o xml` wraps the elements as its flow listing does.
    public static let header = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<expect>"
    public static let footer = "</expect>"

    /// `when`: conntrack's `-o xml,timestamp` adds the local time of printing.
    public static func format(_ x: Expectation, when: tm? = nil) -> String {
        var s = "<flow>"
        let tuples: [(String, Tuple?)] = [("expected", x.tuple), ("mask", x.mask), ("master", x.master)]
        s += "<layer3 protonum=\"\(x.family)\" protoname=\"\(FlowPrinter.layer3Name(x.family))\">"
        for (name, t) in tuples {
            guard let t else { continue }
            s += "<\(name)><src>\(t.source)</src><dst>\(t.destination)</dst></\(name)>"
        }
        s += "</layer3>"
        let proto = x.tuple?.protocolNumber ?? x.master?.protocolNumber ?? 0
        s += "<layer4 protonum=\"\(proto)\" protoname=\"\(FlowPrinter.protocolName(proto))\">"
        for (name, t) in tuples {
            guard let t, let sp = t.sourcePort, let dp = t.destinationPort else { continue }
            s += "<\(name)><sport>\(sp)</sport><dport>\(dp)</dport></\(name)>"
        }
        s += "</layer4><meta>"
        if let h = x.helperName { s += "<helper-name>\(h)</helper-name>" }
        if let t = x.timeout { s += "<timeout>\(t)</timeout>" }
        if let c = x.expectationClass { s += "<class>\(c)</class>" }
        if let z = x.zone { s += "<zone>\(z)</zone>" }
        if let f = x.flags {
            if f.contains(.permanent) { s += "<permanent/>" }
            if f.contains(.inactive) { s += "<inactive/>" }
            if f.contains(.userspace) { s += "<userspace/>" }
        }
        // Inside the expectation's meta element, where the library writes it for expectations.
        if let t = when { s += XMLWhenElement.text(t) }
        return s + "</meta></flow>"
    }
}
