#if canImport(Glibc)
import Glibc
#endif
import Conntrack

/// How the soak fails the master, brings a firewall back, and keeps watch between failovers.
extension SoakRun {
    func failMaster(_ how: FailoverMethod) throws {
        let fw = master
        let ns = names.namespace(fw)
        failovers += 1
        let pausedAt = churn.pause()
        switch how {
        case .stop:
            guard let pid = supervisor.pid(.tandemRun, on: fw), NamespaceProcesses.signal(pid, SIGTERM, ifIn: [ns]) else {
                fail("failover \(failovers) (stop)", "\(fw)'s tandem run is gone")
                throw SoakAbort(reason: "no master to stop")
            }
            down.insert(fw)
        case .kill:
            let all = NamespaceProcesses.pids(in: ns)
            for pid in all { NamespaceProcesses.signal(pid, SIGKILL, ifIn: [ns]) }
            down.insert(fw)
            _ = try waitUntil(2, step: 0.01, interruption: lab.interruption) { all.allSatisfy { !NamespaceProcesses.isAlive($0) } }
            try topology.setSwitchPorts(of: fw, up: false)
            portsUp[fw] = false
        case .link:
            try topology.setSwitchPorts(of: fw, up: false)
            portsUp[fw] = false
        }
        expected = Expected(cause: how.rawValue, from: fw, action: pausedAt, limit: 15 + 3 * supervisor.settings.advertInterval,
                            pausedAt: pausedAt)
        say("failover \(failovers): \(how.rawValue) \(fw)")
    }

    /// As after a reboot (the lab's failback does the same): whatever is left stopped, VIPs
    /// and conntrack table cleared, cables in, `tandem run` started.
    func restart(_ fw: Firewall, after cause: String) throws {
        let ns = names.namespace(fw)
        NamespaceProcesses.stop(NamespaceProcesses.pids(in: ns), in: [ns], grace: 5)
        topology.removeVirtualAddresses(from: fw)
        do { try counters[fw]!.flush() } catch {
            fail("restart \(fw)", "conntrack flush failed: \(error)")
        }
        if portsUp[fw] == false {
            try topology.setSwitchPorts(of: fw, up: true)
            portsUp[fw] = true
        }
        let started = now
        try supervisor.start(.tandemRun, on: fw)
        down.remove(fw)
        resyncDue[fw] = (started, "its restart after \(cause)")
        // The seed's fw1 is `state MASTER` with the higher priority (keepalived clears its
        // nopreempt): once its table has arrived it takes the VIPs back.
        if fw == .fw1 { failbackDue = (fw, "restart", started) }
        say("\(fw) restarted (pid \(supervisor.pid(.tandemRun, on: fw).map { String($0) } ?? "?"))")
    }

    func housekeeping() throws {
        readLogs()
        if let l = linkUpDue, now >= l.at {
            try topology.setSwitchPorts(of: l.fw, up: true)
            portsUp[l.fw] = true
            linkUpDue = nil
            if l.fw == .fw1 { failbackDue = (l.fw, "link up", now) } else { resyncDue[l.fw] = (now, "link up") }
            say("\(l.fw)'s cables plugged in again")
        }
        // A restarted node resyncs in a few seconds and then preempts within Master_Down_Interval;
        // past these limits the step failed (counted, and the soak goes on without waiting).
        if let f = failbackDue, now - f.since > Self.failbackLimit {
            failbackDue = nil
            fail("failback", "\(f.fw) did not take the VIPs back within \(Int(Self.failbackLimit)) s of its \(f.cause)"
                 + ((resyncDone[f.fw] ?? 0) >= f.since ? "" : " (it never reported its resync complete)"))
        }
        for (fw, r) in resyncDue {
            // The table a node asked for has arrived: `resync complete` in its log.
            if let done = events[fw]?.first(where: { $0.time >= r.since - 2 && $0.text.contains("resync complete") }) {
                resyncDue[fw] = nil
                resyncDone[fw] = done.time
                var o = JSONObject()
                o.add("kind", "resync")
                o.add("fw", fw.description)
                o.add("cause", r.cause)
                o.add("t", rel(r.since))
                o.add("ms", (done.time - r.since) * 1000, places: 1)
                o.add("log", done.text)
                out.append(o)
            } else if now - r.since > Self.resyncLimit {
                resyncDue[fw] = nil
                let external = read("\(fw) -s", { try supervisor.control(fw, "-s") }).flatMap { Lab.externalCount($0.text) }
                // Evidence: how often the peer was asked for (and sent) its whole table meanwhile.
                let asked = events[fw.peer]?.filter { $0.time >= r.since - 2 && $0.text.contains("resync requested by other node") }.count ?? 0
                fail("resync \(fw)", "no `resync complete` in its log within \(Int(Self.resyncLimit)) s of \(r.cause)"
                     + " (its external cache holds \(external.map { String($0) } ?? "?") flows, \(churn.liveCount) churn flows live;"
                     + " \(fw.peer) was asked for its whole table \(asked) times)")
            }
        }
        // (Right after a restart the process is still `ip netns exec`, outside the namespace.)
        for fw in Firewall.allCases where !down.contains(fw) && supervisor.hasExited(.tandemRun, on: fw) {
            fail("process", "\(fw)'s tandem run (pid \(supervisor.pid(.tandemRun, on: fw).map { String($0) } ?? "?")) died; see \(supervisor.logPath(.tandemRun, on: fw))")
            throw SoakAbort(reason: "process died")
        }
    }

    func readLogs() {
        for fw in Firewall.allCases {
            guard var tail = logs[fw] else { continue }
            let cutoff = now - 120
            var kept = (events[fw] ?? []).filter { $0.time >= cutoff }
            for line in tail.newLines() {
                guard let space = line.firstIndex(of: " "), let t = LogTimestamp.parse(line[..<space]) else { continue }
                kept.append((t, String(line[line.index(after: space)...])))
            }
            logs[fw] = tail
            events[fw] = kept
        }
    }
}
