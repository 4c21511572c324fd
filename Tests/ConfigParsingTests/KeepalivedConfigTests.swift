import ConfigParsing
import Conntrack
import TestSupport
import Testing
import IPAddressing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct KeepalivedConfigTests {
    /// The seed's keepalived.conf for one firewall, cut from seed-howto.txt at run time.
    static func seedConfig(_ host: String) -> String {
        let text = Vectors.readText(SharedVectors.sharedDirectory + "/reference/seed-howto.txt")
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let marker = host == "fw-1" ? "Primary fw-1 keepalived configuration file." : "Standby fw-2 Keepalived configuration file."
        guard let start = lines.firstIndex(where: { $0.contains(marker) }) else { return "" }
        var out: [Substring] = []
        var depth = 0
        var blocks = 0
        for line in lines[(start + 1)...] {
            depth += line.filter { $0 == "{" }.count - line.filter { $0 == "}" }.count
            out.append(line)
            if line.contains("}") && depth == 0 { blocks += 1; if blocks == 3 { break } }
        }
        return out.joined(separator: "\n")
    }

    @Test(arguments: ["fw-1", "fw-2"])
    func seedConfigsLoadUnchanged(host: String) throws {
        let text = Self.seedConfig(host)
        let c = try KeepalivedConfigParser.parse(text, file: "/etc/keepalived/keepalived.conf")
        #expect(c.errors.isEmpty, "\(c.errors)")
        // Nothing in the seed's file is refused: it must run unchanged.
        #expect(c.unsupported.isEmpty, "\(c.unsupported)")
        let g = try #require(c.syncGroups.first)
        #expect(g.name == "G1" && g.members == ["EXT", "INT"])
        #expect(g.notify.master == "/etc/conntrackd/primary-backup.sh primary")
        #expect(g.notify.backup == "/etc/conntrackd/primary-backup.sh backup")
        #expect(g.notify.fault == "/etc/conntrackd/primary-backup.sh fault")
        #expect(c.instances.map(\.name) == ["INT", "EXT"])
        let int = c.instances[0]
        let master = host == "fw-1"
        #expect(int.initialState == (master ? "MASTER" : "BACKUP"))
        #expect(int.interface == "ens4" && int.virtualRouterID == 11 && int.priority == (master ? 50 : 25))
        #expect(int.advertisementInterval == 1 && int.effectiveVersion == 2)
        #expect(int.unicastSource == IPAddress(master ? "10.0.0.1" : "10.0.0.2"))
        #expect(int.unicastPeers.map(\.address) == [IPAddress(master ? "10.0.0.2" : "10.0.0.1")!])
        #expect(int.authenticationType == "PASS" && int.authenticationPassword == "1111")
        #expect(int.virtualAddresses == [.init(address: IPAddress("10.0.0.3")!, prefix: 24, device: "ens4")])
        #expect(int.garpMasterDelay == 1)
        // keepalived clears nopreempt on a `state MASTER` instance, with a warning.
        #expect(int.noPreempt == !master)
        // keepalived reports it as a configuration error and runs on; so does Tandem.
        #expect(c.toleratedErrors.contains { $0.message.contains("nopreempt will not work") } == master)
        let ext = c.instances[1]
        #expect(ext.interface == "ens2" && ext.virtualRouterID == 22)
        #expect(ext.virtualAddresses.first?.address == IPAddress("192.168.255.250"))
    }

    @Test func labAndExampleConfigsLoad() throws {
        var files: [String] = []
        let base = SharedVectors.sharedDirectory + "/vectors/reference-output"
        for run in Shell.run(["ls", base]).lines {
            for f in ["fw1-keepalived.conf", "fw2-keepalived.conf"] { files.append("\(base)/\(run)/\(f)") }
        }
        files.append("/usr/share/doc/conntrackd/examples/sync/keepalived.conf")
        var loaded = 0
        for f in files where !Vectors.readText(f).isEmpty {
            let c = try KeepalivedConfigParser.parse(file: f)
            // Debian's example says `state SLAVE`, which keepalived reports and treats as BACKUP.
            #expect(c.errors.allSatisfy { $0.message == "unknown state `SLAVE', using BACKUP" }, "\(f): \(c.errors)")
            #expect(!c.instances.isEmpty, "\(f)")
            #expect(c.unsupported.isEmpty, "\(f): \(c.unsupported)")
            loaded += 1
        }
        #expect(loaded >= 10)
    }

    @Test func grammarDetails() throws {
        let c = try KeepalivedConfigParser.parse("""
        ! comment
        global_defs { router_id g1 }   # one-line block
        vrrp_script chk
        {
            script "/usr/bin/check it"   ! quoted, with a space
            interval 2
            weight -20
        }
        vrrp_instance V6 {
            interface eth0
            virtual_router_id 13
            advert_int 0.5
            virtual_ipaddress {
                fe80::1:13/64 dev eth0
                2001:db8::13/64 label eth0:v
            }
            track_script {
                chk weight 10
            }
            authentication {
                auth_type PASS
                auth_pass 123456789
            }
        }
        """)
        #expect(c.routerID == "g1")
        #expect(c.scripts.first?.command == "/usr/bin/check it" && c.scripts.first?.weight == -20)
        let v = try #require(c.instances.first)
        #expect(v.effectiveVersion == 3 && v.advertisementInterval == 0.5)
        #expect(v.effectivePriority == 100)
        // keepalived drops a label on an IPv6 address, with a configuration error.
        #expect(v.virtualAddresses.count == 2 && v.virtualAddresses[1].label == nil)
        #expect(c.toleratedErrors.contains { $0.message == "Cannot specify label for IPv6 addresses (2001:db8::13/64) - ignoring label" })
        #expect(v.trackScripts == [.init(name: "chk", weight: 10)])
        #expect(v.authenticationType == nil)
        #expect(c.warnings.contains { $0.message.contains("does not support authentication") })
    }

    @Test func errorsNameLineColumn() throws {
        let c = try KeepalivedConfigParser.parse("vrrp_instance A {\n    interface eth0\n    virtual_router_id 300\n    bogus_keyword 1\n}\n",
                                                 file: "/etc/keepalived/keepalived.conf")
        // The out-of-range id is reported where it stands, and the instance then lacks one.
        #expect(c.errors.map(\.location.line) == [3, 4, 1])
        #expect(c.errors[0].location.column == 23 && c.errors[0].token == "300")
        #expect(c.errors[1].description == "/etc/keepalived/keepalived.conf:4:5: error: Unknown keyword 'bogus_keyword' (at `bogus_keyword')")
        #expect(throws: ConfigError.self) { try KeepalivedConfigParser.parse("vrrp_instance A {\n interface eth0\n") }
        #expect(throws: ConfigError.self) { try KeepalivedConfigParser.parse("}\n") }
        #expect(throws: ConfigError.self) { try KeepalivedConfigParser.parse("vrrp_instance A { script \"unterminated }\n") }
    }

    @Test func includeIsRelativeToTheIncludingFile() throws {
        let dir = "/tmp/tandem-ka-\(getpid())"
        _ = Shell.run(["mkdir", "-p", dir + "/conf.d"])
        defer { _ = Shell.run(["rm", "-rf", dir]) }
        _ = Shell.run(["sh", "-c", "printf 'include conf.d/*.conf\\n' > \(dir)/keepalived.conf"])
        _ = Shell.run(["sh", "-c", "printf 'vrrp_instance X {\\n interface eth0\\n virtual_router_id 5\\n}\\n' > \(dir)/conf.d/x.conf"])
        let c = try KeepalivedConfigParser.parse(file: dir + "/keepalived.conf")
        #expect(c.instances.map(\.name) == ["X"])
        #expect(c.instances.first?.location.file == dir + "/conf.d/x.conf")
    }
}
