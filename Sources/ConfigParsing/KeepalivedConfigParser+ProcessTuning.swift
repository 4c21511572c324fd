#if canImport(Glibc)
import Glibc
#endif

/// global_defs' settings for the VRRP process itself, as keepalived 2.2.7 reads them
/// (global_parser.c): vrrp_cpu_affinity's CPU list. vrrp_no_swap and vrrp_priority need
/// no reading beyond their keyword.
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
