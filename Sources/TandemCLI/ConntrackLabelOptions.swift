#if canImport(Glibc)
import Glibc
#endif
import Conntrack

/// conntrack 1.4.7's label options: names from connlabel.conf, which commands take them,
/// and the secmark option it reads but does not act on.
extension ConntrackArguments {
    /// Loads connlabel.conf once; a missing file is conntrack's perror line, and then
    /// every name is unknown.
    mutating func loadLabelMap() {
        guard labelMap == nil && labelMapProblem == nil else { return }
        switch ConnectionLabelMap.load() {
        case .success(let m): labelMap = m
        case .failure(let e): labelMapProblem = "nfct_labelmap_new: \(String(cString: strerror(e.errno)))"
        }
    }

    /// `NAME[,NAME…]`: each name must be in connlabel.conf (no bit numbers, no spaces).
    mutating func labelBits(_ list: String) throws(ConntrackUsageError) -> Set<Int> {
        loadLabelMap()
        var bits: Set<Int> = []
        for name in list.split(separator: ",", omittingEmptySubsequences: false) {
            guard let bit = labelMap?.bit(named: String(name)) else {
                throw ConntrackUsageError("unknown label '\(name)'", preamble: labelMapProblem)
            }
            bits.insert(bit)
        }
        return bits
    }

    /// Which commands take -l, --label-add, --label-del and --secmark (measured on
    /// conntrack 1.4.7); elsewhere "Illegal option".
    func checkLabelAndSecmarkCommands(given: [String]) throws(ConntrackUsageError) {
        if labelsToAdd != nil && labelsToDelete != nil {
            throw ConntrackUsageError("cannot use --label-add and --label-del at the same time", status: 1)
        }
        let conntrackTable = table == .conntrack
        for option in given {
            let allowed: Bool
            let name: String
            switch option {
            case "-l", "--label":
                name = "--label"
                allowed = conntrackTable && [.list, .get, .delete, .update, .event].contains(command)
            case "--label-add":
                name = option
                allowed = conntrackTable && [.create, .add, .update].contains(command)
            case "--label-del":
                name = option
                allowed = conntrackTable && command == .update
            case "-c", "--secmark":
                name = "--secmark"
                allowed = conntrackTable && [.list, .event].contains(command)
            default: continue
            }
            if !allowed { throw ConntrackUsageError("Illegal option `\(name)' with this command") }
        }
    }

    /// Whether a flow carries every label `-l` asks for.
    func hasFilterLabels(_ flow: Flow) -> Bool {
        guard let wanted = labelFilter else { return true }
        let have = Set(ConnectionLabelMap.bits(of: flow.labels ?? []))
        return wanted.isSubset(of: have)
    }

    /// The label attributes of a -U request: only the bits named change, so the flow's
    /// other labels stay as they are (the kernel applies the mask). conntrack refuses
    /// --label-add with --label-del, so one of the two is empty.
    func labelUpdate(for flow: Flow) -> (labels: [UInt8], mask: [UInt8])? {
        guard labelsToAdd != nil || labelsToDelete != nil else { return nil }
        let add = labelsToAdd ?? []
        let delete = labelsToDelete.map { $0.isEmpty ? Set(0..<ConnectionLabelMap.bitCount) : $0 } ?? []
        let have = Set(ConnectionLabelMap.bits(of: flow.labels ?? []))
        let wanted = have.union(add).subtracting(delete)
        // Unlike a mark, a label update is sent (and counted) even when it changes nothing.
        let mask = add.union(delete)
        return (ConnectionLabelMap.bitmap(wanted.intersection(mask)), ConnectionLabelMap.bitmap(mask))
    }
}
