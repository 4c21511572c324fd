import ConfigParsing

/// Both config grammars, as text from anywhere (the bytes need not be UTF-8). A thrown
/// ConfigError is the parser doing its job on junk: only a trap is a finding, and no
/// daemon state exists here to lose, so the errors are dropped on purpose.
enum ConfigHarness {
    static let conntrackdTarget = FuzzTarget(
        name: "conntrackd-conf",
        summary: "conntrackd.conf text through ConntrackdConfigParser (lexer, Sync, General, Filter sections)",
        run: { bytes in _ = try? ConntrackdConfigParser.parse(text(bytes)) })
    static let keepalivedTarget = FuzzTarget(
        name: "keepalived-conf",
        summary: "keepalived.conf text through KeepalivedConfigParser (line filter with @id, blocks, instances, virtual routes)",
        // No host links: a VMAC name would otherwise cost a netlink dump per input.
        run: { bytes in _ = try? KeepalivedConfigParser.parse(text(bytes), configID: "fw1", links: { [] }) })

    /// The text, with keepalived's `include` made a plain word: an include is a file
    /// system look-up (a glob), and the fuzzer must not read /dev or /proc through it.
    static func text(_ bytes: [UInt8]) -> String {
        let s = String(decoding: bytes, as: UTF8.self)
        guard s.contains("include") else { return s }
        return s.replacing("include", with: "inc1ude")
    }
}
