import Foundation

/// One VRRP router in a test namespace: Tandem (`tandem keepalived`) or the real
/// keepalived 2.2.7, run from a configuration the test writes, with its own TMPDIR so
/// its signal dumps cannot collide with anyone else's.
public final class VRRPRouter: @unchecked Sendable {
    public enum Kind: String, Sendable, CaseIterable, CustomStringConvertible {
        case tandem, keepalived
        public var description: String { rawValue }
    }

    public let kind: Kind
    public let namespace: TestNamespace
    public let directory: String
    public let process: Spawned
    public var configPath: String { directory + "/keepalived.conf" }

    /// `extra`: more flags, after the usual ones.
    public init(_ kind: Kind, in namespace: TestNamespace, config: String, extra: [String] = []) throws {
        self.kind = kind
        self.namespace = namespace
        directory = NSTemporaryDirectory() + "tdt-vrrp-\(namespace.name)-\(kind)"
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try config.write(toFile: directory + "/keepalived.conf", atomically: true, encoding: .utf8)
        let d = directory
        let program: [String] = switch kind {
        case .tandem: [Shell.tandem, "keepalived", "-n", "-l", "-D", "-f", d + "/keepalived.conf", "-p", d + "/k.pid", "-r", d + "/kv.pid"]
        // -R: a killed VRRP child must stay dead, not be respawned by its parent.
        case .keepalived: ["/usr/sbin/keepalived", "-n", "-l", "-D", "-P", "-R", "-f", d + "/keepalived.conf", "-p", d + "/k.pid",
                           "-r", d + "/kv.pid", "-c", d + "/kc.pid", "-b", d + "/kb.pid"]
        }
        process = try namespace.start(["env", "TMPDIR=\(d)"] + program + extra, stdout: d + "/out.log", stderr: d + "/err.log")
    }

    public var log: String { Vectors.readText(directory + "/out.log") + Vectors.readText(directory + "/err.log") }

    /// The process that sends the adverts: keepalived forks a VRRP child, Tandem does not.
    public var vrrpPID: pid_t? {
        guard kind == .keepalived else { return process.pid }
        let text = Vectors.readText(directory + "/kv.pid").trimmingCharacters(in: .whitespacesAndNewlines)
        return pid_t(text)
    }

    /// SIGTERM: a master resigns with priority 0.
    public func stop() { process.stop() }

    /// SIGKILL of the advertising process (what a crash or power loss looks like to the peer).
    public func kill() {
        if let pid = vrrpPID, pid > 0 { Foundation.kill(pid, SIGKILL) }
        if kind == .tandem { process.wait(timeout: 3) }
    }

    public func signal(_ s: Int32) { process.signal(s) }

    /// A fresh dump written on `signal` (SIGUSR1 data, SIGUSR2 stats, 36 JSON).
    public func dump(_ s: Int32, file: String) -> String {
        let path = directory + "/" + file
        try? FileManager.default.removeItem(atPath: path)
        process.signal(s)
        _ = eventually(within: 5) { FileManager.default.fileExists(atPath: path) && !Vectors.readText(path).isEmpty }
        usleep(50_000)
        return Vectors.readText(path)
    }

    public func statistics() -> Statistics { Statistics(dump(SIGUSR2, file: "keepalived.stats")) }
    public func data() -> String { dump(SIGUSR1, file: "keepalived.data") }

    /// keepalived's stats file, read as "Section/Key" → value for the first instance
    /// (or the instance named).
    public struct Statistics: CustomStringConvertible {
        public let text: String
        public init(_ text: String) { self.text = text }
        public var description: String { text }

        public func value(_ key: String, instance: String? = nil) -> Int? {
            var section = ""
            var inInstance = instance == nil
            var seenInstance = false
            for raw in text.split(separator: "\n") {
                let line = raw.trimmingCharacters(in: .whitespaces)
                if line.hasPrefix("VRRP Instance: ") {
                    if seenInstance && instance == nil { break }
                    seenInstance = true
                    inInstance = instance == nil || line == "VRRP Instance: \(instance!)"
                    section = ""
                    continue
                }
                guard inInstance else { continue }
                if line.hasSuffix(":") { section = String(line.dropLast()); continue }
                let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2 else { continue }
                let name = raw.hasPrefix("    ") ? section + "/" + parts[0] : parts[0]
                if name == key { return Int(parts[1]) }
            }
            return nil
        }
    }

    /// Stops the router if it still runs and removes its files; for `defer`.
    public func remove() {
        process.stop()
        if kind == .keepalived, let pid = vrrpPID, pid > 0, Foundation.kill(pid, 0) == 0 {
            // The VRRP child is ours too (we started its parent); never leave it behind.
            Foundation.kill(pid, SIGKILL)
        }
        try? FileManager.default.removeItem(atPath: directory)
    }
}
