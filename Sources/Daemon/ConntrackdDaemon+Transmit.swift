import CLinux
import Logging
#if canImport(Glibc)
import Glibc
#endif
import ConfigParsing
import Conntrack
import Netlink
import StateSync
import IPAddressing
import LinkIO
import Timekeeping

/// What goes to the peer: the sync mode's messages packed into datagrams, and bulk sends.
extension ConntrackdDaemon {
    func flushTransmit(now: Instant, limit objectLimit: Int = .max) {
        // Each message is encoded into the batch as the engine makes it (a bulk send of
        // 100k flows never exists as 100k messages at once) and packed into datagrams
        // (spec §4.4); every 64 datagrams go out in one system call. What is left at the
        // end goes out now or, while messages are streaming, may wait a little for company.
        let limit = link.channels.maximumPayload
        // Held for the run: reached through `self` in the closures, the channel set was
        // retained and released for every message.
        let channels = link.channels
        let options = policy.options
        // Out of the daemon for the run: the emit closures touch it once per message.
        var out = TransmitCoalescer()
        swap(&out, &link.coalescer)
        if engine.isFTFW {
            engine.transmitFTFW(now: now, limit: objectLimit, places: &internalCache, render: { object, slot, cache in
                // `cache` is the internal cache, lent to the engine for this run.
                self.outgoing(object, at: slot, in: cache)
            }, emitObject: { type, flags, sequence, object in
                self.messageTally.count(.sent, SyncMessageKind.of(type, flags), link: channels.current)
                switch object {
                case .packed(let p):
                    withUnsafeTemporaryAllocation(byteCount: CompactFlow.Packed.messageCapacity, alignment: 8) { scratch in
                        let n = p.writeMessage(type: type, flags: flags, sequence: sequence, options: options, to: scratch.baseAddress!)
                        out.batch.makeRoom(for: n, limit: limit)
                        out.batch.append(UnsafeRawBufferPointer(start: scratch.baseAddress, count: n))
                    }
                case .message(let body):
                    let start = out.batch.bytes.count
                    SyncMessage(type: type, flags: flags, sequence: sequence, body: body).encode(into: &out.batch.bytes)
                    out.batch.settle(messageAt: start, limit: limit)
                }
                out.sendClosed(through: channels)
            }, emitControl: { c in
                self.messageTally.count(.sent, SyncMessageKind.of(.control, c.flags), link: channels.current)
                let start = out.batch.bytes.count
                c.encode(into: &out.batch.bytes)
                out.batch.settle(messageAt: start, limit: limit)
                out.sendClosed(through: channels)
            })
        } else {
            engine.transmitOther(now: now, render: { object in
                guard case .flow(let key) = object else { return self.render(other: object) }
                guard let e = self.internalCache.entries[key] else { return nil }
                return (Self.messageType(e.state), .flow(e.stored.synced(options: self.policy.options)))
            }, emit: { m in
                self.messageTally.count(.sent, SyncMessageKind.of(m.type, m.flags), link: self.link.channels.current)
                let start = out.batch.bytes.count
                m.encode(into: &out.batch.bytes)
                out.batch.settle(messageAt: start, limit: limit)
                out.sendClosed(through: link.channels)
            })
        }
        out.endRun(now: now, through: link.channels)
        link.sent(now: now)
        link.coalescer = out
        // Only dead entries are freed on release: with none, skip the per-key look-ups.
        if internalCache.deadCount > 0 || state.expectations.enabled {
            for object in engine.takeReleased(places: internalCache) { forget(object) }
        } else {
            engine.discardReleased()
        }
    }


    /// What the FTFW engine sends for an object: a packed flow is encoded straight
    /// from its cache record, anything else through its message.
    enum OutgoingObject {
        case packed(CompactFlow.Packed)
        indirect case message(SyncMessage.Body)
    }

    func outgoing(_ object: SyncObjectKey, at slot: InternalCache.Slot, in cache: InternalCache) -> (SyncMessageType, OutgoingObject)? {
        switch slot {
        case .flow(let p):
            let type = Self.messageType(cache.entries[valueAt: p].state)
            if case .packed(let packed) = cache.entries[valueAt: p].stored { return (type, .packed(packed)) }
            return (type, .message(.flow(cache.entries[valueAt: p].stored.synced(options: policy.options))))
        case .other(let key):
            return render(other: key).map { ($0.0, .message($0.1)) }
        }
    }

    static func messageType(_ state: InternalCache.State) -> SyncMessageType {
        switch state {
        case .new: .flowNew
        case .alive: .flowUpdate
        case .dead: .flowDestroy
        }
    }

    /// The whole internal cache to the peer (`-B`, a promotion, a resync request:
    /// `endingTable`, whose end is then marked for the peer; `heldRequest` as for
    /// `ModeEngine.answerResync`), a slice a turn (`BulkWalk`).
    func bulkSend(endingTable: Bool = false, heldRequest: UInt32? = nil) {
        guard !bypassesInternalCache else {
            bulkSendFromKernel()
            if endingTable { engine.markEndOfTable() }
            return
        }
        let count = internalCache.entries.count
        if var walk = state.bulkWalk {
            walk.restart(count: count, endsTable: endingTable)
            state.bulkWalk = walk
        } else {
            state.bulkWalk = BulkWalk(count: count, endsTable: endingTable)
        }
        if endingTable { engine.answeringTable(heldRequest: heldRequest) }
        feedBulkWalk()
    }

    /// Flows a bulk send queues per turn: about 3 ms of sending, after which the peer's
    /// ACKs are read before the next slice.
    static let bulkSlice = 4_096

    /// Queues the bulk send's next slice once the previous one has gone out; at its end,
    /// the expectations and, for a resync answer, the end of the table.
    func feedBulkWalk() {
        guard var walk = state.bulkWalk, engine.transmitBacklog == 0 else { return }
        let count = internalCache.entries.count
        // By position: iterating a copy of the table while places change would copy it.
        for p in walk.take(Self.bulkSlice, count: count) where internalCache.entries[valueAt: p].state != .dead {
            engine.enqueue(.flow(internalCache.entries.key(at: p)), at: .flow(p), places: &internalCache)
        }
        guard walk.isDone(count: count) else {
            state.bulkWalk = walk
            return
        }
        state.bulkWalk = nil
        bulkSendExpectations()
        if walk.endsTable {
            engine.answeredTable()
            engine.markEndOfTable()
        }
    }

    /// A removal moved the cache's last entry from `from` to `to`: queued now if the walk
    /// would otherwise pass it by.
    func bulkWalkFollows(moveFrom from: Int, to: Int) {
        guard let walk = state.bulkWalk, walk.missesMove(from: from, to: to),
              internalCache.entries[valueAt: to].state != .dead else { return }
        engine.enqueue(.flow(internalCache.entries.key(at: to)), at: .flow(to), places: &internalCache)
    }
}
