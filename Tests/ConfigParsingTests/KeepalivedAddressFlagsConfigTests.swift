import ConfigParsing
import IPAddressing
import Testing

/// `brd`, `peer` and the flag words on an address line, read as keepalived 2.2.7 reads them
/// (vrrp_ipaddress.c alloc_ipaddress; every message below was taken from its `-t` on the
/// same lines). The control of each is the plain address: no broadcast, no peer, no flag.
@Suite struct KeepalivedAddressFlagsConfigTests {
    static func parse(_ lines: String, excluded: String = "") throws -> KeepalivedConfiguration {
        try KeepalivedAddressOptionsConfigTests.parse(lines + (excluded.isEmpty ? "" : "\n }\n virtual_ipaddress_excluded {\n" + excluded))
    }

    @Test func flagWordsAreCarriedToTheKernel() throws {
        let c = try Self.parse("  10.1.1.1/24 home mngtmpaddr noprefixroute autojoin\n  10.1.1.2/24",
                               excluded: "  fd00::1/64 noprefixroute\n  fd00::2/64 -nodad home")
        #expect(KeepalivedAddressOptionsConfigTests.messages(c).isEmpty, "\(KeepalivedAddressOptionsConfigTests.messages(c))")
        let v = c.instances.first?.virtualAddresses ?? [], e = c.instances.first?.excludedAddresses ?? []
        try #require(v.count == 2 && e.count == 2)
        // keepalived sets every word's flag whatever the family; the kernel judges.
        #expect(v[0].kernelFlags.rawValue == 0x10 | 0x100 | 0x200 | 0x400)
        #expect(e[0].kernelFlags == [.noPrefixRoute, .noDAD] && e[1].kernelFlags == [.homeAddress])
        // Control: a plain IPv4 address has no flag at all.
        #expect(v[1].kernelFlags.isEmpty && v[1].broadcast == nil && v[1].peer == nil)
    }

    @Test func broadcastIsWrittenOrWorkedOut() throws {
        let c = try Self.parse("  10.1.1.1/24 brd 10.1.1.77\n  10.1.1.2/24 brd +\n  10.1.1.3/24 broadcast -\n  10.1.1.4/30 brd +\n  10.1.3.1/31 brd +\n  10.1.1.5/24")
        let v = c.instances.first?.virtualAddresses ?? []
        #expect(v.map { $0.broadcast?.description } == ["10.1.1.77", "10.1.1.255", "10.1.1.0", "10.1.1.7", nil, nil])
        // A /31 has no host bit to set: keepalived's error, the address kept without one.
        #expect(c.toleratedErrors.map(\.description) == ["/k.conf:9:3: error: Address prefix length 31 too long for broadcast (at `10.1.3.1/31')"])
    }

    @Test func badBroadcastsDropTheAddress() throws {
        let c = try Self.parse("  10.1.1.11/24 brd\n  10.1.1.12/24 brd 1.2.3\n  10.1.1.13/24 brd fd00::1\n  10.1.1.14/24",
                               excluded: "  fd02::7/64 brd +")
        #expect(c.toleratedErrors.map(\.message) == [
            "No brd parameter specified for 10.1.1.11/24",
            "VRRP is trying to assign invalid broadcast 1.2.3. skipping VIP...",
            "VRRP is trying to assign invalid broadcast fd00::1. skipping VIP...",
            "VRRP is trying to assign a broadcast brd to the IPv6 address fd02::7/64 !!?? WTF... skipping VIP...",
        ])
        // Control: the plain address on the same list stays.
        #expect(c.instances.first?.virtualAddresses.map(\.address.description) == ["10.1.1.14"])
        #expect(c.instances.first?.excludedAddresses.isEmpty == true)
    }

    @Test func peerIsKeepalivedsPointToPoint() throws {
        let c = try Self.parse("""
              10.1.1.1/24 peer 10.1.1.2
              10.1.1.3 peer 10.1.1.4/32
              10.1.1.5 peer fd00::1
              10.1.1.6 peer 10.1.1.7 peer 10.1.1.8
              10.1.1.9 peer 10.1.1.10 brd +
              10.1.1.15 peer
              10.1.1.16/24
            """, excluded: "  fd01::5 peer fd01::6")
        #expect(c.toleratedErrors.map(\.message) == [
            "Cannot specify address prefix when specifying peer address - ignoring",
            "VRRP parsed invalid IP 10.1.1.4/32. skipping IP...",
            "Invalid peer address 10.1.1.4/32",
            "Peer address fd00::1 does not match address family",
            "Peer 10.1.1.8 - another peer has already been specified",
            "Unknown configuration entry '10.1.1.8' for ip address - ignoring",
            "Cannot specify broadcast and peer addresses - ignoring broadcast address",
            "No peer parameter specified for 10.1.1.15",
        ])
        let v = c.instances.first?.virtualAddresses ?? []
        try #require(v.count == 6)
        // The prefix is the peer's, a host one; a bad peer leaves the address as written.
        #expect(v[0].peer?.description == "10.1.1.2" && v[0].prefix == 32)
        #expect(v[1].peer == nil && v[2].peer == nil && v[3].peer?.description == "10.1.1.7")
        #expect(v[4].peer?.description == "10.1.1.10" && v[4].broadcast == nil)
        // Control: the plain address keeps its prefix and has no peer.
        #expect(v[5].peer == nil && v[5].prefix == 24)
        #expect(c.instances.first?.excludedAddresses.first?.peer?.description == "fd01::6")
    }

    /// keepalived tracks the interface of each address (down: FAULT) unless `no_track`;
    /// the instance's own only as its interface (not with dont_track_primary).
    @Test func noTrackLeavesTheAddressInterfaceUntracked() throws {
        let c = try Self.parse("  10.1.1.1/24 dev eth1\n  10.1.1.2/24 dev eth2 no_track\n  10.1.1.3/24 dev eth0\n  10.1.1.4/24 dev eth1",
                               excluded: "  fd00::1/64 dev lo")
        #expect(KeepalivedAddressOptionsConfigTests.messages(c).isEmpty, "\(KeepalivedAddressOptionsConfigTests.messages(c))")
        let i = try #require(c.instances.first)
        #expect(i.virtualAddresses.map(\.noTrack) == [false, true, false, false])
        // Control: eth1 and lo (no no_track) are tracked; eth2 is not, eth0 is the instance's own.
        #expect(i.addressInterfaces == ["eth1", "lo"])
    }
}
