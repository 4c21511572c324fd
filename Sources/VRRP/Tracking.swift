/// What tracked interfaces and scripts make of an instance (spec §2.10): a fault when
/// an unweighted item is down, else a priority offset from the weighted ones.
public enum Tracking {
    public struct Item: Hashable, Sendable {
        public var name: String
        /// 0 = unweighted: the item going down is a fault.
        public var weight: Int
        public var reverse: Bool
        public init(name: String, weight: Int = 0, reverse: Bool = false) {
            self.name = name
            self.weight = weight
            self.reverse = reverse
        }
    }

    public struct Result: Hashable, Sendable {
        /// Names of the items putting the instance in FAULT.
        public var faults: [String]
        public var weight: Int
    }

    /// `up` says whether an item is up (nil = not known yet, e.g. a script that has not run:
    /// unweighted it holds the instance in FAULT, weighted it adds nothing).
    /// keepalived's sign rule: a positive weight is added while the item is up, a negative
    /// one while it is down; `reverse` swaps up and down.
    public static func evaluate(_ items: [Item], up: (String) -> Bool?) -> Result {
        var result = Result(faults: [], weight: 0)
        for item in items {
            let state = up(item.name)
            if item.weight == 0 {
                if state != true { result.faults.append(item.name) }
                continue
            }
            guard var isUp = state else { continue }
            if item.reverse { isUp.toggle() }
            if item.weight > 0 && isUp { result.weight += item.weight }
            if item.weight < 0 && !isUp { result.weight += item.weight }
        }
        return result
    }

    /// effective = clamp(base + weights − demotion, 1, 254); an address owner stays 255.
    public static func effectivePriority(base: Int, weight: Int, demotion: Int) -> UInt8 {
        if base >= 255 { return 255 }
        return UInt8(max(1, min(254, base + weight - demotion)))
    }
}
