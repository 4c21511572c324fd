import IPAddressing
import StateSync
import Timekeeping

/// A sync mode's state machine fed an adversarial sequence: peer datagrams (through
/// the receiver), local flows queued and sent, time passing, resync requests. What the
/// engine sends must always be messages the receiver reads back unchanged.
enum SyncEngineHarness {
    static let target = FuzzTarget(
        name: "sync-engine",
        summary: "FTFW (or NOTRACK, ALARM: first byte) driven by a script of peer datagrams, enqueues, transmits, clock steps, resyncs, NACK requests",
        run: run)

    static func run(_ bytes: [UInt8]) {
        var input = FuzzInput(bytes)
        let mode = input.byte() % 4
        let first = input.bigEndian32()
        let start = Instant(nanoseconds: 1_000_000_000)
        switch mode {
        case 1:
            var e = NotrackEngine<UInt8>(firstSequence: first, now: start)
            drive(&e, &input, start: start, extra: { _, _ in })
        case 2:
            var e = AlarmEngine<UInt8>(firstSequence: first)
            drive(&e, &input, start: start, extra: { _, _ in })
        default:
            let configuration = FTFWEngine<UInt8>.Configuration(ackWindowSize: 1 + Int(input.byte() % 8), resendQueueSize: 1 + Int(input.byte()))
            var e = FTFWEngine<UInt8>(configuration: configuration, firstSequence: first, now: start)
            drive(&e, &input, start: start) { engine, input in
                switch input.byte() % 3 {
                case 0: engine.acknowledgeReceived()
                case 1: engine.markEndOfTable()
                default:
                    // GapRepair asks only for well-formed ranges (from before to).
                    let from = input.bigEndian32()
                    engine.requestRetransmission(ClosedRangeOfSequences(from: from, to: from &+ UInt32(input.byte())))
                }
                // Under back-pressure control messages may exceed the queue's size (they
                // carry the ACKs that free it); state never does.
                let objects = engine.resendQueueEntries.filter { $0.control == nil }.count
                invariant(objects <= configuration.resendQueueSize,
                          "\(objects) objects in the resend queue beyond its size \(configuration.resendQueueSize)")
            }
        }
    }

    static func flow(_ key: UInt8) -> SyncedFlow {
        var f = SyncedFlow()
        f.source = IPAddress("10.0.0.\(key)")
        f.destination = IPAddress("10.0.1.1")
        f.protocolNumber = IPProtocolNumber.tcp
        f.ports = SyncPorts(source: 1024 + UInt16(key), destination: 80)
        f.tcpState = 3
        f.status = 0x18e
        f.timeout = 120
        return f
    }

    static func drive<E: SyncEngine>(_ engine: inout E, _ input: inout FuzzInput, start: Instant,
                                     extra: (inout E, inout FuzzInput) -> Void) where E.Key == UInt8 {
        var receiver = SyncReceiver()
        var now = start
        var live: Set<UInt8> = []
        var steps = 0
        while !input.isEmpty && steps < 256 {
            steps += 1
            switch input.byte() % 8 {
            case 0:
                for r in receiver.receive(datagram: input.chunk()) {
                    if case .message(let m) = r { _ = engine.receive(m) }
                }
            case 1:
                let key = input.byte() % 32
                live.insert(key)
                engine.enqueue(key)
            case 2:
                let gone = input.byte() % 32
                live.remove(gone)
                engine.transmit(now: now, render: { key in
                    live.contains(key) ? (.flowUpdate, .flow(flow(key))) : nil
                }, emit: { m in
                    var check = SyncReceiver()
                    let back = check.receive(datagram: m.encoded)
                    invariant(back == [.message(m)], "engine sent a message the receiver does not read back: \(m)")
                })
            case 3:
                now += .milliseconds(Int64(input.bigEndian16()))
                engine.fire(now: now)
            case 4:
                engine.requestResync()
            case 5:
                _ = engine.takeReleased()
            case 6:
                now += .milliseconds(Int64(input.byte()))
            default:
                extra(&engine, &input)
            }
        }
    }
}
