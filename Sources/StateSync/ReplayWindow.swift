/// Which counters of one sender epoch have been accepted: the highest so far and a
/// bitmap of the 1024 below it. A counter above the highest slides the window; one
/// inside it is accepted once; one below it is too old to judge and refused, since a
/// captured datagram sent again must never pass.
public struct ReplayWindow: Sendable, Equatable {
    public static let width: UInt64 = 1024
    public private(set) var highest: UInt64 = 0
    /// Bit (n % width) is set when counter n, within `width` below `highest`, was seen.
    private var bits = [UInt64](repeating: 0, count: Int(width / 64))
    private var empty = true

    public enum Verdict: Equatable, Sendable {
        case fresh
        case duplicate
        case tooOld
    }

    public init() {}

    /// Judges `counter` without recording it: a datagram is recorded only once its tag is
    /// known good, so forgeries cannot fill the window.
    public func judge(_ counter: UInt64) -> Verdict {
        if empty || counter > highest { return .fresh }
        if highest - counter >= Self.width { return .tooOld }
        return isSet(counter) ? .duplicate : .fresh
    }

    /// Records an accepted counter (after `judge` said fresh and the tag was verified).
    public mutating func record(_ counter: UInt64) {
        if empty {
            empty = false
            highest = counter
            set(counter)
            return
        }
        if counter > highest {
            let shift = counter - highest
            if shift >= Self.width {
                for i in bits.indices { bits[i] = 0 }
            } else {
                // Clears the slots of the counters skipped over: they now stand for new numbers.
                var n = highest + 1
                while n < counter { clear(n); n += 1 }
            }
            highest = counter
        }
        set(counter)
    }

    private func isSet(_ n: UInt64) -> Bool {
        let slot = Int(n % Self.width)
        return bits[slot / 64] & (1 << UInt64(slot % 64)) != 0
    }

    private mutating func set(_ n: UInt64) {
        let slot = Int(n % Self.width)
        bits[slot / 64] |= 1 << UInt64(slot % 64)
    }

    private mutating func clear(_ n: UInt64) {
        let slot = Int(n % Self.width)
        bits[slot / 64] &= ~(1 << UInt64(slot % 64))
    }
}
