import Conntrack
import IPAddressing
import Testing

/// connlabel.conf as libnetfilter_conntrack reads it, and labels as conntrack prints them,
/// including a flow whose bits have no names (conntrack then prints a bare "labels").
@Suite struct ConnectionLabelMapTests {
    @Test func fileIsReadAsTheLibraryReadsIt() {
        let m = ConnectionLabelMap(text: "# comment\n0 zero\n  3\tthree # trailing\n5 five\n5 again\n128 toolarge\nx bad\n7\n")
        #expect(m.names == [0: "zero", 3: "three", 5: "five"])
        #expect(m.bit(named: "three") == 3 && m.bit(named: "again") == nil && m.bit(named: "toolarge") == nil)
    }

    @Test func bitmapsRoundTrip() {
        let b = ConnectionLabelMap.bitmap([0, 5, 127])
        #expect(b.count == 16 && b[0] == 0b0010_0001 && b[15] == 0x80)
        #expect(ConnectionLabelMap.bits(of: b) == [0, 5, 127])
    }

    @Test func labelsArePrintedOnlyWithTheNames() {
        var f = Flow(original: Tuple(source: .v4(0x0a000001), destination: .v4(0x0a000002), protocolNumber: 17, sourcePort: 1, destinationPort: 2))
        f.use = 1
        f.labels = ConnectionLabelMap.bitmap([0, 4, 5])
        var p = FlowPrinter()
        #expect(!p.format(f).contains("labels"))
        p.labelMap = ConnectionLabelMap(names: [0: "zero", 5: "five"])
        #expect(p.format(f).hasSuffix("use=1 labels=zero,five"))
        p.labelMap = ConnectionLabelMap(names: [1: "one"])
        #expect(p.format(f).hasSuffix("use=1 labels"))
        f.labels = ConnectionLabelMap.bitmap([])
        #expect(p.format(f).hasSuffix("use=1"))
    }
}
