import Foundation
import TestSupport
import Testing

/// `tandem status --json` against live daemons in namespaces: the document validates
/// against docs/status.schema.json (with the tests' validator, and with python3-jsonschema's
/// full draft 2020-12 one when it is installed), and its figures follow what happens:
/// replicated flows fill the caches, a commit becomes the last promotion, the VRRP master
/// says MASTER. A conntrackd 1.4.7 peer, which does not know the request, is reported.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("conntrackd") && Shell.which("conntrack"), "needs root, conntrackd and conntrack"))
struct StatusJSONTests {
    typealias Pair = ConntrackdInteropTests.Pair

    static let pythonJSONSchema = Shell.run(["python3", "-c", "import jsonschema"]).status == 0

    /// The node's document, parsed and checked against the schema (the failure says why).
    static func status(_ ns: TestNamespace, config: String) throws -> JSONValue {
        let r = ns.run([Shell.tandem, "status", "--json", "-C", config])
        try #require(r.status == 0, "tandem status --json: \(r.stderr)")
        let document = try JSONValue.parse(r.stdout)
        let errors = try JSONSchemaSubset.statusSchema().errors(in: document)
        #expect(errors == [], "\(r.stdout)")
        if pythonJSONSchema {
            // One file per call: suites that run side by side ask for documents at once.
            let file = NSTemporaryDirectory() + "tdt-status-\(getpid())-\(UUID().uuidString).json"
            try r.stdout.write(toFile: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: file) }
            let check = Shell.run(["python3", "-c", """
                import json, sys, jsonschema
                schema = json.load(open(sys.argv[1]))
                jsonschema.Draft202012Validator.check_schema(schema)
                jsonschema.Draft202012Validator(schema).validate(json.load(open(sys.argv[2])))
                """, JSONSchemaSubset.statusSchemaPath, file])
            #expect(check.status == 0, "jsonschema: \(check.stderr)")
        }
        return document
    }

    @Test func conntrackdFiguresFollowReplicationAndCommit() throws {
        let pair = try Pair("sjson", a: .tandem, b: .tandem)
        defer { pair.stop() }
        #expect(pair.eventually(5) { FileManager.default.fileExists(atPath: "\(pair.dir)/b.ctl") })
        let before = try Self.status(pair.a, config: "\(pair.dir)/a.conf")
        #expect(before["schema"] == .string("tandem-status/2"))
        #expect(before["mode"] == .string("conntrackd"))
        #expect(before["vrrp"] == .null)
        #expect(before["sync"]?["mode"] == .string("FTFW"))
        #expect(before["sync"]?["link"]?["kind"] == .string("UDP"))
        #expect(before["lastPromotion"] == .null)
        let process = try #require(before["process"])
        #expect((process["pid"]?.int ?? 0) > 1)
        #expect((process["rssBytes"]?.int ?? 0) > 0)
        #expect((process["openFds"]?.int ?? 0) > 0)
        let internalBefore = before["caches"]?["internal"]?["flows"]?.int ?? -1

        for f in ConntrackdInteropTests.flows { pair.a.run(["conntrack", "-I"] + f) }
        let n = Int64(ConntrackdInteropTests.flows.count)
        var a = before
        #expect(pair.eventually { a = (try? Self.status(pair.a, config: "\(pair.dir)/a.conf")) ?? a; return (a["caches"]?["internal"]?["flows"]?.int ?? 0) >= internalBefore + n },
                "\(a)")
        #expect((a["kernel"]?["eventsReceived"]?.int ?? 0) >= n)
        var b = before
        #expect(pair.eventually { b = (try? Self.status(pair.b, config: "\(pair.dir)/b.conf")) ?? b; return (b["caches"]?["external"]?["flows"]?.int ?? 0) >= n },
                "\(b)")
        let replicated = b["caches"]?["external"]?["flows"]?.int ?? 0
        #expect(b["caches"]?["external"]?["counters"]?["created"]?.int == replicated)
        #expect(b["sync"]?["peer"]?["lastHeardMs"]?.int != nil)
        #expect((b["sync"]?["link"]?["packetsReceived"]?.int ?? 0) > 0)

        // A `-c` is what primary-backup.sh promotes with: it becomes the last promotion.
        _ = pair.query("b", ["-c"])
        let committed = try Self.status(pair.b, config: "\(pair.dir)/b.conf")
        let promotion = try #require(committed["lastPromotion"]?.object, "\(committed)")
        #expect(promotion["unit"] == .null)
        #expect(promotion["flows"]?.int == replicated && promotion["committed"]?.int == replicated && promotion["failed"]?.int == 0)
        #expect(promotion["error"] == .null && promotion["announcedAfterMs"] == .null)
        #expect(promotion["failuresByErrno"] == .array([]))
    }

    /// conntrackd 1.4.7 drops code 201 without a word; the tool must not print nothing and succeed.
    @Test func aConntrackdPeerIsReported() throws {
        let pair = try Pair("sjref", a: .tandem, b: .reference)
        defer { pair.stop() }
        #expect(pair.eventually(5) { FileManager.default.fileExists(atPath: "\(pair.dir)/b.ctl") })
        usleep(300_000)
        let r = pair.b.run([Shell.tandem, "status", "--json", "-C", "\(pair.dir)/b.conf"])
        #expect(r.status == 1)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.contains("gave no JSON status"), "\(r.stderr)")
        // The Tandem side of the same pair answers.
        _ = try Self.status(pair.a, config: "\(pair.dir)/a.conf")
    }

    @Test func badArgumentsAreRefused() {
        for argv in [["--jsn"], ["--json", "-C"]] {
            let r = Shell.run([Shell.tandem, "status"] + argv)
            #expect(r.status == 64, "\(argv)")
            #expect(r.stderr.hasPrefix("tandem status: "), "\(argv): \(r.stderr)")
        }
        let help = Shell.run([Shell.tandem, "status", "--help"])
        #expect(help.status == 0 && help.stdout.contains("--json"))
    }

    /// `tandem run` pair: A is MASTER after promoting itself, B BACKUP; flows made on A
    /// reach B's external cache and B's document says so.
    @Test(.enabled(if: Shell.which("nft"), "needs nft"))
    func runPairShowsVRRPAndReplication() throws {
        let pair = try RunPair(tag: "sjr", prefix: "tdj", subnet: "10.93.0")
        defer { pair.remove() }
        let aConfig = pair.a.directory + "/conntrackd.conf", bConfig = pair.b.directory + "/conntrackd.conf"
        let a = try Self.status(pair.link.a, config: aConfig)
        #expect(a["mode"] == .string("run"))
        let instance = try #require(a["vrrp"]?["instances"]?[0], "\(a)")
        #expect(instance["name"] == .string("V"))
        #expect(instance["state"] == .string("MASTER"))
        #expect(instance["basePriority"] == .integer(200) && instance["effectivePriority"] == .integer(200))
        let promotion = try #require(a["lastPromotion"]?.object, "\(a)")
        #expect(promotion["unit"] == .string("V"))
        #expect((promotion["announcedAfterMs"]?.double ?? -1) >= 0, "\(promotion)")

        for port in 0..<10 {
            pair.link.a.run(["conntrack", "-I", "-p", "tcp", "-s", "10.97.0.1", "-d", "10.97.1.1", "--sport", String(21000 + port),
                             "--dport", "2222", "--state", "ESTABLISHED", "-t", "600", "-u", "SEEN_REPLY,ASSURED"])
        }
        var b = JSONValue.null
        #expect(FailoverNodeTests.waitUntil(10) {
            b = (try? Self.status(pair.link.b, config: bConfig)) ?? b
            return (b["caches"]?["external"]?["flows"]?.int ?? 0) >= 10
        }, "\(b)")
        #expect(b["mode"] == .string("run"))
        #expect(b["vrrp"]?["instances"]?[0]?["state"] == .string("BACKUP"))
        #expect(b["lastPromotion"] == .null)
        #expect(b["sync"]?["peer"]?["silent"] == .bool(false))
    }
}
