/// Byte-level mutations of corpus inputs (flip, set, insert, erase, splice), with a
/// SplitMix64 stream so a run is repeatable from its seed.
struct Mutator {
    private var state: UInt64
    let corpus: [[UInt8]]

    init(seed: UInt64, corpus: [[UInt8]]) {
        state = seed
        self.corpus = corpus
    }

    mutating func random() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(random() % UInt64(n)) }

    mutating func next() -> [UInt8] {
        var b: [UInt8]
        if corpus.isEmpty || below(16) == 0 {
            b = (0..<below(256)).map { _ in UInt8(truncatingIfNeeded: random()) }
        } else {
            b = corpus[below(corpus.count)]
        }
        for _ in 0..<(1 + below(4)) {
            switch below(6) {
            case 0 where !b.isEmpty: b[below(b.count)] ^= UInt8(1) << UInt8(below(8))
            case 1 where !b.isEmpty: b[below(b.count)] = [0, 0xff, 0x7f, 0x80, 1][below(5)]
            case 2: b.insert(UInt8(truncatingIfNeeded: random()), at: below(b.count + 1))
            case 3 where !b.isEmpty: b.remove(at: below(b.count))
            case 4 where !corpus.isEmpty:
                let other = corpus[below(corpus.count)]
                let cut = below(b.count + 1)
                b = Array(b.prefix(cut)) + other.suffix(other.count - below(other.count + 1))
            default: if !b.isEmpty { b[below(b.count)] = UInt8(truncatingIfNeeded: random()) }
            }
        }
        return b
    }
}
