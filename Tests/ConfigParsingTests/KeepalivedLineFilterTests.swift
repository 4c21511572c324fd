import ConfigParsing
import Foundation
import TestSupport
import Testing

/// keepalived's line layer: `@id` conditional lines and `$NAME` definitions.
@Suite struct KeepalivedLineFilterTests {
    static let conditional = """
    vrrp_instance V {
        interface eth0
        virtual_router_id 1
    @high    priority 170
    @low     priority 85
    @^high   advert_int 3
    }
    """

    @Test func conditionalLinesFollowTheConfigID() throws {
        let high = try KeepalivedConfigParser.parse(Self.conditional, configID: "high")
        let low = try KeepalivedConfigParser.parse(Self.conditional, configID: "low")
        let none = try KeepalivedConfigParser.parse(Self.conditional, configID: nil)
        #expect(high.instances.first?.priority == 170 && high.instances.first?.advertisementInterval == 1)
        #expect(low.instances.first?.priority == 85 && low.instances.first?.advertisementInterval == 3)
        // Without an id no `@id' line is kept and every `@^id' line is.
        #expect(none.instances.first?.priority == nil && none.instances.first?.advertisementInterval == 3)
        for c in [high, low, none] { #expect(c.errors.isEmpty && c.unsupported.isEmpty, "\(c.errors) \(c.unsupported)") }
    }

    @Test func aKeptConditionalLineKeepsItsColumns() throws {
        let c = try KeepalivedConfigParser.parse("vrrp_instance V {\n@high  tdu_bogus 1\n}\n", configID: "high")
        #expect(c.errors.first?.location == SourceLocation(file: "keepalived.conf", line: 2, column: 8))
    }

    @Test func theNodeNameIsTheDefaultConfigID() throws {
        let name = KeepalivedLineFilter.nodeName
        #expect(!name.isEmpty && !name.contains("."))
        let c = try KeepalivedConfigParser.parse("global_defs {\n@\(name) router_id mine\n@^\(name) router_id other\n}\n")
        #expect(c.routerID == "mine")
    }

    @Test func definitionsAreReplaced() throws {
        let c = try KeepalivedConfigParser.parse("""
        $IF=eth1
        $VRID=42   # a comment is not part of the value
        $PRIO=120
        vrrp_instance V {
            interface $IF
            virtual_router_id ${VRID}
            priority $PRIO
            virtual_ipaddress {
                10.234.0.42/24 dev ${IF} label ${IF}:$VRID
            }
            notify_master "${_PWD}/notify.sh ${_INSTANCE}"
        }
        $PRIO=130
        vrrp_instance W {
            interface $IF
            virtual_router_id 43
            priority $PRIO
            notify_master "/bin/echo $UNDEFINED"
        }
        """, file: "/etc/keepalived/keepalived.conf", configID: "fw1")
        #expect(c.errors.isEmpty && c.unsupported.isEmpty, "\(c.errors) \(c.unsupported)")
        let v = try #require(c.instances.first)
        #expect(v.interface == "eth1" && v.virtualRouterID == 42 && v.priority == 120)
        #expect(v.virtualAddresses.first?.device == "eth1" && v.virtualAddresses.first?.label == "eth1:42")
        #expect(v.notify.master == "/etc/keepalived/notify.sh fw1")
        // A later definition replaces the earlier one for the lines after it; an unknown name stays.
        #expect(c.instances[1].priority == 130 && c.instances[1].notify.master == "/bin/echo $UNDEFINED")
    }

    @Test func definitionsKeepLineNumbers() throws {
        let c = try KeepalivedConfigParser.parse("$A=tdu_bogus\n\n$A 1\n", file: "k.conf")
        #expect(c.errors.map(\.location.line) == [3])
    }

    @Test func whatTheLineLayerDoesNotSupportIsRefused() throws {
        let c = try KeepalivedConfigParser.parse("""
        $LONG=first \\
            second
        ~SEQ(N, 1, 3) vrrp_instance V$N { }
        global_defs {
            router_id ${_RANDOM}
        }
        """, file: "k.conf")
        #expect(c.unsupported.map(\.location.line) == [1, 3, 5])
        #expect(c.unsupported.allSatisfy { $0.description.contains("not supported") })
        // The control: a one-line definition is not refused.
        #expect(try KeepalivedConfigParser.parse("$SHORT=first\n").unsupported.isEmpty)
    }

    /// A file with CR LF line ends (CR LF is one Character): its `@id` and `$` lines are
    /// lines of their own, as keepalived reads them, with the same verdict as the LF file.
    @Test func crlfLinesAreLines() throws {
        let lf = "@other tdu_bogus 1\n$X=eth7\nglobal_defs {\n  router_id $X\n}\n"
        let crlf = lf.replacingOccurrences(of: "\n", with: "\r\n")
        var filter = KeepalivedLineFilter(configID: "fw1")
        #expect(filter.apply(crlf, file: "k.conf") == "\n\nglobal_defs {\n  router_id eth7\n}\n")
        for text in [lf, crlf] {
            let c = try KeepalivedConfigParser.parse(text, configID: "fw1")
            #expect(c.errors.isEmpty && c.routerID == "eth7", "\(c.errors)")
        }
        // The control: the `@other' line, kept (our id), is an error in both.
        for text in [lf, crlf] {
            #expect(try KeepalivedConfigParser.parse(text, configID: "other").errors.map(\.location.line) == [1])
        }
    }

    /// A line of ASCII is substituted reading bytes, any other line reading Characters:
    /// the same lines with a non-ASCII word at their end come out the same, that word kept.
    @Test func bytesAndCharactersSubstituteAlike() {
        let definitions = "$A=alpha\n$B=${A}-b\n$E=\n$D=${A}${A}\n"
        let cases: [(String, String)] = [
            ("x ${A} y", "x alpha y"),
            ("$A,$A)$A\t$A", "alpha,alpha)alpha\talpha"),
            ("$Ab ${A}b ${A", "$Ab alphab ${A"),
            ("$1A ${1A} $_HASH $$A", "$1A ${1A} # $alpha"),
            ("${B} ${E}x ${D}", "alpha-b x alphaalpha"),
            ("$Z ${Z} $", "$Z ${Z} $"),
        ]
        for (line, expected) in cases {
            for tail in ["", " \u{e9}t\u{e9}"] {
                var filter = KeepalivedLineFilter(configID: nil)
                #expect(filter.apply(definitions + line + tail, file: "k.conf") == "\n\n\n\n" + expected + tail, "\(line + tail)")
            }
        }
        // The line's limit counts bytes on both: 1000 bytes and `\u{e9}` (2) fit, 30 of them do not.
        let long = String(repeating: "x", count: 1000)
        var fits = KeepalivedLineFilter(configID: nil)
        #expect(fits.apply("$L=\(long)\n${L} \u{e9}", file: "k.conf") == "\n\(long) \u{e9}")
        var over = KeepalivedLineFilter(configID: nil)
        #expect(over.apply("$L=\(long)\n${L} " + String(repeating: "\u{e9}", count: 30), file: "k.conf") == "\n")
        #expect(fits.errors.isEmpty && over.errors.count == 1)
        // The control: where Characters and bytes differ they still rule. A `}` or a blank
        // carrying a combining mark ends no name (read as bytes, both would be replaced).
        var marked = KeepalivedLineFilter(configID: nil)
        #expect(marked.apply("$A=alpha\n${A}\u{301} $A \u{301}x ${A}", file: "k.conf") == "\n${A}\u{301} $A \u{301}x alpha")
    }

    /// The same files through keepalived 2.2.7's `-t`: the kept and dropped lines and the
    /// replaced words make the same verdict (an unknown keyword where one survives).
    @Test(.enabled(if: Shell.which("keepalived"), "needs keepalived"), arguments: [
        ("@high tdu_bogus 1\n@low global_defs {\n@low }\n", "high"),
        ("@high tdu_bogus 1\n@low global_defs {\n@low }\n", "low"),
        ("@^high tdu_bogus 1\n", "high"),
        ("@^high tdu_bogus 1\n", "low"),
        ("$K=tdu_bogus\n$K 1\n", "x"),
        ("$K=global_defs\n${K} {\n}\n", "x"),
        ("$K=global_defs\n$KK {\n}\n", "x"),
    ])
    func verdictsMatchKeepalived(text: String, id: String) throws {
        let path = NSTemporaryDirectory() + "tdu-lf-\(getpid())-\(UUID().uuidString).conf"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let theirs = Shell.run(["keepalived", "-t", "-i", id, "-f", path])
        let ours = try KeepalivedConfigParser.parse(file: path, configID: id)
        let ourVerdict: Int32 = ours.errors.isEmpty ? 0 : 5
        #expect(theirs.status == ourVerdict, "\(theirs.stderr) | \(ours.errors)")
        // Both verdicts occur across the cases, so the comparison can fail either way.
        #expect(theirs.status == 0 || theirs.status == 5)
    }
}
