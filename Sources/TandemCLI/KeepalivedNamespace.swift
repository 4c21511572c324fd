#if canImport(Glibc)
import Glibc
#endif
import ConfigParsing
import Netlink

/// keepalived 2.2.7's net_namespace and -s/--namespace (main.c, namespaces.c): the daemon
/// runs inside /run/netns/NAME, -s overriding the file; `-t` checks where it was started
/// (keepalived's check ends before it enters the namespace). Tandem enters it by starting
/// itself again there; the marker says it is already inside.
extension KeepalivedTool {
    static let namespaceMarker = "TANDEM_KEEPALIVED_NETNS"

    /// nil: carry on here (no namespace, or already in it); else the exit code.
    func enterNamespace(_ line: KeepalivedCommandLine) -> Int32? {
        guard !line.test else { return nil }
        var name = line.namespace
        // A file that does not parse names no namespace here; nothing is lost: the start
        // that follows reads it again and refuses it at its file:line:column.
        if let config = try? KeepalivedConfigParser.parse(file: line.file, configID: line.configID ?? KeepalivedLineFilter.nodeName),
           let own = config.netNamespace {
            if let given = line.namespace, given != own, getenv(Self.namespaceMarker) == nil {
                output.err("Overriding config net_namespace '\(own)' with command line namespace '\(given)'")
            }
            name = name ?? own
        }
        guard let name else { return nil }
        if let inside = getenv(Self.namespaceMarker), String(cString: inside) == name { return nil }
        let failure = NamespaceExec.reexec(into: name, arguments: CommandLine.arguments, marker: Self.namespaceMarker)
        output.err("\(failure)")
        output.err("Unable to set network namespace \(name) - exiting")
        return 1
    }
}
