/// What `up` chose, kept in the state directory so later commands act on the same lab.
struct LabSettings: Equatable {
    var stack: LabStack
    var sync: Bool
    var advertInterval: Double
    /// The Tandem binary the daemons run (the `tandem` that ran `up`).
    var tandem: String
    var startedAt: Double
    /// `--peer-view PORT` for both `tandem run`s; nil without it.
    var peerView: UInt16?

    var text: String {
        """
        stack=\(stack.rawValue)
        sync=\(sync ? "on" : "off")
        advert_int=\(formatSeconds(advertInterval))
        tandem=\(tandem)
        started=\(startedAt)
        peer_view=\(peerView.map(String.init) ?? "")

        """
    }

    init(stack: LabStack, sync: Bool, advertInterval: Double, tandem: String, startedAt: Double, peerView: UInt16? = nil) {
        self.peerView = peerView
        self.stack = stack
        self.sync = sync
        self.advertInterval = advertInterval
        self.tandem = tandem
        self.startedAt = startedAt
    }

    init(parsing text: String, path: String) throws(LabError) {
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            fields[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        guard let s = fields["stack"], let stack = LabStack(rawValue: s) else { throw .badState(path: path, reason: "no valid stack") }
        guard let sync = fields["sync"], sync == "on" || sync == "off" else { throw .badState(path: path, reason: "no sync=on|off") }
        guard let a = fields["advert_int"].flatMap(Double.init), a > 0 else { throw .badState(path: path, reason: "no advert_int") }
        guard let tandem = fields["tandem"], !tandem.isEmpty else { throw .badState(path: path, reason: "no tandem path") }
        var peerView: UInt16?
        if let v = fields["peer_view"], !v.isEmpty {
            guard let port = UInt16(v), port > 0 else { throw .badState(path: path, reason: "peer_view \(v) is no port") }
            peerView = port
        }
        self.init(stack: stack, sync: sync == "on", advertInterval: a, tandem: tandem,
                  startedAt: fields["started"].flatMap(Double.init) ?? 0, peerView: peerView)
    }

    static func load(_ names: LabNames) throws(LabError) -> LabSettings {
        guard let text = FileSystem.read(names.stateFile) else { throw .notUp(prefix: names.prefix) }
        return try LabSettings(parsing: text, path: names.stateFile)
    }
}
