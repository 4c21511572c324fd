/// The metrics catalogue: each figure of a snapshot and the series it becomes. Names and
/// meanings are documented in docs/metrics.md, and a test holds the two together.
/// Drops and errors are one counter family per place, with one series per reason, so a
/// new reason is a new label value rather than a new name (pfsync's way).
extension MetricsPublisher {
    func publish(_ s: MetricsSnapshot) {
        publishProcess(s.process)
        if let r = s.replication { publishReplication(r) }
        if let v = s.vrrp { publishVRRP(v) }
    }

    func publishProcess(_ p: ProcessFigures) {
        if let rss = p.footprint.rssBytes { gauge("process_resident_memory_bytes", rss) }
        if let fds = p.footprint.openFds { gauge("process_open_fds", fds) }
        gauge("process_start_time_seconds", p.startTimeSeconds)
        gauge("tandem_uptime_seconds", p.footprint.uptimeSeconds)
        counter("process_cpu_seconds_total", seconds: p.cpuSeconds)
    }

    func publishReplication(_ r: ReplicationFigures) {
        let d = r.document
        let sync = d.sync
        for (index, link) in r.links.enumerated() {
            let l = [("link", link.name)]
            gauge("tandem_sync_link_active", l, link.active)
            let k = link.counters
            counter("tandem_sync_packets_total", l + [("direction", "sent")], k.packetsSent)
            counter("tandem_sync_packets_total", l + [("direction", "received")], k.packetsReceived)
            counter("tandem_sync_bytes_total", l + [("direction", "sent")], k.bytesSent)
            counter("tandem_sync_bytes_total", l + [("direction", "received")], k.bytesReceived)
            counter("tandem_sync_send_errors_total", l + [("reason", "send_buffer_full")], k.droppedSendBufferFull)
            counter("tandem_sync_send_errors_total", l + [("reason", "other")], k.sendErrors - k.droppedSendBufferFull)
            counter("tandem_sync_send_deferred_total", l, k.deferredSendBufferFull)
            counter("tandem_sync_receive_errors_total", l, k.receiveErrors)
            // The refusals by the link they arrived on (their sums are the node's series).
            for (reason, n) in link.refusals.byReason {
                counter("tandem_sync_link_refused_total", l + [("reason", String(reason.map { $0 == "-" ? "_" : $0 }))], n)
            }
            if let a = link.authenticationRefused {
                for r in StatusDocument.Authentication(a).reasons { counter("tandem_sync_link_auth_refused_total", l + [("reason", r.label)], r.count) }
            }
            for direction in SyncMessageTally.Direction.allCases {
                for kind in SyncMessageKind.allCases {
                    counter("tandem_sync_messages_total", l + [("direction", direction.label), ("kind", kind.label)],
                            r.messages.value(direction, kind, link: index))
                }
            }
        }
        // Why received messages and datagrams were refused, one series per reason.
        let refused: [(String, Int)] = [
            ("truncated", sync.receive.truncated), ("bad_size", sync.receive.badSize), ("wrong_version", sync.receive.wrongVersion),
            ("malformed_header", sync.receive.malformedHeader), ("malformed_payload", sync.receive.malformedPayload),
            ("bad_type", sync.receive.badType), ("refused_by_mode", sync.receive.modeMalformed),
            ("not_from_peer", sync.messages.notFromPeer),
        ]
        for (reason, n) in refused { counter("tandem_sync_received_dropped_total", [("reason", reason)], n) }
        // The hardened link's refusals (docs/sync-hardening.md), one series per reason.
        for (reason, n) in sync.refusals.byReason {
            counter("tandem_sync_refused_total", [("reason", String(reason.map { $0 == "-" ? "_" : $0 }))], n)
        }
        if let a = sync.authentication { publishAuthentication(a) }
        counter("tandem_sync_messages_lost_total", sync.messages.lost)
        counter("tandem_sync_messages_before_total", sync.messages.before)
        counter("tandem_sync_retransmitted_total", sync.messages.retransmitted)
        counter("tandem_sync_read_while_busy_total", sync.link.readWhileBusy)
        counter("tandem_sync_read_budget_reached_total", sync.link.readBudgetReached)
        gauge("tandem_sync_queue_messages", [("queue", "transmit")], sync.queues.transmit)
        if let resend = sync.queues.resend { gauge("tandem_sync_queue_messages", [("queue", "resend")], resend) }
        if let limit = sync.queues.resendLimit { gauge("tandem_sync_resend_queue_limit", limit) }
        if let overflows = sync.queues.resendOverflows { counter("tandem_sync_resend_queue_overflows_total", overflows) }
        let g = sync.gapRepair
        counter("tandem_sync_gaps_total", g.gaps)
        counter("tandem_sync_gap_messages_total", g.messagesLost)
        counter("tandem_sync_sequence_jumps_total", g.jumps)
        counter("tandem_sync_renacks_total", [("outcome", "sent")], g.renacksSent)
        counter("tandem_sync_renacks_total", [("outcome", "skipped")], g.renacksSkipped)
        counter("tandem_sync_gap_resync_requests_total", g.resyncRequests)
        counter("tandem_sync_gap_messages_resynced_total", g.messagesCoveredByResync)
        counter("tandem_sync_stale_flows_removed_total", g.staleFlowsRemoved)
        gauge("tandem_sync_peer_silent", sync.peer.silent)
        if let ms = sync.peer.lastHeardMs { gauge("tandem_sync_peer_last_heard_seconds", Double(ms) / 1000) }
        for phase in [StatusDocument.Resync.Phase.notRequested, .waiting, .complete] {
            gauge("tandem_sync_resync_state", [("state", Self.snake(phase.rawValue))], sync.resync.phase == phase)
        }
        gauge("tandem_sync_gap_resync_pending", sync.resync.gapResyncPending)
        if let lag = sync.replicationLag {
            counter("tandem_replication_lag_samples_total", Int(clamping: lag.samples))
            counter("tandem_replication_lag_probes_unanswered_total", lag.probesUnanswered)
            if let last = lag.lastMs { gauge("tandem_replication_lag_recent_seconds", [("stat", "last")], last / 1000) }
            if let r = lag.recent {
                for (stat, ms) in [("median", r.medianMs), ("p99", r.p99Ms), ("max", r.maxMs)] {
                    gauge("tandem_replication_lag_recent_seconds", [("stat", stat)], ms / 1000)
                }
            }
        }
        // Every sample, so Prometheus can aggregate across nodes and take its own quantiles
        // over any range (the gauges above are the daemon's own two-minute view).
        if let samples = r.lagSamples { histogram("tandem_replication_lag_seconds", [], samples) }
        if let split = d.splitBrain {
            for kind in SplitBrainMonitor.Kind.allCases {
                let l = [("kind", Self.snake(kind.rawValue))]
                counter("tandem_split_brain_reports_total", l, split.reports[kind.rawValue] ?? 0)
                gauge("tandem_split_brain_active", l, split.active.filter { $0.kind == kind.rawValue }.count)
            }
            if let view = split.peerView {
                for (reason, n) in view.refused { counter("tandem_peer_view_refused_total", [("reason", Self.snake(reason))], n) }
                if let ms = view.lastHeardMs { gauge("tandem_peer_view_last_heard_seconds", Double(ms) / 1000) }
            }
        }
        publishKernel(d)
        publishCaches(d.caches)
        publishPromotions(r.promotions, d)
    }

    func publishKernel(_ d: StatusDocument) {
        let k = d.kernel
        counter("tandem_kernel_events_total", k.eventsReceived)
        for (reason, n) in [("filtered", k.eventsFiltered), ("unknown_type", k.eventsUnknown), ("handling_failed", k.catchEventFailed)] {
            counter("tandem_kernel_events_dropped_total", [("reason", reason)], n)
        }
        counter("tandem_kernel_dump_entries_dropped_total", [("reason", "unknown_type")], k.dumpUnknown)
        counter("tandem_kernel_overruns_total", k.overruns)
        counter("tandem_kernel_table_reads_total", [("cause", "poll")], k.polls)
        counter("tandem_kernel_table_reads_total", [("cause", "resync")], k.resyncs)
        counter("tandem_kernel_flushes_total", k.flushes)
        gauge("tandem_kernel_event_buffer_bytes", k.receiveBufferBytes)
        gauge("tandem_kernel_event_ring_bytes", k.eventRingBytes)
        counter("tandem_kernel_event_ring_spills_total", Int(clamping: k.eventRingSpills))
        counter("tandem_kernel_traffic_bytes_total", Int(clamping: k.trafficBytes))
        counter("tandem_kernel_traffic_packets_total", Int(clamping: k.trafficPackets))
        counter("tandem_control_requests_failed_total", [("reason", "read_failed")], d.control.localReadFailed)
        counter("tandem_control_requests_failed_total", [("reason", "unknown_request")], d.control.localUnknownRequest)
        for (kind, n) in d.errorsRecovered { counter("tandem_errors_recovered_total", [("kind", Self.snake(kind))], n) }
    }

    func publishCaches(_ c: StatusDocument.Caches) {
        for (name, cache) in [("internal", c.internal), ("external", c.external)] {
            let l = [("cache", name)]
            // An external cache that is not kept (DisableExternalCache) has no flows to count.
            if let flows = cache.flows { gauge("tandem_cache_flows", l, flows) }
            gauge("tandem_cache_objects", l, cache.objects)
            let k = cache.counters
            for (operation, ok, failed) in [("create", k.created, k.createFailed), ("update", k.updated, k.updateFailed),
                                            ("destroy", k.destroyed, k.destroyFailed)] {
                counter("tandem_cache_operations_total", l + [("operation", operation), ("result", "ok")], ok)
                counter("tandem_cache_operations_total", l + [("operation", operation), ("result", "failed")], failed)
            }
        }
        if let x = c.expectations {
            for (name, cache) in [("internal", x.internal), ("external", x.external)] {
                if let n = cache.flows { gauge("tandem_expectation_cache_entries", [("cache", name)], n) }
            }
        }
    }

    func publishPromotions(_ p: PromotionTally, _ d: StatusDocument) {
        counter("tandem_promotions_total", p.promotions)
        counter("tandem_promotions_failed_total", p.failedWhole)
        histogram("tandem_promotion_duration_seconds", p.commitDurations)
        histogram("tandem_promotion_announce_seconds", p.announceDelays)
        counter("tandem_commit_flows_total", [("result", "committed")], p.flowsCommitted)
        counter("tandem_commit_flows_total", [("result", "refused")], p.flowsRefused)
        for (errno, n) in p.refusedByErrno { counter("tandem_commit_failures_total", [("errno", CommitReport.errnoName(errno))], n) }
        gauge("tandem_pending_commit_flows", d.pendingCommit.waiting)
        counter("tandem_pending_commit_written_total", d.pendingCommit.committedLater)
        counter("tandem_pending_commit_expired_total", d.pendingCommit.expiredWaiting)
        let h = d.handover
        counter("tandem_handover_windows_total", h.windows)
        for (action, n) in [("created", h.created), ("already_present", h.alreadyPresent), ("destroyed", h.destroyed),
                            ("already_gone", h.alreadyGone), ("failed", h.failed)] {
            counter("tandem_handover_flows_total", [("action", action)], n)
        }
    }

    func publishVRRP(_ v: VRRPFigures) {
        gauge("tandem_vrrp_sync_demotion", v.document.syncDemotion)
        for (action, n) in v.document.hostActionFailures { counter("tandem_vrrp_host_action_failures_total", [("action", Self.snake(action))], n) }
        for i in v.document.instances {
            let l = [("instance", i.name)]
            let extra = v.instances[i.name]
            gauge("tandem_vrrp_state", l, extra?.stateCode ?? -1)
            gauge("tandem_vrrp_priority", l, i.effectivePriority)
            gauge("tandem_vrrp_base_priority", l, i.basePriority)
            gauge("tandem_vrrp_faults", l, i.faults.count)
            guard let extra else { continue }
            counter("tandem_vrrp_adverts_sent_total", l, extra.advertsSent)
            for state in ["MASTER", "BACKUP", "FAULT"] {
                counter("tandem_vrrp_transitions_total", l + [("state", state)], extra.transitions[state] ?? 0)
            }
            for (reason, n) in extra.rejected { counter("tandem_vrrp_adverts_rejected_total", l + [("reason", Self.snake(reason))], n) }
        }
    }

    /// camelCase and spaced names as label values in Prometheus's snake_case:
    /// "notRequested" → "not_requested", "address removal" → "address_removal".
    static func snake(_ s: String) -> String {
        var out = ""
        var previous: Character?
        for c in s {
            if c == " " || c == "-" {
                out.append("_")
            } else if c.isUppercase {
                // A capital after a small letter or digit starts a word; one after a capital
                // continues an acronym ("wrongTTL" → "wrong_ttl", "GARP" → "garp").
                if let p = previous, p.isLowercase || p.isNumber { out.append("_") }
                out.append(contentsOf: c.lowercased())
            } else {
                out.append(c)
            }
            previous = c
        }
        return out
    }
}
