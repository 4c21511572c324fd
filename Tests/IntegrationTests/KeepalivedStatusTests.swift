import Foundation
import TestSupport
import Testing

/// `tandem status` of a `tandem keepalived` node, its VRRP instances taken from a live
/// election against keepalived 2.2.7: the control socket sits beside the pid file, the
/// document validates against docs/status.schema.json (mode keepalived, replication
/// sections null) and says what the VIP says; the validators refuse the same document
/// with a section that does not fit its mode.
@Suite(.serialized, .enabled(if: Shell.isRoot && FileManager.default.isExecutableFile(atPath: "/usr/sbin/keepalived"), "needs root and keepalived"))
struct KeepalivedStatusTests {
    /// The full draft 2020-12 validator's verdict, when python3-jsonschema is installed.
    static func pythonVerdict(_ document: String) throws -> Bool? {
        guard StatusJSONTests.pythonJSONSchema else { return nil }
        let file = NSTemporaryDirectory() + "tob-status-\(getpid()).json"
        try document.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let check = Shell.run(["python3", "-c", """
            import json, sys, jsonschema
            schema = json.load(open(sys.argv[1]))
            jsonschema.Draft202012Validator.check_schema(schema)
            jsonschema.Draft202012Validator(schema).validate(json.load(open(sys.argv[2])))
            """, JSONSchemaSubset.statusSchemaPath, file])
        return check.status == 0
    }

    static func render(_ v: JSONValue) -> String {
        let data = try! JSONEncoder().encode(EncodableJSON(v))
        return String(decoding: data, as: UTF8.self)
    }

    @Test(arguments: [true, false])
    func statusShowsTheLiveElection(tandemWins: Bool) throws {
        let pair = try SwitchedPair(tag: "ks", prefix: "tob")
        defer { pair.remove() }
        let c = KeepalivedInteropTests.v3
        let (t, k) = try KeepalivedInteropTests.start(pair, c, tandem: [.init(priority: tandemWins ? 150 : 100)],
                                                      keepalived: [.init(priority: tandemWins ? 100 : 150)])
        defer { t.remove(); k.remove() }
        let (winner, loser) = tandemWins ? ("a", "b") : ("b", "a")
        let vip = VRRPTestConfig.vip(0)
        try #require(eventually(within: 15) { pair.holds(winner, vip) && !pair.holds(loser, vip) }, "\(t.log)\n\(k.log)")

        // VRRPRouter starts Tandem with -p DIR/k.pid: its socket is DIR/k.ctl.
        let socket = t.directory + "/k.ctl"
        let r = pair.a.run([Shell.tandem, "status", "--json", "--control-socket", socket], timeout: 10)
        try #require(r.status == 0, "\(r.stderr)\n\(t.log)")
        let document = try JSONValue.parse(r.stdout)
        #expect(try JSONSchemaSubset.statusSchema().errors(in: document) == [], "\(r.stdout)")
        if let valid = try Self.pythonVerdict(r.stdout) { #expect(valid, "jsonschema refused \(r.stdout)") }
        #expect(document["schema"] == .string("tandem-status/2"))
        #expect(document["mode"] == .string("keepalived"))
        #expect(document["sync"] == .null && document["caches"] == .null && document["splitBrain"] == .null)
        #expect(document["process"]?["pid"]?.int == Int64(t.process.pid))
        let instance = try #require(document["vrrp"]?["instances"]?[0], "\(r.stdout)")
        #expect(instance["name"] == .string("VI_1"))
        #expect(instance["state"] == .string(tandemWins ? "MASTER" : "BACKUP"), "\(r.stdout)")
        #expect(instance["basePriority"]?.int == (tandemWins ? 150 : 100))
        #expect(instance["interface"] == .string(pair.interface("a", 0)))

        let text = pair.a.run([Shell.tandem, "status", "--control-socket", socket], timeout: 10)
        #expect(text.status == 0 && text.stdout.contains("VI_1: \(tandemWins ? "MASTER" : "BACKUP")"), "\(text.stdout)\(text.stderr)")

        // Control: the live document with a replication section, or called `run`, is
        // refused by both validators (the checks above could fail).
        guard case .object(var o) = document else { Issue.record("not an object"); return }
        o["sync"] = .object([:])
        #expect(try JSONSchemaSubset.statusSchema().errors(in: .object(o)).contains { $0.contains("fits no anyOf branch") })
        if let valid = try Self.pythonVerdict(Self.render(.object(o))) { #expect(!valid) }
        o["sync"] = .null
        o["mode"] = .string("run")
        #expect(try JSONSchemaSubset.statusSchema().errors(in: .object(o)) != [])
        if let valid = try Self.pythonVerdict(Self.render(.object(o))) { #expect(!valid) }
    }

    /// conntrackd's CLI pointed at the keepalived socket: its request is refused with a log
    /// line and counted, the client hears nothing; the status request on the same socket
    /// (the control) is answered.
    @Test func conntrackdRequestsAreRefusedAndCounted() throws {
        let pair = try SwitchedPair(tag: "kc", prefix: "tob")
        defer { pair.remove() }
        let t = try VRRPRouter(.tandem, in: pair.a, config: KeepalivedInteropTests.v3.text(pair, side: "a", instances: [.init(priority: 150)]))
        defer { t.remove() }
        let socket = t.directory + "/k.ctl"
        try #require(eventually(within: 10) { pair.a.run([Shell.tandem, "status", "--control-socket", socket], timeout: 5).status == 0 },
                     "\(t.log)")
        let conf = t.directory + "/c.conf"
        try "General {\n    UNIX {\n        Path \(socket)\n    }\n}\nSync {\n    Mode FTFW {\n    }\n    UDP {\n        IPv4_address 127.0.0.1\n        IPv4_Destination_Address 127.0.0.2\n        Port 3780\n    }\n}\n".write(toFile: conf, atomically: true, encoding: .utf8)
        let stats = pair.a.run([Shell.tandem, "conntrackd", "-C", conf, "-s"], timeout: 10)
        #expect(stats.stdout.isEmpty, "\(stats.stdout)\(stats.stderr)")
        let r = pair.a.run([Shell.tandem, "status", "--json", "--control-socket", socket], timeout: 10)
        let document = try JSONValue.parse(r.stdout)
        #expect(document["control"]?["localUnknownRequest"] == .integer(1), "\(r.stdout)")
        #expect(eventually(within: 3) { t.log.contains("local request statistics not supported by tandem keepalived") }, "\(t.log)")
    }

    /// A second daemon given the first one's socket refuses to start rather than take it;
    /// the first still answers afterwards (without the check, binding would unlink it).
    @Test func aSocketInUseIsNotTaken() throws {
        let pair = try SwitchedPair(tag: "kt", prefix: "tob")
        defer { pair.remove() }
        let c = KeepalivedInteropTests.v3
        let t = try VRRPRouter(.tandem, in: pair.a, config: c.text(pair, side: "a", instances: [.init(priority: 150)]))
        defer { t.remove() }
        let socket = t.directory + "/k.ctl"
        // Alone on its segment, it becomes MASTER after its Master_Down_Interval.
        try #require(eventually(within: 10) {
            pair.a.run([Shell.tandem, "status", "--control-socket", socket], timeout: 5).stdout.contains("VI_1: MASTER")
        }, "\(t.log)")
        let other = NSTemporaryDirectory() + "tob-second-\(getpid())"
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: other) }
        let second = pair.a.run(["timeout", "20", Shell.tandem, "keepalived", "-n", "-l", "-D", "-f", t.configPath, "-p", other + "/k.pid",
                                 "--control-socket", socket], timeout: 30)
        #expect(second.status == 1, "\(second.stdout)\(second.stderr)")
        #expect(second.stderr.contains("control socket \(socket): another daemon answers there"), "\(second.stderr)")
        let first = pair.a.run([Shell.tandem, "status", "--control-socket", socket], timeout: 5)
        #expect(first.status == 0 && first.stdout.contains("VI_1: MASTER"), "\(first.stdout)\(first.stderr)")
    }
}

/// Writes a parsed value back as JSON (the controls above alter a live document).
struct EncodableJSON: Encodable {
    let value: JSONValue
    init(_ value: JSONValue) { self.value = value }

    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch value {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .integer(let i): try c.encode(i)
        case .number(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a.map(EncodableJSON.init))
        case .object(let o): try c.encode(o.mapValues(EncodableJSON.init))
        }
    }
}
