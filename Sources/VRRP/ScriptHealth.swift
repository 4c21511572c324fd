/// One vrrp_script's OK/KO status with keepalived's rise/fall hysteresis (spec §2.10):
/// from KO it takes `rise` successes in a row to become OK, from OK `fall` failures in a
/// row to become KO. It starts one success short of OK (at the bottom with `init_fail`),
/// and the first result is always reported so an instance waiting on it can leave INIT.
public struct ScriptHealth: Hashable, Sendable {
    public let rise: Int
    public let fall: Int
    /// 0…rise−1 counts successes towards OK; rise…rise+fall−1 counts down failures to KO.
    public private(set) var counter: Int
    /// nil until the first result.
    public private(set) var isOK: Bool?

    public init(rise: Int = 1, fall: Int = 1, initFail: Bool = false) {
        self.rise = max(1, rise)
        self.fall = max(1, fall)
        counter = initFail ? 0 : max(1, rise) - 1
        isOK = initFail ? false : nil
    }

    /// Records one run; returns the new status when it changed (or was first known).
    public mutating func record(success: Bool) -> Bool? {
        let top = rise + fall - 1
        var now = isOK
        if success {
            if counter < rise - 1 {
                counter += 1
            } else {
                counter = top
                now = true
            }
        } else {
            if counter > rise {
                counter -= 1
            } else {
                counter = 0
                // Below `rise` the status was already KO (or not yet known): report once.
                if isOK != false { now = false }
            }
        }
        if isOK == nil && now == nil { now = success ? nil : false }
        guard let now, now != isOK else { return nil }
        isOK = now
        return now
    }
}
