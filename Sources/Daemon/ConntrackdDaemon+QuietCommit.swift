import Timekeeping

/// `-c` and `-c all`, quietly. Written with our event groups joined, every committed flow
/// comes back to our own event socket as a NEW event: the kernel builds and queues one
/// message per flow inside the very sendmsg that inserts it (a third of the commit's
/// time at 100k flows), and the socket overruns on a large table. Those events would be
/// skipped anyway (our own writes are never echoed to the peer, spec §5.4). So the
/// groups are left during the write, the committed flows enter the internal cache as
/// they go out (what the echo would have told us), and a dump one second later sends
/// whatever changed in the kernel while the events could not say it.
extension ConntrackdDaemon {
    /// The resync after a quiet commit: late enough that a batch of changes made during the
    /// write has landed, soon enough that the peer hears of them within a second or two.
    static let quietCommitReconcileDelay: Duration = .seconds(1)

    /// Quiet when there is an event socket and an internal cache to adopt into; otherwise
    /// (PollSecs without events, InternalBypass, or the test-only loud mode) as before.
    var commitsQuietly: Bool { events != nil && !bypassesInternalCache && !commitTuning.loud }

    func commitFromControl(expectations: Bool) throws {
        let quiet = commitsQuietly
        _ = try commit(quiet: quiet, expectations: expectations, adopt: quiet)
        // The seed's notify script runs `-c` as the node becomes master: the same moment as
        // `tandem run`'s promotion, with the old master possibly still forwarding.
        beginHandover(now: Instant.now())
        guard quiet else { return }
        runtime.quietCommits += 1
        reconcileWithKernel(after: Self.quietCommitReconcileDelay, now: Instant.now())
    }

    /// `-R`: the internal cache reloaded from the kernel table. When a re-read is owed to
    /// the peer (a quiet commit's, an overrun's, or PollSecs' next poll), this dump is that
    /// re-read: it sends what changed, and the owed one is dropped. Reloading silently
    /// instead left the peer without what changed while the events were off (the owed
    /// re-read then found the cache already up to date), and dumped the table twice at
    /// every promotion by primary-backup.sh, which runs `-R` straight after `-c`: a dump
    /// costs the new master about 3 µs of CPU a flow, and conntrackd's promotion dumps once.
    func reloadFromKernel() throws {
        let owed = schedule.resyncAt != nil || schedule.pollPending || (events == nil && schedule.nextPoll != nil)
        guard owed, !commitTuning.separateReread else { return try populateFromKernel(send: false) }
        try populateFromKernel(send: true)
        schedule.resyncAt = nil
        schedule.pollPending = false
        schedule.rereadSucceeded()
        log("resync with kernel conntrack table done by -R: \(internalCache.activeCount) flows")
    }
}
