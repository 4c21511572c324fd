import StateSync
import Timekeeping

/// The log line about the FTFW sender's unacknowledged limit (`SendWindow`): said when
/// the peer's loss reports cut it, at most every `interval`, with how many cuts the
/// line sums up. An operator sees a receiver that cannot keep up without a line per NACK.
struct SendWindowLog {
    static let interval = Duration.seconds(10)
    private var reportedCuts = 0
    private var nextLine = Instant.zero

    mutating func line(_ w: SendWindow, now: Instant) -> String? {
        guard w.cuts != reportedCuts, now >= nextLine else { return nil }
        let cuts = w.cuts - reportedCuts
        reportedCuts = w.cuts
        nextLine = now + Self.interval
        return "the peer reported loss (\(cuts) time(s) since the last line): at most \(w.limit) message(s) go unacknowledged now "
            + "(ResendQueueSize \(w.ceiling)); the limit grows back as the peer acknowledges"
    }
}
