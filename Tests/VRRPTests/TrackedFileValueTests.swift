import Testing
import VRRP

/// A track_file's value read and applied as keepalived 2.2.7 reads and applies it.
@Suite struct TrackedFileValueTests {
    @Test func contentsReadAsStrtolReadsThem() {
        let read = { (s: String) in TrackedFileValue.parse(Array(s.utf8)) }
        #expect(read("42\n") == 42 && read("  -7 apples") == -7 && read("+3") == 3)
        #expect(read("0x40") == 64 && read("010") == 8 && read("0") == 0 && read("0x") == 0)
        // No number, an empty file and a missing one all read as 0.
        #expect(read("abc") == 0 && TrackedFileValue.parse([]) == 0 && TrackedFileValue.parse(nil) == 0)
        // keepalived accepts up to INT32_MAX + 1 and ignores what lies beyond.
        #expect(read("2147483648") == 2_147_483_648 && read("2147483649") == nil && read("-2147483649") == nil)
        #expect(read("99999999999999999999999") == nil)
        // Only the first 127 bytes are read.
        #expect(read(String(repeating: " ", count: 127) + "5") == 0)
    }

    @Test func valueTimesWeightIsTheOffsetAndMinus254AFault() {
        let e = { (v: Int64, w: Int, r: Bool) in TrackedFileValue.effect(value: v, weight: w, reverse: r) }
        #expect(e(60, 1, false) == .offset(60) && e(20, -2, false) == .offset(-40) && e(20, 2, true) == .offset(-40))
        #expect(e(-254, 1, false) == .fault && e(-300, 1, false) == .fault && e(127, -2, false) == .fault)
        // Above 253 the offset stops at 253; -253 is still an offset, not a fault.
        #expect(e(1000, 1, false) == .offset(253) && e(-253, 1, false) == .offset(-253))
        // Weight 0: any non-zero value is a fault, zero is (with reverse, the other way round).
        #expect(e(0, 0, false) == .offset(0) && e(5, 0, false) == .fault && e(-1, 0, false) == .fault)
        #expect(e(0, 0, true) == .fault && e(5, 0, true) == .offset(0))
    }
}
