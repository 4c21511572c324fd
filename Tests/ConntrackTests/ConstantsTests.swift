import CLinux
import Conntrack
import Testing

@Suite struct ConntrackConstantsTests {
    @Test func attributeNumbersMatchHeaders() {
        let pairs: [(UInt16, UInt32)] = [
            (CTA.tupleOrig, CTA_TUPLE_ORIG.rawValue), (CTA.tupleReply, CTA_TUPLE_REPLY.rawValue),
            (CTA.status, CTA_STATUS.rawValue), (CTA.protoinfo, CTA_PROTOINFO.rawValue), (CTA.help, CTA_HELP.rawValue),
            (CTA.natSrc, CTA_NAT_SRC.rawValue), (CTA.timeout, CTA_TIMEOUT.rawValue), (CTA.mark, CTA_MARK.rawValue),
            (CTA.countersOrig, CTA_COUNTERS_ORIG.rawValue), (CTA.countersReply, CTA_COUNTERS_REPLY.rawValue),
            (CTA.use, CTA_USE.rawValue), (CTA.id, CTA_ID.rawValue), (CTA.natDst, CTA_NAT_DST.rawValue),
            (CTA.tupleMaster, CTA_TUPLE_MASTER.rawValue), (CTA.seqAdjOrig, CTA_SEQ_ADJ_ORIG.rawValue),
            (CTA.seqAdjReply, CTA_SEQ_ADJ_REPLY.rawValue), (CTA.secmark, CTA_SECMARK.rawValue),
            (CTA.zone, CTA_ZONE.rawValue), (CTA.secctx, CTA_SECCTX.rawValue), (CTA.timestamp, CTA_TIMESTAMP.rawValue),
            (CTA.markMask, CTA_MARK_MASK.rawValue), (CTA.labels, CTA_LABELS.rawValue),
            (CTA.labelsMask, CTA_LABELS_MASK.rawValue), (CTA.synproxy, CTA_SYNPROXY.rawValue),
            (CTA.filter, CTA_FILTER.rawValue), (CTA.statusMask, CTA_STATUS_MASK.rawValue),
            (CTA.Tuple.ip, CTA_TUPLE_IP.rawValue), (CTA.Tuple.proto, CTA_TUPLE_PROTO.rawValue),
            (CTA.Tuple.zone, CTA_TUPLE_ZONE.rawValue),
            (CTA.IP.v4Src, CTA_IP_V4_SRC.rawValue), (CTA.IP.v6Dst, CTA_IP_V6_DST.rawValue),
            (CTA.Proto.num, CTA_PROTO_NUM.rawValue), (CTA.Proto.srcPort, CTA_PROTO_SRC_PORT.rawValue),
            (CTA.Proto.icmpID, CTA_PROTO_ICMP_ID.rawValue), (CTA.Proto.icmpCode, CTA_PROTO_ICMP_CODE.rawValue),
            (CTA.Proto.icmpv6ID, CTA_PROTO_ICMPV6_ID.rawValue), (CTA.Proto.icmpv6Code, CTA_PROTO_ICMPV6_CODE.rawValue),
            (CTA.ProtoInfo.tcp, CTA_PROTOINFO_TCP.rawValue), (CTA.ProtoInfo.dccp, CTA_PROTOINFO_DCCP.rawValue),
            (CTA.ProtoInfo.sctp, CTA_PROTOINFO_SCTP.rawValue),
            (CTA.TCP.state, CTA_PROTOINFO_TCP_STATE.rawValue), (CTA.TCP.flagsReply, CTA_PROTOINFO_TCP_FLAGS_REPLY.rawValue),
            (CTA.SCTP.vtagReply, CTA_PROTOINFO_SCTP_VTAG_REPLY.rawValue),
            (CTA.DCCP.handshakeSeq, CTA_PROTOINFO_DCCP_HANDSHAKE_SEQ.rawValue),
            (CTA.Counters.packets, CTA_COUNTERS_PACKETS.rawValue), (CTA.Counters.bytes32, CTA_COUNTERS32_BYTES.rawValue),
            (CTA.Timestamp.stop, CTA_TIMESTAMP_STOP.rawValue),
            (CTA.NAT.v4MinIP, CTA_NAT_V4_MINIP.rawValue), (CTA.NAT.proto, CTA_NAT_PROTO.rawValue),
            (CTA.NAT.v6MaxIP, CTA_NAT_V6_MAXIP.rawValue), (CTA.ProtoNAT.portMax, CTA_PROTONAT_PORT_MAX.rawValue),
            (CTA.SeqAdj.offsetAfter, CTA_SEQADJ_OFFSET_AFTER.rawValue), (CTA.Help.info, CTA_HELP_INFO.rawValue),
            (CTA.Synproxy.tsoff, CTA_SYNPROXY_TSOFF.rawValue),
            (CTA.Expect.master, CTA_EXPECT_MASTER.rawValue), (CTA.Expect.helpName, CTA_EXPECT_HELP_NAME.rawValue),
            (CTA.Expect.class, CTA_EXPECT_CLASS.rawValue), (CTA.Expect.fn, CTA_EXPECT_FN.rawValue),
            (CTA.ExpectNAT.tuple, CTA_EXPECT_NAT_TUPLE.rawValue),
        ]
        for (ours, header) in pairs { #expect(UInt32(ours) == header) }
    }

    @Test func messageTypesAndGroupsMatchHeaders() {
        #expect(ConntrackMessageType.get == UInt16(NFNL_SUBSYS_CTNETLINK) << 8 | UInt16(IPCTNL_MSG_CT_GET.rawValue))
        #expect(ConntrackMessageType.getStats == UInt16(NFNL_SUBSYS_CTNETLINK) << 8 | UInt16(IPCTNL_MSG_CT_GET_STATS.rawValue))
        #expect(ConntrackMessageType.expectDelete == UInt16(NFNL_SUBSYS_CTNETLINK_EXP) << 8 | UInt16(IPCTNL_MSG_EXP_DELETE.rawValue))
        #expect(ConntrackGroup.new == NFNLGRP_CONNTRACK_NEW.rawValue)
        #expect(ConntrackGroup.destroy == NFNLGRP_CONNTRACK_DESTROY.rawValue)
        #expect(ConntrackGroup.expectDestroy == NFNLGRP_CONNTRACK_EXP_DESTROY.rawValue)
        #expect(FlowStatus.confirmed.rawValue == UInt32(IPS_CONFIRMED.rawValue))
        #expect(FlowStatus.hardwareOffload.rawValue == UInt32(IPS_HW_OFFLOAD.rawValue))
    }
}
