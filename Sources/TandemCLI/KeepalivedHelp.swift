/// `tandem keepalived -h` and `-v`: on stderr with exit 0 as keepalived 2.2.7's are, in
/// its layout (flag column, then what it does), written from the flag table so that a
/// refused flag says so.
enum KeepalivedHelp {
    static func usage(programName: String) -> [String] {
        var lines = ["Usage: \(programName) [OPTION...]"]
        for f in KeepalivedFlags.all where f.listed {
            var head = f.short.map { "  -\($0), " } ?? "      "
            if let long = f.long {
                head += "--" + long
                switch f.argument {
                case .none: break
                case .required: head += f.short == "i" ? " " + f.value : "=" + f.value
                case .optional: head += "[=\(f.value)]"
                }
            }
            var text = f.help
            switch f.status {
            case .refused: text += " (not supported by tandem)"
            case .accepted: text += " (no effect in tandem: \(f.note))"
            case .actedOn, .answers: break
            }
            let pad = max(1, 31 - head.count)
            lines.append(head + String(repeating: " ", count: pad) + text)
            if f.short == "f" { lines.append(String(repeating: " ", count: 32) + "default '/etc/keepalived/keepalived.conf'") }
        }
        return lines
    }

    static func version() -> [String] {
        [
            "Keepalived v2.2.7 (tandem)",
            "",
            "tandem: keepalived 2.2.7's VRRP daemon and configuration language, in Swift.",
            "What is acted on and what is refused: docs/compatibility.md.",
            "",
        ]
    }
}
