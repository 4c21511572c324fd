/// One vrrp_script's OK/KO status with keepalived's rise/fall hysteresis (spec §2.10): a
/// saturating counter in 0…rise+fall−1, OK at or above `rise`. It starts one success
/// short of OK (or at the bottom with `init_fail`), and the first result is always
/// reported so an instance waiting on it can leave INIT.
public struct ScriptHealth: Hashable, Sendable {
    public let rise: Int
    public let fall: Int
    public private(set) var counter: Int
    /// nil until the first result.
    public private(set) var isOK: Bool?

    public init(rise: Int = 1, fall: Int = 1, initFail: Bool = false) {
        self.rise = max(1, rise)
        self.fall = max(1, fall)
        counter = initFail ? 0 : max(1, rise) - 1
    }

    /// Records one run; returns the new status when it changed (or was first known).
    public mutating func record(success: Bool) -> Bool? {
        counter = success ? min(counter + 1, rise + fall - 1) : max(counter - 1, 0)
        let ok = counter >= rise
        guard ok != isOK else { return nil }
        isOK = ok
        return ok
    }
}
