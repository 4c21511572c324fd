#if canImport(Glibc)
import Glibc
#endif

/// global_defs' settings for the VRRP process itself, as keepalived 2.2.7 reads them
/// (global_parser.c): vrrp_cpu_affinity's CPU list and umask's mask (vrrp_no_swap is the
/// keyword alone; vrrp_priority is read with the other numbers).
extension KeepalivedConfigParser {
    /// `vrrp_cpu_affinity ID…`: each an online CPU's number; keepalived drops the whole
    /// set at the first one it cannot read.
    mutating func cpuAffinity(_ n: Node) {
        guard !n.arguments.isEmpty else {
            tolerate("No vrrp cpu_id set specified", n.keyword)
            return
        }
        let online = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        var cpus: [Int] = []
        for word in n.arguments {
            guard let id = Int(word.text), (0..<online).contains(id) else {
                tolerate("Invalid cpu_id:\(word.text) specified for vrrp process", word)
                config.cpuAffinity = []
                return
            }
            if !cpus.contains(id) { cpus.append(id) }
        }
        config.cpuAffinity = cpus
    }
}

extension KeepalivedConfigParser {
    /// `umask MASK`: a number (strtol's syntax: 0… octal, 0x… hex) within 0777, or
    /// permission names joined by `|` (IRUSR … IXOTH), over one word or several.
    mutating func fileMask(_ n: Node) {
        guard let first = n.arguments.first else {
            tolerate("Missing parameter(s) to umask option", n.keyword)
            return
        }
        if first.text.first?.isNumber == true {
            guard n.arguments.count == 1 else { tolerate("Extra parameter(s) to umask option", n.arguments[1]); return }
            guard let mask = Self.octalOrHex(first.text), mask & ~0o777 == 0 else {
                tolerate("invalid umask value \(first.text)", first)
                return
            }
            config.fileMask = UInt32(mask)
            return
        }
        let bits: [String: UInt32] = ["IRUSR": 0o400, "IWUSR": 0o200, "IXUSR": 0o100, "IRGRP": 0o040, "IWGRP": 0o020, "IXGRP": 0o010,
                                      "IROTH": 0o004, "IWOTH": 0o002, "IXOTH": 0o001]
        var mask: UInt32 = 0
        var needOr = false
        for word in n.arguments {
            var rest = Substring(word.text)
            while !rest.isEmpty {
                if needOr {
                    guard rest.first == "|" else { tolerate("Invalid umask syntax \(word.text)", word); return }
                    needOr = false
                    rest = rest.dropFirst()
                    continue
                }
                guard let bit = bits[String(rest.prefix(5))] else { tolerate("Unknown umask bit \(rest)", word); return }
                mask |= bit
                rest = rest.dropFirst(5)
                needOr = true
            }
        }
        guard needOr else { tolerate("umask missing bit value", n.keyword); return }
        config.fileMask = mask
    }

    /// strtol with base 0 over the whole word: 0x… hex, 0… octal, else decimal.
    public static func octalOrHex(_ s: String) -> Int? {
        if s.hasPrefix("0x") || s.hasPrefix("0X") { return Int(s.dropFirst(2), radix: 16) }
        if s.hasPrefix("0") && s.count > 1 { return Int(s.dropFirst(), radix: 8) }
        return Int(s)
    }
}
