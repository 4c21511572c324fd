import Foundation
import TestSupport
import Testing

/// python3-prometheus-client, the reference parser of the text format.
enum PrometheusParser {
    /// Debian's python3, where the Debian package installs (a python3 earlier on PATH,
    /// e.g. pyenv's, does not see it).
    static let python = FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : "python3"
    static let installed = Shell.run([python, "-c", "import prometheus_client.parser"]).status == 0
}

/// `tandem run --metrics-listen` on a live pair, scraped from each node's namespace and
/// read with python3-prometheus-client's own parser: the backup's external-cache flows
/// and received NEW messages rise as flows made on the master replicate, and its VRRP
/// state, transitions and promotion figures change when the master stops. Each scrape
/// before the event is the control: it shows the old values, so the test can fail.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("conntrack") && Shell.which("nft") && PrometheusParser.installed,
                             "needs root, conntrack, nft and python3-prometheus-client"))
struct MetricsScrapeTests {
    static let python = PrometheusParser.python

    static let flows = 300
    static let listen = "127.0.0.1:9633"

    /// Fetches /metrics inside `node`'s namespace and parses it with the reference parser;
    /// returns each sample as "name{label="value",...}" (labels sorted) → value.
    static func scrape(_ node: FailoverNodeTests.Node) throws -> [String: Double] {
        let script = """
        import json, sys, urllib.request
        from prometheus_client.parser import text_string_to_metric_families
        text = urllib.request.urlopen("http://\(listen)/metrics", timeout=5).read().decode()
        out = {}
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                labels = ",".join('%s="%s"' % (k, v) for k, v in sorted(s.labels.items()))
                out[s.name + ("{" + labels + "}" if labels else "")] = s.value
        print(json.dumps(out))
        """
        let r = node.namespace.run([python, "-c", script], timeout: 20)
        try #require(r.status == 0, "scrape failed: \(r.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Double]
        return try #require(object, "not a JSON object: \(r.stdout)")
    }

    static let externalFlows = #"tandem_cache_flows{cache="external"}"#
    static func messages(_ direction: String, _ kind: String, link: String) -> String {
        #"tandem_sync_messages_total{direction="\#(direction)",kind="\#(kind)",link="UDP:\#(link)"}"#
    }
    static let vrrpState = #"tandem_vrrp_state{instance="V"}"#
    static let becameMaster = #"tandem_vrrp_transitions_total{instance="V",state="MASTER"}"#

    @Test func scrapedValuesMoveAsFlowsReplicateAndAsTheVIPMoves() throws {
        let flag = ["--metrics-listen", Self.listen]
        let pair = try RunPair(tag: "tdz", prefix: "tdz", subnet: "10.233.1", arguments: (flag, flag))
        defer { pair.remove() }
        let (link, a, b) = (pair.link, pair.a, pair.b)
        let receivedNew = Self.messages("received", "new", link: link.interfaceB)
        let logs = { "B:\n\(Vectors.readText(b.log))\nA:\n\(Vectors.readText(a.log))" }

        // Before any flow: the control.
        let quietB = try Self.scrape(b)
        let quietA = try Self.scrape(a)
        #expect(quietB[Self.externalFlows] == 0, "\(quietB.filter { $0.key.hasPrefix("tandem_cache") })")
        #expect(quietB[receivedNew] == 0, "\(quietB.filter { $0.key.hasPrefix("tandem_sync_messages") })")
        #expect(quietA[Self.vrrpState] == 2 && quietB[Self.vrrpState] == 1, "A \(quietA[Self.vrrpState] ?? -1), B \(quietB[Self.vrrpState] ?? -1)")
        #expect(quietB[Self.becameMaster] == 0)
        #expect(quietB["tandem_promotions_total"] == 0)

        try #require(ConntrackdLossTests.insert(Self.flows, in: link.a).status == 0)
        var replicated: [String: Double] = [:]
        let arrived = FailoverNodeTests.waitUntil(20) {
            replicated = (try? Self.scrape(b)) ?? [:]
            return replicated[Self.externalFlows] == Double(Self.flows)
        }
        #expect(arrived, "B's external cache per its metrics: \(replicated[Self.externalFlows] ?? -1)\n\(logs())")
        #expect((replicated[receivedNew] ?? 0) >= Double(Self.flows), "\(replicated[receivedNew] ?? -1)")
        let sentByA = try Self.scrape(a)
        #expect((sentByA[Self.messages("sent", "new", link: link.interfaceA)] ?? 0) >= Double(Self.flows))
        #expect((sentByA[#"tandem_cache_flows{cache="internal"}"#] ?? 0) >= Double(Self.flows))
        // Still the backup: the control for what follows.
        #expect(replicated[Self.vrrpState] == 1 && replicated[Self.becameMaster] == 0)

        pair.nodeA?.stop()
        try #require(FailoverNodeTests.waitUntil(15) { b.holdsVIP }, "B never took over\n\(logs())")
        var promoted: [String: Double] = [:]
        let moved = FailoverNodeTests.waitUntil(5) {
            promoted = (try? Self.scrape(b)) ?? [:]
            return promoted[Self.vrrpState] == 2
        }
        #expect(moved, "B's vrrp_state: \(promoted[Self.vrrpState] ?? -1)")
        #expect(promoted[Self.becameMaster] == 1)
        #expect(promoted["tandem_promotions_total"] == 1)
        #expect(promoted["tandem_promotion_duration_seconds_count"] == 1)
        #expect(promoted[#"tandem_commit_flows_total{result="committed"}"#] == Double(Self.flows), "\(promoted.filter { $0.key.hasPrefix("tandem_commit") })")
        #expect(promoted["tandem_promotion_announce_seconds_count"] == 1)
        // The promotion emptied the external cache into the kernel.
        #expect(promoted[Self.externalFlows] == 0)
        #expect((promoted["process_open_fds"] ?? 0) > 0 && (promoted["process_resident_memory_bytes"] ?? 0) > 0)
    }

    /// A port already taken is a start-up error naming the flag, and the node does not run.
    @Test func aPortInUseStopsTheStart() throws {
        let link = try VethLink(tag: "tdzp", prefix: "tdz", addressA: "10.233.2.1/24", addressB: "10.233.2.2/24")
        defer { link.remove() }
        let base = NSTemporaryDirectory() + "tdz-port-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: base) }
        let node = FailoverNodeTests.Node(namespace: link.a, interface: link.interfaceA, address: "10.233.2.1", peer: "10.233.2.2", directory: base)
        try node.writeConfigs(priority: 100, state: "BACKUP")
        let holder = try link.a.start([Self.python, "-c", "import socket,time; s=socket.socket(); s.bind(('127.0.0.1', 9633)); s.listen(); time.sleep(30)"],
                                      stdout: base + "/holder.out", stderr: base + "/holder.err")
        defer { holder.stop() }
        usleep(500_000)
        let r = link.a.run([Shell.tandem, "run", "--keepalived-config", base + "/keepalived.conf", "--conntrackd-config", base + "/conntrackd.conf",
                            "--metrics-listen", Self.listen], timeout: 20)
        #expect(r.status == 1)
        #expect(r.stderr.contains("--metrics-listen") && r.stderr.contains("127.0.0.1:9633"), "\(r.stderr)")
        #expect(!node.holdsVIP)
        let bad = link.a.run([Shell.tandem, "run", "--keepalived-config", base + "/keepalived.conf", "--conntrackd-config", base + "/conntrackd.conf",
                              "--metrics-listen", "localhost:9633"], timeout: 20)
        #expect(bad.status == 64 && bad.stderr.contains("--metrics-listen"), "\(bad.stderr)")
        // The control: the same start on a free port runs (stopped by SIGTERM once it serves).
        holder.stop()
        usleep(300_000)
        let spawned = try node.start(demotion: 0, arguments: ["--metrics-listen", Self.listen])
        defer { spawned.stop() }
        #expect(FailoverNodeTests.waitUntil(10) { (try? Self.scrape(node))?[Self.vrrpState] != nil }, "\(Vectors.readText(node.log))")
    }
}
