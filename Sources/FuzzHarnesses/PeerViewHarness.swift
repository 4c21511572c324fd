import Daemon

/// `tandem run --peer-view`'s datagrams as they arrive from the network: every input is
/// a view or a typed refusal; a view read back is written out byte for byte as it came
/// (the format has one spelling per view, so anything else would be a decoder that
/// accepted more than it can say).
enum PeerViewHarness {
    static let target = FuzzTarget(
        name: "peer-view",
        summary: "a peer-view datagram (docs/split-brain.md) through PeerView.decode, re-encoded when it decodes",
        run: run)

    static func run(_ bytes: [UInt8]) {
        do {
            let view = try PeerView.decode(bytes)
            invariant(view.encoded() == bytes, "a decoded view re-encodes differently: \(bytes)")
        } catch {
            _ = error.reason
        }
    }
}
