/// keepalived 2.2.7's track_file (keepalived/trackers/track_file.c): the block declares
/// a file and its default weight; instances and sync groups name it in a `track_file`
/// block, optionally with `weight W [reverse|noreverse]` of their own. A name is looked
/// up when the tracking block is read, so the file must be declared earlier, as in
/// keepalived.
extension KeepalivedConfigParser {
    mutating func trackFile(_ n: Node) {
        if n.keyword.text == "vrrp_track_file" {
            warn("\"vrrp_track_file\" is deprecated, please use \"track_file\"", n.keyword)
        }
        guard let name = n.arguments.first?.text else { error("track_file needs a name", n.keyword); return }
        var f = KeepalivedConfiguration.TrackFile(name: name)
        var weightSet = false
        for c in n.children ?? [] {
            guard admit(c, in: "track_file") else { continue }
            let a = c.arguments.map(\.text)
            switch c.keyword.text {
            case "file":
                guard let path = a.first else { error("track file file name missing", c.keyword); continue }
                if f.path != nil { error("File already set for track file \(name) - ignoring \(path)", c.arguments[0]); continue }
                f.path = path
            case "weight":
                guard let w = a.first else { error("No weight specified for track file \(name) - ignoring", c.keyword); continue }
                if weightSet { error("Weight already set for track file \(name) - ignoring \(w)", c.arguments[0]); continue }
                weightSet = true
                if let x = Int(w), (-254...254).contains(x) { f.weight = x } else {
                    error("Weight (\(w)) for track_file \(name) must be between [-254..254] inclusive. Ignoring...", c.arguments[0])
                }
                if a.count > 1 {
                    if a[1] == "reverse" { f.reverse = true } else { error("track_file \(name) unknown weight option \(a[1])", c.arguments[1]) }
                }
            case "init_file":
                f.initValue = 0
                for (word, token) in zip(a, c.arguments) {
                    if word.first?.isNumber == true || word.first == "-" {
                        guard let x = Int(word), let _ = Int32(exactly: x) else {
                            error("Track file \(name) init value \(word) is invalid", token)
                            f.initValue = 0
                            continue
                        }
                        if !(-254...254).contains(x) { error("Track file \(name) init value \(x) is outside sensible range [-254, 254]", token) }
                        f.initValue = x
                    } else if word == "overwrite" {
                        f.overwrite = true
                    } else {
                        error("Unknown track file init option \(word)", token)
                    }
                }
            default: error("Unknown keyword '\(c.keyword.text)'", c.keyword)
            }
        }
        guard f.path != nil else { error("No file set for track_file \(name) - ignoring", n.keyword); return }
        config.trackFiles.append(f)
    }

    /// The entries of an instance's or sync group's `track_file` or `track_process`
    /// block: `NAME [weight W [reverse|noreverse]]`, NAME declared earlier.
    mutating func trackedItems(_ nodes: [Node], owner: String, kind: String,
                               declared: (String) -> (weight: Int, reverse: Bool)?, into list: inout [KeepalivedConfiguration.Tracked]) {
        for c in nodes {
            let name = c.keyword.text
            guard let d = declared(name) else {
                error("(\(owner)) track \(kind) \(name) not found, ignoring...", c.keyword); continue
            }
            if list.contains(where: { $0.name == name }) { error("(\(owner)) duplicate track_\(kind) \(name) - ignoring", c.keyword); continue }
            var t = KeepalivedConfiguration.Tracked(name: name, weight: d.weight, reverse: d.reverse)
            let a = c.arguments
            if let option = a.first {
                guard option.text == "weight" else { error("(\(owner)) unknown track \(kind) option \(option.text) - ignoring", option); continue }
                guard a.count > 1 else { error("(\(owner)) weight without value specified for track \(kind) \(name) - ignoring", option); continue }
                if let w = Int(a[1].text), (-254...254).contains(w) { t.weight = w } else {
                    error("(\(owner)) weight for track \(kind) \(name) must be in [-254..254] inclusive. Ignoring...", a[1])
                }
                if a.count > 2 {
                    switch a[2].text {
                    case "reverse": t.reverse = true
                    case "noreverse": t.reverse = false
                    default: error("(\(owner)) unknown track \(kind) \(name) weight option \(a[2].text) - ignoring", a[2]); continue
                    }
                }
            }
            list.append(t)
        }
    }

    mutating func trackedFiles(_ nodes: [Node], owner: String, into list: inout [KeepalivedConfiguration.Tracked]) {
        let files = config.trackFiles
        trackedItems(nodes, owner: owner, kind: "file", declared: { n in files.last { $0.name == n }.map { ($0.weight, $0.reverse) } }, into: &list)
    }

    mutating func trackedProcesses(_ nodes: [Node], owner: String, into list: inout [KeepalivedConfiguration.Tracked]) {
        let processes = config.trackProcesses
        trackedItems(nodes, owner: owner, kind: "process", declared: { n in processes.last { $0.name == n }.map { ($0.weight, $0.reverse) } }, into: &list)
    }
}
