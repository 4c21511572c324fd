#if canImport(Glibc)
import Glibc
#endif
import Conntrack

/// The soak's samples (RSS, fds, CPU per churned flow) and the sessions' records.
extension SoakRun {
    /// RSS, fds and CPU of each firewall's `tandem run`, the kernel tables and the churn
    /// since the last sample; CPU adds up over a firewall's successive processes.
    func sample(_ reason: String) {
        let t = now
        let c = churn.totals
        var o = JSONObject()
        o.add("kind", "sample")
        o.add("interval", interval)
        o.add("reason", reason)
        o.add("t", rel(t))
        o.add("interval_s", interval == 0 ? 0 : t - lastSampleAt)
        o.add("flows_created", c.created - churnAtSample.created)
        o.add("flows_deleted", c.deleted - churnAtSample.deleted)
        o.add("create_failed", c.createFailed - churnAtSample.createFailed)
        o.add("live", churn.liveCount)
        o.add("master", master.description)
        var ok = true
        var procs: [JSONObject] = []
        for fw in Firewall.allCases {
            var p = JSONObject()
            p.add("fw", fw.description)
            let pid = supervisor.pid(.tandemRun, on: fw)
            if let pid, supervisor.isRunning(.tandemRun, on: fw), let s = ProcessSample(pid) {
                cpuTotal[fw]! += s.cpuSeconds - (lastCPU[pid] ?? 0)
                lastCPU[pid] = s.cpuSeconds
                p.add("pid", Int(pid))
                p.add("rss_kb", s.rssKB)
                p.add("fds", s.fds)
                p.add("cpu_s", s.cpuSeconds)
            } else {
                ok = false
                p.add("pid", pid.map { Int($0) })
                p.add("error", "no running process to sample")
            }
            p.add("cpu_s_interval", cpuTotal[fw]! - cpuAtSample[fw]!)
            p.add("kernel_flows", read("\(fw) kernel count", { try counters[fw]!.count() }).map { Int($0) })
            procs.append(p)
            cpuAtSample[fw] = cpuTotal[fw]!
        }
        o.add("procs", objects: procs)
        o.add("ok", ok)
        out.append(o)
        if !ok { fail("sample \(interval) (\(reason))", "a tandem run process could not be sampled") }
        churnAtSample = c
        lastSampleAt = t
        interval += 1
    }

    // MARK: sessions

    /// Per session: how it ended, its longest silence and every silence over 1 s (times
    /// from the soak's start), so each can be put beside the failover it belongs to.
    func reportSessions(_ records: [SessionRecord], end: Double) {
        for r in records {
            var gaps: [JSONObject] = []
            var longest = 0.0
            var previous = r.arrivals.first
            for t in r.arrivals.dropFirst() + [r.failedAt ?? end] {
                guard let p = previous else { break }
                let gap = t - p
                longest = max(longest, gap)
                if gap > 1, gaps.count < 200 {
                    var g = JSONObject()
                    g.add("from", rel(p))
                    g.add("ms", gap * 1000, places: 0)
                    gaps.append(g)
                }
                previous = t
            }
            var broken: String?
            if r.kind == .tcp {
                if let f = r.failure {
                    broken = "\(f.rawValue) at \(JSONObject.number(rel(r.failedAt ?? end), places: 1)) s"
                } else if r.arrivals.isEmpty {
                    broken = "never carried data"
                } else if longest > options.stallLimit {
                    broken = "stalled \(Int(longest * 1000)) ms"
                } else if r.serverResetAt != nil {
                    broken = "server saw a reset"
                }
            }
            var o = JSONObject()
            o.add("kind", "session")
            o.add("name", r.name)
            o.add("proto", r.kind.rawValue)
            o.add("messages", r.arrivals.count)
            o.add("max_stall_ms", longest * 1000, places: 0)
            o.add("broken", r.kind == .tcp ? broken != nil : false)
            o.add("reason", broken)
            o.add("stalls", objects: gaps)
            out.append(o)
        }
    }
}
