#if canImport(Glibc)
import Glibc
#endif
import Timekeeping

/// sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET. A unit with
/// Type=notify (as Debian's conntrackd.service is) waits for READY=1 before it counts the
/// daemon as started; without the variable, or with `Systemd off`, nothing is sent.
public struct SystemdNotifier: Sendable {
    let path: String?

    public init(enabled: Bool, environment: String? = getenv("NOTIFY_SOCKET").map { String(cString: $0) }) {
        path = enabled ? environment.flatMap { $0.isEmpty ? nil : $0 } : nil
    }

    public var isActive: Bool { path != nil }

    @discardableResult
    public func notify(_ state: String) -> Bool {
        guard let path else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        // "@name" is an abstract socket: a leading NUL instead of the "@".
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = (i == 0 && b == UInt8(ascii: "@")) ? 0 : b }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (bytes.first == UInt8(ascii: "@") ? 0 : 1))
        let message = Array(state.utf8)
        let sent = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { target in
                message.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), target, length) }
            }
        }
        return sent == message.count
    }
}

/// A daemon's conversation with systemd over its whole life: READY=1 once it serves,
/// RELOADING=1 then READY=1 around a reload (what Type=notify-reload units wait for),
/// STOPPING=1 on the way out, STATUS= lines, and the watchdog's pings from the loop.
/// Without NOTIFY_SOCKET every call is a no-op.
public final class SystemdSession {
    let notifier: SystemdNotifier
    var watchdog: SystemdWatchdog

    public init(enabled: Bool, environment: (String) -> String? = { getenv($0).map { String(cString: $0) } },
                now: Instant = .now()) {
        notifier = SystemdNotifier(enabled: enabled, environment: environment("NOTIFY_SOCKET"))
        watchdog = SystemdWatchdog(usec: enabled ? environment("WATCHDOG_USEC") : nil, pid: environment("WATCHDOG_PID"),
                                   ownPid: getpid(), now: now)
    }

    public var isActive: Bool { notifier.isActive }

    /// keepalived sends its MAINPID with READY=1; so do we, for units started through a wrapper.
    public func ready(status: String) {
        notifier.notify("READY=1\nMAINPID=\(getpid())\nSTATUS=\(status)")
    }

    /// systemd (253 and later) matches a reload to this message by its CLOCK_MONOTONIC time.
    public func reloading() {
        notifier.notify("RELOADING=1\nMONOTONIC_USEC=\(Instant.now().microseconds)")
    }

    public func status(_ text: String) { notifier.notify("STATUS=\(text)") }

    public func stopping() { notifier.notify("STOPPING=1") }

    /// Called every loop turn: pings the watchdog when due, so a loop that stops turning
    /// is noticed by systemd.
    public func turn(now: Instant) {
        if watchdog.due(now: now) { notifier.notify("WATCHDOG=1") }
    }
}
