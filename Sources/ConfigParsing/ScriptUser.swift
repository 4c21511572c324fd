#if canImport(Glibc)
import Glibc
#endif

/// Who a script runs as (keepalived 2.2.7, lib/notify.c): a vrrp_script's `user USER
/// [GROUP]`, the words after a notify command, or else the default — global_defs'
/// `script_user`, else the host's `keepalived_script` user, else the daemon's own user.
/// Names are looked up when the file is read, as keepalived does, so a user deleted later
/// does not change what a running configuration does.
public struct ScriptUser: Hashable, Sendable {
    public var uid: UInt32
    public var gid: UInt32

    public init(uid: UInt32, gid: UInt32) {
        self.uid = uid
        self.gid = gid
    }

    /// The daemon's own user: a script configured with no user where no default applies.
    public static var ours: ScriptUser { ScriptUser(uid: getuid(), gid: getgid()) }

    /// keepalived's look-up: the user's uid and primary group, or GROUP's gid when given.
    /// The failure is keepalived's log line for it.
    public static func resolve(_ user: String, group: String?) -> Result<ScriptUser, LookupFailure> {
        guard let account = AccountLookup.user(named: user) else { return .failure(LookupFailure(message: "Script user '\(user)' does not exist")) }
        var found = ScriptUser(uid: account.uid, gid: account.gid)
        if let group {
            guard let gid = AccountLookup.group(named: group) else { return .failure(LookupFailure(message: "Script group '\(group)' does not exist")) }
            found.gid = gid
        }
        return .success(found)
    }

    public struct LookupFailure: Error, Hashable, Sendable {
        public var message: String
    }
}

/// The default a script with no user of its own gets, decided once per file as keepalived
/// decides it (get_default_script_user): it fails when script_user names no one, or when
/// enable_script_security is on and the host has no keepalived_script user — and then
/// every script relying on it is left out.
enum DefaultScriptUser: Hashable {
    case user(ScriptUser)
    /// What keepalived reports, once.
    case failed(String)

    static func decide(configured: Result<ScriptUser, ScriptUser.LookupFailure>?, scriptSecurity: Bool) -> DefaultScriptUser {
        switch configured {
        case .success(let u)?: return .user(u)
        case .failure?: return .failed("Error setting global script uid/gid")
        case nil:
            if case .success(let u) = ScriptUser.resolve("keepalived_script", group: nil) { return .user(u) }
            return scriptSecurity ? .failed("Unable to set default user keepalived_script for script") : .user(.ours)
        }
    }
}
