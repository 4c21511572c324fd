#if canImport(Glibc)
import Glibc
#endif
import Conntrack

/// What `tandem lab soak` runs (bench/soak.sh states the definitions it measures).
public struct SoakOptions: Sendable {
    public var duration: Double = 1800
    /// Seconds between scheduled failovers (stop, kill, link in turn, of the master).
    public var every: Double = 30
    /// Churn flows created (and, `lifetime` seconds later, destroyed) per second.
    public var rate: Double = 2000
    public var lifetime: Double = 5
    /// A flow counts in a loss check only if it was created this long before the failure.
    public var minAge: Double = 1
    /// A TCP session silent for longer than this is broken.
    public var stallLimit: Double = 10
    /// How long a link failover keeps the master's cables unplugged.
    public var linkDown: Double = 10
    public var sessions = 4
    public var push = 0.05
    /// JSON lines go here; `meta` (JSON fields) starts every object.
    public var results = "/dev/null"
    public var meta = ""
    public init() {}
}

extension Lab {
    /// A `tandem run` pair under churn, failing over every `every` seconds, with SSH-like
    /// sessions throughout. Returns whether every step succeeded (lost flows and broken
    /// sessions are results, in the records, not failed steps).
    public func soak(_ options: SoakOptions) throws(LabError) -> Bool {
        try requireRoot()
        let settings = try LabSettings.load(names)
        guard settings.stack == .tandemRun, settings.sync else {
            throw .usage("tandem lab soak needs a lab up with --stack tandem-run and replication on")
        }
        let run = try SoakRun(lab: self, settings: settings, options: options)
        return run.execute()
    }
}

struct SoakAbort: Error { let reason: String }

/// One soak, from the idle sample to the last record. Single-threaded apart from the
/// churn generator's and the session engine's own threads.
final class SoakRun {
    struct Expected {
        let cause: String
        let from: Firewall
        let action: Double
        let limit: Double
        /// When the churn stopped reaching `from` (the failure itself, for a scheduled one).
        var pausedAt: Double?
    }

    let lab: Lab
    let names: LabNames
    let options: SoakOptions
    let supervisor: DaemonSupervisor
    let topology: Topology
    let out: JSONLinesFile
    var probes: [Firewall: AddressProbe] = [:]
    var counters: [Firewall: ConntrackConnection] = [:]
    var logs: [Firewall: LogTail] = [:]
    /// Recent daemon log lines per firewall, with their times.
    var events: [Firewall: [(time: Double, text: String)]] = [:]
    let churn: ChurnGenerator
    var engine: SessionEngine?
    var t0 = 0.0

    var master = Firewall.fw1
    var portsUp: [Firewall: Bool] = [.fw1: true, .fw2: true]
    /// Down on purpose (stopped or killed, not yet restarted).
    var down: Set<Firewall> = []
    var expected: Expected?
    var unplannedPauseAt: Double?
    var linkUpDue: (fw: Firewall, at: Double)?
    var failbackDue: (fw: Firewall, cause: String, since: Double)?
    var resyncDue: [Firewall: (since: Double, cause: String)] = [:]
    var resyncDone: [Firewall: Double] = [:]
    var failovers = 0
    var transitions = 0
    var failed: [String] = []
    /// Reads of the pair that failed (VIP probes, control-socket and kernel counts): each
    /// is retried at the next poll or shows as a null in its record, and all are counted
    /// in the end record.
    var readErrors = 0
    var lastReadError: String?

    // Samples: CPU accumulated per firewall over its successive processes.
    var interval = 0
    var cpuTotal: [Firewall: Double] = [.fw1: 0, .fw2: 0]
    var cpuAtSample: [Firewall: Double] = [.fw1: 0, .fw2: 0]
    var lastCPU: [pid_t: Double] = [:]
    var churnAtSample = ChurnGenerator.Counters()
    var lastSampleAt = 0.0

    init(lab: Lab, settings: LabSettings, options: SoakOptions) throws(LabError) {
        self.lab = lab
        names = lab.names
        self.options = options
        supervisor = try DaemonSupervisor(names: names, settings: settings, interruption: lab.interruption)
        topology = try Topology(names: names)
        out = try JSONLinesFile(path: options.results, prefix: options.meta)
        churn = try ChurnGenerator(names: names, rate: options.rate, lifetime: options.lifetime)
        for fw in Firewall.allCases {
            probes[fw] = try AddressProbe(namespace: names.namespace(fw))
            do { counters[fw] = try ConntrackConnection(namespace: names.namespace(fw)) } catch {
                throw .badState(path: names.namespace(fw), reason: "cannot open ctnetlink: \(error)")
            }
            logs[fw] = LogTail(path: supervisor.logPath(.tandemRun, on: fw), fromEnd: false)
        }
    }

    static let resyncLimit = 20.0
    static let failbackLimit = 25.0

    var now: Double { WallClock.now() }
    func rel(_ t: Double) -> Double { t - t0 }
    func say(_ s: String) { lab.console.err("soak \(JSONObject.number(rel(now), places: 1)) s: \(s)") }

    func fail(_ step: String, _ reason: String) {
        failed.append("\(step): \(reason)")
        var o = JSONObject()
        o.add("kind", "failure")
        o.add("step", step)
        o.add("reason", reason)
        o.add("t", rel(now))
        out.append(o)
        say("FAILED \(step): \(reason)")
    }

    func execute() -> Bool {
        t0 = now
        var aborted: String?
        do {
            try begin()
            try loop()
        } catch let e as SoakAbort {
            aborted = e.reason
        } catch {
            aborted = "\(error)"
            fail("soak", "\(error)")
        }
        churn.stop()
        if aborted == nil || engine != nil { sample("end") }
        let records = engine?.stop() ?? []
        reportSessions(records, end: now)
        var o = JSONObject()
        o.add("kind", "end")
        o.add("t", rel(now))
        o.add("failovers", failovers)
        o.add("transitions", transitions)
        let c = churn.totals
        o.add("flows_created", c.created)
        o.add("flows_deleted", c.deleted)
        o.add("create_failed", c.createFailed)
        o.add("delete_missing", c.deleteMissing)
        o.add("delete_failed", c.deleteFailed)
        o.add("died_young_found_later", c.excusedFoundLater)
        o.add("died_young_gone", c.excusedGone)
        o.add("churn_socket_errors", c.socketErrors)
        o.add("churn_last_error", c.lastError)
        func errors(_ e: [Int32: Int]) -> [String] { e.sorted { $0.key < $1.key }.map { "\($0.value) × errno \($0.key) (\(errnoText($0.key)))" } }
        o.add("create_errors", strings: errors(c.createErrors))
        o.add("delete_errors", strings: errors(c.deleteErrors))
        o.add("read_errors", readErrors)
        o.add("last_read_error", lastReadError)
        o.add("aborted", aborted)
        o.add("failed_steps", failed.count)
        out.append(o)
        return failed.isEmpty
    }

    // MARK: the run

    func begin() throws {
        var o = JSONObject()
        o.add("kind", "start")
        o.add("epoch", t0)
        o.add("duration_s", options.duration)
        o.add("failover_every_s", options.every)
        o.add("churn_rate", options.rate)
        o.add("flow_lifetime_s", options.lifetime)
        o.add("min_age_s", options.minAge)
        o.add("stall_limit_s", options.stallLimit)
        o.add("link_down_s", options.linkDown)
        o.add("sessions", options.sessions)
        // To match kernel messages ("nf_conntrack: table full in netns N") to a firewall.
        for fw in Firewall.allCases {
            o.add("netns_inode_\(fw)", NamespaceProcesses.inode(ofNamespace: names.namespace(fw)).map { String($0) })
        }
        out.append(o)
        for fw in Firewall.allCases where !supervisor.isRunning(.tandemRun, on: fw) {
            throw SoakAbort(reason: "\(fw)'s tandem run is not running")
        }
        guard holder() == .fw1 else { throw SoakAbort(reason: "fw1 must hold both VIPs and fw2 none (run `lab up` first)") }
        sample("idle")
        let engine = try SessionEngine(names: names, options: .init(tcpSessions: options.sessions, push: options.push))
        self.engine = engine
        try engine.start()
        guard try waitUntil(10, interruption: lab.interruption, { engine.readySessions == engine.sessionCount }) else {
            fail("sessions", "only \(engine.readySessions) of \(engine.sessionCount) sessions carried data after 10 s")
            throw SoakAbort(reason: "sessions did not start")
        }
        try churn.start(on: .fw1)
        say("sessions up, churn \(Int(options.rate)) flows/s on fw1; failover every \(formatSeconds(options.every)) s for \(formatSeconds(options.duration)) s")
    }

    func loop() throws {
        let methods: [FailoverMethod] = [.stop, .kill, .link]
        var nextFailover = t0 + options.every
        var notReadySince: Double?
        var lastHousekeeping = 0.0
        while now < t0 + options.duration {
            if lab.interruption.requested { throw LabError.interrupted }
            try watchVIPs()
            if now - lastHousekeeping >= 0.25 {
                lastHousekeeping = now
                try housekeeping()
            }
            // The last failover must leave a whole cycle to observe.
            if now >= nextFailover && nextFailover + options.every <= t0 + options.duration + 0.001 {
                let blockers = notReady()
                if blockers.isEmpty {
                    notReadySince = nil
                    sample("before failover \(failovers + 1)")
                    try failMaster(methods[failovers % methods.count])
                    nextFailover += options.every
                } else if now - (notReadySince ?? now) > options.every {
                    fail("failover \(failovers + 1)", "the pair was not ready for \(formatSeconds(options.every)) s: \(blockers.joined(separator: "; "))")
                    throw SoakAbort(reason: "pair not ready")
                } else if notReadySince == nil {
                    notReadySince = now
                }
            }
            WallClock.sleep(0.02)
        }
    }

    /// Why a failover cannot start now (empty: it can).
    func notReady() -> [String] {
        var why: [String] = []
        if let e = expected { why.append("waiting for the takeover after \(e.cause)") }
        if let l = linkUpDue { why.append("\(l.fw)'s cables still unplugged") }
        if let f = failbackDue { why.append("\(f.fw) has not taken over again after \(f.cause)") }
        for (fw, r) in resyncDue { why.append("\(fw) still waiting for its resync after \(r.cause)") }
        if churn.current != master { why.append("no single firewall holds the VIPs") }
        for fw in Firewall.allCases where !supervisor.isRunning(.tandemRun, on: fw) { why.append("\(fw)'s tandem run not running") }
        return why
    }

    /// `body`'s value, or nil counted in `readErrors`.
    func read<T>(_ what: String, _ body: () throws -> T) -> T? {
        do { return try body() } catch {
            readErrors += 1
            lastReadError = "\(what): \(error)"
            return nil
        }
    }

    /// The firewall the traffic reaches: it holds both VIPs with its cables in, and its
    /// peer holds none or is unplugged.
    func holder() -> Firewall? {
        var holds: [Firewall: VIPHolding] = [:]
        for fw in Firewall.allCases {
            guard let h = read("VIP probe of \(fw)", { try probes[fw]?.virtualAddresses() }) ?? nil else { return nil }
            holds[fw] = h
        }
        let candidates = Firewall.allCases.filter { holds[$0]!.both && portsUp[$0]! }
        guard candidates.count == 1, let c = candidates.first else { return nil }
        return holds[c.peer]!.none || !portsUp[c.peer]! ? c : nil
    }

    func watchVIPs() throws {
        let h = holder()
        let t = now
        if let h, h != master {
            try takeOver(to: h, detected: t)
        } else if h == nil, expected == nil, churn.current != nil {
            // Both claim the VIPs (a link back up) or neither: no traffic gets through.
            unplannedPauseAt = churn.pause()
        } else if h == master, expected == nil, churn.current == nil {
            unplannedPauseAt = nil
            churn.resume(on: master)
        }
        if let e = expected, t - e.action > e.limit {
            fail("failover \(failovers) (\(e.cause))", "\(e.from.peer) did not take over within \(formatSeconds(e.limit)) s")
            throw SoakAbort(reason: "no takeover")
        }
        if h == nil, expected == nil, let p = unplannedPauseAt, t - p > 20 {
            fail("vip", "no single firewall held the VIPs for 20 s")
            throw SoakAbort(reason: "VIPs split")
        }
    }

    /// The VIPs moved to `to`: check its kernel holds every live flow, then let the churn
    /// follow and do what the failure's kind needs next.
    func takeOver(to: Firewall, detected: Double) throws {
        let from = master
        let pausedAt = expected?.pausedAt ?? unplannedPauseAt ?? churn.pause()
        churn.pause()
        transitions += 1
        var cause = expected?.cause ?? "unplanned"
        var action = expected?.action ?? pausedAt
        if expected == nil, let f = failbackDue, f.fw == to {
            cause = "failback after \(f.cause)"
            action = f.since
        }
        let check = try churn.check(to, pausedAt: pausedAt, minAge: options.minAge, names: names)
        master = to
        churn.resume(on: to)
        expected = nil
        unplannedPauseAt = nil
        if failbackDue?.fw == to { failbackDue = nil }
        var o = JSONObject()
        o.add("kind", "transition")
        o.add("n", transitions)
        o.add("failover", failovers)
        o.add("cause", cause)
        o.add("from", from.description)
        o.add("to", to.description)
        o.add("t", rel(action))
        o.add("takeover_ms", (detected - action) * 1000, places: 1)
        o.add("churn_paused_ms", (now - pausedAt) * 1000, places: 1)
        o.add("live", check.live)
        o.add("at_risk", check.atRisk)
        o.add("lost", check.lost)
        o.add("lost_examples", strings: check.examples)
        o.add("stale", check.stale)
        o.add("died_young", check.diedYoung)
        var ages = JSONObject()
        for (bucket, n) in check.staleByAge.sorted(by: { $0.key < $1.key }) { ages.add(bucket, n) }
        o.raw("stale_by_deletion_age", ages.text)
        o.add("kernel_flows", check.kernelFlows)
        o.add("kernel_churn_flows", check.kernelChurnFlows)
        o.add("check_ms", check.milliseconds, places: 1)
        readLogs()
        o.add("commit_log", events[to]?.last { $0.time >= action - 1 && $0.text.contains("master actions:") }?.text)
        out.append(o)
        say("\(cause): \(from) → \(to) after \(Int((detected - action) * 1000)) ms; \(check.atRisk) flows at risk, \(check.lost) lost, \(check.stale) stale")

        // The node that lost the VIPs: back into the pair.
        if cause == "stop" || cause == "kill" {
            try restart(from, after: cause)
        } else if cause == "link" {
            linkUpDue = (from, max(now, action + options.linkDown))
        } else {
            // From when the VIPs were seen moving, not from the end of the check: a loaded
            // machine's check can take seconds, and the old master's resync may be done by then.
            resyncDue[from] = (detected, "losing the VIPs (\(cause))")
        }
    }
}
