import IPAddressing
import Testing

@Suite struct IPAddressTests {
    @Test func textRoundTripsInBothFamilies() {
        for text in ["10.0.0.1", "0.0.0.0", "255.255.255.255", "2001:db8::1", "::", "fe80::1:2:3:4", "::ffff:10.0.0.1"] {
            let address = IPAddress(text)
            #expect(address != nil, "\(text)")
            #expect(IPAddress(address!.description) == address)
        }
        #expect(IPAddress("10.0.0.1") == .v4(0x0a00_0001))
        #expect(IPAddress("10.0.0.1")!.family == AddressFamily.inet)
        #expect(IPAddress("2001:db8::1")!.family == AddressFamily.inet6)
    }

    @Test func malformedTextIsRefused() {
        for text in ["", "10.0.0", "10.0.0.256", "1.2.3.4.5", "2001:db8:::1", "host", "10.0.0.1/24", " 10.0.0.1"] {
            #expect(IPAddress(text) == nil, "\(text)")
        }
    }

    @Test func bytesRoundTripAndWrongLengthsAreRefused() {
        let v4 = IPAddress("192.0.2.7")!
        #expect(v4.bytes == [192, 0, 2, 7])
        #expect(IPAddress(bytes: v4.bytes[...]) == v4)
        let v6 = IPAddress("2001:db8::7")!
        #expect(v6.bytes.count == 16)
        #expect(IPAddress(bytes: v6.bytes[...]) == v6)
        v6.bytes.withUnsafeBytes { #expect(IPAddress(raw: $0) == v6) }
        for count in [0, 3, 5, 15, 17] {
            #expect(IPAddress(bytes: Array(repeating: 1, count: count)[...]) == nil)
        }
        var out: [UInt8] = [0xff]
        v4.append(to: &out)
        #expect(out == [0xff, 192, 0, 2, 7])
    }

    @Test func masksKeepThePrefix() {
        #expect(IPAddress.mask(family: AddressFamily.inet, prefix: 24) == IPAddress("255.255.255.0"))
        #expect(IPAddress.mask(family: AddressFamily.inet, prefix: 0) == IPAddress("0.0.0.0"))
        #expect(IPAddress.mask(family: AddressFamily.inet6, prefix: 64) == IPAddress("ffff:ffff:ffff:ffff::"))
        #expect(IPAddress("10.1.2.3")!.masked(by: .mask(family: AddressFamily.inet, prefix: 16)) == IPAddress("10.1.0.0"))
        #expect(IPAddress("2001:db8:1:2::9")!.masked(by: .mask(family: AddressFamily.inet6, prefix: 48)) == IPAddress("2001:db8:1::"))
    }
}
