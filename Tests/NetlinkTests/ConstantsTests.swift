import CLinux
import Netlink
import Testing

/// The hand-written constants must equal the kernel UAPI headers they mirror.
@Suite struct ConstantsTests {
    @Test func netlinkConstantsMatchHeaders() {
        #expect(NetlinkProtocol.netfilter == NETLINK_NETFILTER)
        #expect(NetlinkProtocol.route == NETLINK_ROUTE)
        #expect(Int32(NetlinkMessageType.noop) == NLMSG_NOOP)
        #expect(Int32(NetlinkMessageType.error) == NLMSG_ERROR)
        #expect(Int32(NetlinkMessageType.done) == NLMSG_DONE)
        #expect(Int32(NetlinkMessageType.overrun) == NLMSG_OVERRUN)
        #expect(NetlinkSocketOption.addMembership == NETLINK_ADD_MEMBERSHIP)
        #expect(NetlinkSocketOption.dropMembership == NETLINK_DROP_MEMBERSHIP)
        #expect(NetlinkSocketOption.broadcastError == NETLINK_BROADCAST_ERROR)
        #expect(NetlinkSocketOption.noENOBUFS == NETLINK_NO_ENOBUFS)
        #expect(NetlinkSocketOption.capAck == NETLINK_CAP_ACK)
        #expect(NetlinkSocketOption.extendedAck == NETLINK_EXT_ACK)
        #expect(Int32(NetlinkFlags.request.rawValue) == NLM_F_REQUEST)
        #expect(Int32(NetlinkFlags.multipart.rawValue) == NLM_F_MULTI)
        #expect(Int32(NetlinkFlags.ack.rawValue) == NLM_F_ACK)
        #expect(Int32(NetlinkFlags.dumpInterrupted.rawValue) == NLM_F_DUMP_INTR)
        #expect(Int32(NetlinkFlags.dump.rawValue) == NLM_F_DUMP)
        #expect(Int32(NetlinkFlags.excl.rawValue) == NLM_F_EXCL)
        #expect(Int32(NetlinkFlags.create.rawValue) == NLM_F_CREATE)
        #expect(Int32(NetlinkFlags.capped.rawValue) == NLM_F_CAPPED)
        #expect(Int32(NetlinkFlags.ackTLVs.rawValue) == NLM_F_ACK_TLVS)
        #expect(Int32(AttributeFlag.nested) == NLA_F_NESTED)
        #expect(Int32(AttributeFlag.networkByteOrder) == NLA_F_NET_BYTEORDER)
        #expect(Int(ExtendedAckAttribute.message) == Int(NLMSGERR_ATTR_MSG.rawValue))
    }
}
