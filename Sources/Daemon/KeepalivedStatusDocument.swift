/// `tandem status --json` of a `tandem keepalived` node: the same document as the other
/// modes (tandem-status/2), with the replication sections null because this process
/// replicates nothing. Null rather than left out, so a reader of the `run` document finds
/// every key it knows and tells "no replication here" from "a key my version lacks".
struct KeepalivedStatusDocument: Encodable, Sendable {
    var process: ProcessFootprint
    var control: StatusDocument.Control
    var vrrp: StatusDocument.VRRP

    enum CodingKeys: String, CodingKey {
        case schema, mode, process, control, vrrp
        /// Sections only a replicating node has.
        case sync, kernel, caches, lastPromotion, pendingCommit, handover, errorsRecovered, splitBrain
    }

    static let absentSections: [CodingKeys] = [.sync, .kernel, .caches, .lastPromotion, .pendingCommit, .handover,
                                               .errorsRecovered, .splitBrain]

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(StatusDocument.schemaVersion, forKey: .schema)
        try c.encode(StatusDocument.Mode.keepalived, forKey: .mode)
        try c.encode(process, forKey: .process)
        try c.encode(control, forKey: .control)
        try c.encode(vrrp, forKey: .vrrp)
        for key in Self.absentSections { try c.encodeNil(forKey: key) }
    }

    func json() throws -> String { try StatusDocument.render(self) }
}
