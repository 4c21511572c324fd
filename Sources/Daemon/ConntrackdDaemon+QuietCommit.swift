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
}
