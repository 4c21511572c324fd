// ctnetlink numbers from linux/netfilter/nfnetlink_conntrack.h, spelled out because Glibc
// does not export them; ConntrackTests cross-checks every one against the header.

public enum CTA {
    public static let tupleOrig: UInt16 = 1
    public static let tupleReply: UInt16 = 2
    public static let status: UInt16 = 3
    public static let protoinfo: UInt16 = 4
    public static let help: UInt16 = 5
    public static let natSrc: UInt16 = 6
    public static let timeout: UInt16 = 7
    public static let mark: UInt16 = 8
    public static let countersOrig: UInt16 = 9
    public static let countersReply: UInt16 = 10
    public static let use: UInt16 = 11
    public static let id: UInt16 = 12
    public static let natDst: UInt16 = 13
    public static let tupleMaster: UInt16 = 14
    public static let seqAdjOrig: UInt16 = 15
    public static let seqAdjReply: UInt16 = 16
    public static let secmark: UInt16 = 17
    public static let zone: UInt16 = 18
    public static let secctx: UInt16 = 19
    public static let timestamp: UInt16 = 20
    public static let markMask: UInt16 = 21
    public static let labels: UInt16 = 22
    public static let labelsMask: UInt16 = 23
    public static let synproxy: UInt16 = 24
    public static let filter: UInt16 = 25
    public static let statusMask: UInt16 = 26

    public enum Tuple {
        public static let ip: UInt16 = 1
        public static let proto: UInt16 = 2
        public static let zone: UInt16 = 3
    }
    public enum IP {
        public static let v4Src: UInt16 = 1
        public static let v4Dst: UInt16 = 2
        public static let v6Src: UInt16 = 3
        public static let v6Dst: UInt16 = 4
    }
    public enum Proto {
        public static let num: UInt16 = 1
        public static let srcPort: UInt16 = 2
        public static let dstPort: UInt16 = 3
        public static let icmpID: UInt16 = 4
        public static let icmpType: UInt16 = 5
        public static let icmpCode: UInt16 = 6
        public static let icmpv6ID: UInt16 = 7
        public static let icmpv6Type: UInt16 = 8
        public static let icmpv6Code: UInt16 = 9
    }
    public enum ProtoInfo {
        public static let tcp: UInt16 = 1
        public static let dccp: UInt16 = 2
        public static let sctp: UInt16 = 3
    }
    public enum TCP {
        public static let state: UInt16 = 1
        public static let wscaleOriginal: UInt16 = 2
        public static let wscaleReply: UInt16 = 3
        public static let flagsOriginal: UInt16 = 4
        public static let flagsReply: UInt16 = 5
    }
    public enum DCCP {
        public static let state: UInt16 = 1
        public static let role: UInt16 = 2
        public static let handshakeSeq: UInt16 = 3
    }
    public enum SCTP {
        public static let state: UInt16 = 1
        public static let vtagOriginal: UInt16 = 2
        public static let vtagReply: UInt16 = 3
    }
    public enum Counters {
        public static let packets: UInt16 = 1
        public static let bytes: UInt16 = 2
        public static let packets32: UInt16 = 3
        public static let bytes32: UInt16 = 4
    }
    public enum Timestamp {
        public static let start: UInt16 = 1
        public static let stop: UInt16 = 2
    }
    public enum NAT {
        public static let v4MinIP: UInt16 = 1
        public static let v4MaxIP: UInt16 = 2
        public static let proto: UInt16 = 3
        public static let v6MinIP: UInt16 = 4
        public static let v6MaxIP: UInt16 = 5
    }
    public enum ProtoNAT {
        public static let portMin: UInt16 = 1
        public static let portMax: UInt16 = 2
    }
    public enum SeqAdj {
        public static let correctionPos: UInt16 = 1
        public static let offsetBefore: UInt16 = 2
        public static let offsetAfter: UInt16 = 3
    }
    public enum Help {
        public static let name: UInt16 = 1
        public static let info: UInt16 = 2
    }
    public enum Secctx {
        public static let name: UInt16 = 1
    }
    public enum Synproxy {
        public static let isn: UInt16 = 1
        public static let its: UInt16 = 2
        public static let tsoff: UInt16 = 3
    }
    public enum Expect {
        public static let master: UInt16 = 1
        public static let tuple: UInt16 = 2
        public static let mask: UInt16 = 3
        public static let timeout: UInt16 = 4
        public static let id: UInt16 = 5
        public static let helpName: UInt16 = 6
        public static let zone: UInt16 = 7
        public static let flags: UInt16 = 8
        public static let `class`: UInt16 = 9
        public static let nat: UInt16 = 10
        public static let fn: UInt16 = 11
    }
    public enum ExpectNAT {
        public static let dir: UInt16 = 1
        public static let tuple: UInt16 = 2
    }
}

/// Message types: (NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_*), and the _EXP subsystem.
public enum ConntrackMessageType {
    public static let subsystemConntrack: UInt16 = 1
    public static let subsystemExpect: UInt16 = 2

    public static let new: UInt16 = 0x0100
    public static let get: UInt16 = 0x0101
    public static let delete: UInt16 = 0x0102
    public static let getCtrZero: UInt16 = 0x0103
    public static let getStatsCPU: UInt16 = 0x0104
    public static let getStats: UInt16 = 0x0105
    public static let getDying: UInt16 = 0x0106
    public static let getUnconfirmed: UInt16 = 0x0107

    public static let expectNew: UInt16 = 0x0200
    public static let expectGet: UInt16 = 0x0201
    public static let expectDelete: UInt16 = 0x0202
}

/// Multicast groups (NFNLGRP_CONNTRACK_*).
public enum ConntrackGroup {
    public static let new: UInt32 = 1
    public static let update: UInt32 = 2
    public static let destroy: UInt32 = 3
    public static let expectNew: UInt32 = 4
    public static let expectUpdate: UInt32 = 5
    public static let expectDestroy: UInt32 = 6
}
