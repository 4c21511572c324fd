import Daemon
import Timekeeping

/// The control socket's request framing: a client's bytes arriving in reads of any
/// size, with early close, read errors and the clock running out, then the code looked
/// up as the daemon does.
enum ControlRequestHarness {
    static let target = FuzzTarget(
        name: "control-request",
        summary: "control socket reads (per step: kind, length, bytes, clock) through ControlRequestAssembly, then ControlRequest(rawValue:)",
        run: run)

    static func run(_ bytes: [UInt8]) {
        var input = FuzzInput(bytes)
        var now = Instant(nanoseconds: 5_000_000_000)
        var request = ControlRequestAssembly(acceptedAt: now)
        var sent: [UInt8] = []
        while !input.isEmpty {
            let step = input.byte()
            now += .milliseconds(Int64(step >> 3) * 20)
            let missing = request.missing
            invariant(missing >= 1 && missing <= ControlRequestAssembly.size, "assembly wants \(missing) bytes")
            let outcome: ControlRequestAssembly.Step
            switch step & 0x07 {
            case 0: outcome = request.take(count: 0, of: [], error: 0, now: now)
            case 1: outcome = request.take(count: -1, of: [], error: Int32(input.byte()), now: now)
            default:
                // read(2) never returns more than asked; the chunk is what the buffer holds.
                let chunk = input.take(Int(input.byte() % 8))
                let n = min(chunk.count, missing)
                sent += chunk.prefix(n)
                outcome = request.take(count: n == 0 ? -1 : n, of: chunk, error: 11, now: now)
            }
            switch outcome {
            case .complete(let code):
                invariant(sent.count == 4, "complete after \(sent.count) bytes")
                let expected = sent.withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }
                invariant(code == expected, "code \(code) from bytes \(sent)")
                _ = ControlRequest(rawValue: code)
                return
            case .failed:
                return
            case .waiting:
                invariant(sent.count < 4, "waiting with a whole request")
            }
        }
    }
}
