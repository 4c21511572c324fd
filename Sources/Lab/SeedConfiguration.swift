/// The seed how-to's configuration files for one firewall, adapted only where a lab in
/// namespaces must differ (interface names, paths under the state directory). Every
/// stack reads the same files: Tandem takes them as they are.
struct SeedConfiguration {
    let names: LabNames
    let fw: Firewall
    let advertInterval: Double

    var conntrackdConf: String {
        let d = names.directory(fw)
        let p = fw.peer
        return """
        # Seed conntrackd.conf for \(fw). Lines marked LAB-ADAPTED differ from the seed.
        Sync {
            Mode FTFW {
                DisableExternalCache Off
                CommitTimeout 180
                PurgeTimeout 5
            }

            UDP {
                # Dedicated link for connection replication
                IPv4_address \(SeedAddressing.sync(fw))
                IPv4_Destination_Address \(SeedAddressing.sync(p))
                Port \(SeedAddressing.syncPort)
                Interface \(LabInterface.sync)  # LAB-ADAPTED (seed: ens3)
                SndSocketBuffer 1249280
                RcvSocketBuffer 1249280
                Checksum on
            }
        }

        General {
            Systemd on
            Nice \(fw == .fw1 ? -20 : -10)
            HashSize 32768
            HashLimit 131072
            LogFile \(d)/conntrackd.log  # LAB-ADAPTED (seed: on = /var/log/conntrackd.log)
            Syslog on
            NetlinkOverrunResync 5
            NetlinkEventsReliable on
            PollSecs 5
            EventIterationLimit 200
            LockFile \(d)/conntrack.lock  # LAB-ADAPTED (seed: /var/lock/conntrack.lock)
            UNIX {
                Path \(d)/conntrackd.ctl  # LAB-ADAPTED (seed: /var/run/conntrackd.ctl)
                Backlog 20
            }
            NetlinkBufferSize 2097152
            NetlinkBufferSizeMaxGrowth 8388608
            Filter From Userspace {
                Protocol Accept {
                    TCP
                    UDP
                    ICMP # This requires a Linux kernel >= 2.6.31
                }
                Address Ignore {
                    IPv4_address 127.0.0.1 # loopback
                    IPv4_address 10.0.0.1
                    IPv4_address 10.0.0.2
                    IPv4_address 10.0.0.3
                    IPv4_address 192.168.255.2
                    IPv4_address 192.168.255.52
                    IPv4_address 192.168.255.250
                }
            }
        }

        """
    }

    var keepalivedConf: String {
        let script = names.file(fw, "primary-backup.sh")
        let state = fw == .fw1 ? "MASTER" : "BACKUP"
        let priority = fw == .fw1 ? 50 : 25
        let advert = formatSeconds(advertInterval)
        func instance(_ name: String, _ interface: String, _ vrid: Int, _ own: String, _ peer: String, _ vip: String) -> String {
            """
            vrrp_instance \(name) {
                state \(state)
                interface \(interface)
                virtual_router_id \(vrid)
                priority \(priority)
                advert_int \(advert)
                unicast_src_ip \(own)
                unicast_peer {
                    \(peer)
                }
                authentication {
                    auth_type PASS
                    auth_pass 1111
                }
                virtual_ipaddress {
                    \(vip)/\(SeedAddressing.prefixLength) dev \(interface)
                }
                nopreempt
                garp_master_delay 1
            }
            """
        }
        return """
        # Seed keepalived.conf for \(fw). LAB-ADAPTED: interface names, notify script path\(advertInterval == 1 ? "" : ", advert_int").
        vrrp_sync_group G1 {
            group {
                EXT
                INT
            }
            notify_master "\(script) primary"
            notify_backup "\(script) backup"
            notify_fault "\(script) fault"
        }

        \(instance("INT", LabInterface.lan, 11, SeedAddressing.lan(fw), SeedAddressing.lan(fw.peer), SeedAddressing.lanVIP))

        \(instance("EXT", LabInterface.wan, 22, SeedAddressing.wan(fw), SeedAddressing.wan(fw.peer), SeedAddressing.wanVIP))

        """
    }

    /// The seed's ruleset (FORWARD policy DROP, which is what makes replication matter:
    /// with ACCEPT the backup's kernel picks a flow up mid-stream) plus the rules the lab's
    /// UDP and ICMP sessions need.
    static var ruleset: String {
        let lan = LabInterface.lan, wan = LabInterface.wan
        return """
        *filter
        :INPUT ACCEPT [0:0]
        :FORWARD DROP [0:0]
        :OUTPUT ACCEPT [0:0]
        -A FORWARD -m state --state RELATED -j ACCEPT
        -A FORWARD -i \(wan) -m state --state ESTABLISHED -j ACCEPT
        -A FORWARD -i \(lan) -p tcp -m tcp --dport 22 --tcp-flags FIN,SYN,RST,ACK SYN -m state --state NEW -j ACCEPT
        -A FORWARD -i \(lan) -p tcp -m state --state ESTABLISHED -j ACCEPT
        # NOT IN THE SEED: `tandem lab` also runs a UDP stream (client subscribes to port 5000)
        # and an ICMP echo session; the seed only lets SSH out. Replies from the WAN side are
        # already accepted by the seed's ESTABLISHED rule above.
        -A FORWARD -i \(lan) -p udp --dport \(SeedAddressing.streamPort) -m state --state NEW -j ACCEPT
        -A FORWARD -i \(lan) -p udp -m state --state ESTABLISHED -j ACCEPT
        -A FORWARD -i \(lan) -p icmp --icmp-type echo-request -m state --state NEW -j ACCEPT
        -A FORWARD -i \(lan) -p icmp -m state --state ESTABLISHED -j ACCEPT
        # end of the lab's additions
        -A FORWARD -m state --state INVALID -j LOG --log-prefix "invalid: "
        COMMIT
        *nat
        :PREROUTING ACCEPT [0:0]
        :INPUT ACCEPT [0:0]
        :OUTPUT ACCEPT [0:0]
        :POSTROUTING ACCEPT [0:0]
        -A POSTROUTING -s \(SeedAddressing.lanNetwork) -o \(wan) -j SNAT --to-source \(SeedAddressing.wanVIP)
        COMMIT

        """
    }
}
