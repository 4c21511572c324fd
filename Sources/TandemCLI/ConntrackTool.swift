#if canImport(Glibc)
import Glibc
#endif
import Conntrack
import Netlink
import IPAddressing

/// `tandem conntrack`: conntrack(8) 1.4.7 on Tandem's own ctnetlink code. Messages,
/// output lines and exit codes follow the original so scripts keep working.
public struct ConntrackTool {
    public static let banner = "conntrack v1.4.7 (conntrack-tools)"
    let output: OutputSink
    /// Set from a signal handler to end `-E`.
    let shouldStop: () -> Bool

    public init(output: OutputSink, shouldStop: @escaping () -> Bool = { false }) {
        self.output = output
        self.shouldStop = shouldStop
    }

    /// Runs one command line; returns the process exit status.
    public func run(_ argv: [String]) -> Int32 {
        // conntrack takes -R only as its first argument, with a file after it.
        if argv.count > 1 && (argv[0] == "-R" || argv[0] == "--load-file") {
            defer { output.flush() }
            return load(file: argv[1])
        }
        let arguments: ConntrackArguments
        do {
            arguments = try ConntrackArguments.parse(argv)
        } catch {
            return refuse(error)
        }
        defer { output.flush() }
        do {
            return try execute(arguments)
        } catch {
            return fail(error, arguments.command)
        }
    }

    func refuse(_ error: ConntrackUsageError) -> Int32 {
        if let p = error.preamble { output.err(p) }
        output.err("\(Self.banner): \(error.message)")
        if error.status == 2 { output.err("Try `conntrack -h' or 'conntrack --help' for more information.") }
        return error.status
    }

    func fail(_ error: any Error, _ command: ConntrackArguments.Command) -> Int32 {
        switch error {
        case let e as NetlinkKernelError:
            output.err("\(Self.banner): Operation failed: \(Self.describe(e, command))")
            return 1
        case let e as ConntrackUsageError:
            return refuse(e)
        default:
            output.err("\(Self.banner): \(error)")
            return 1
        }
    }

    /// The wording conntrack(8) uses for the common kernel refusals.
    static func describe(_ e: NetlinkKernelError, _ command: ConntrackArguments.Command) -> String {
        switch (e.errno, command) {
        case (EEXIST, _): "Such conntrack exists, try -U to update"
        case (ENOENT, _): "such conntrack doesn't exist"
        default: errnoDescription(e.errno)
        }
    }

    /// `quiet`: no "N flow entries have been …" line (conntrack -R prints none), and no
    /// failure for touching nothing.
    func execute(_ a: ConntrackArguments, quiet: Bool = false) throws -> Int32 {
        var printer = FlowPrinter(showLayer3: a.extendedOutput, showID: a.showID, showTimestamps: a.showTimestamp)
        printer.labelMap = a.labelMap
        // conntrack prints a deleted flow as the dump gave it, labels never shown.
        let deletedPrinter = FlowPrinter(showLayer3: a.extendedOutput, showID: a.showID, showTimestamps: a.showTimestamp)
        if let p = a.labelMapProblem, !quiet { output.err(p) }
        let save = FlowSavePrinter()
        func report(_ line: String) { if !quiet { output.err("\(Self.banner): \(line)") } }
        switch (a.command, a.table) {
        case (.help, _):
            output.out(Self.usage)
            return 0
        case (.version, _):
            output.out("\(Self.banner)")
            return 0
        case (.list, .conntrack), (.list, .dying), (.list, .unconfirmed):
            let c = try ConntrackConnection()
            var shown = 0
            var xml = FlowXMLPrinter(showTimestamps: a.showTimestamp)
            xml.labelMap = a.labelMap
            let table: ConntrackConnection.Table = a.table == .dying ? .dying : a.table == .unconfirmed ? .unconfirmed : .confirmed
            try c.dump(family: a.family ?? AddressFamily.unspecified,
                       mark: a.mark.map { ($0, a.markMask ?? UInt32.max) }, zeroCounters: a.zeroCounters, table: table) { flow in
                guard a.selects(flow) else { return }
                if a.saveOutput {
                    if let line = save.format(flow) { output.out(line) }
                } else if a.xmlOutput {
                    if shown == 0 { output.out(FlowXMLPrinter.header) }
                    output.outLine { xml.append(flow, to: &$0) }
                } else {
                    output.outLine { printer.append(flow, to: &$0) }
                }
                shown += 1
            }
            if a.xmlOutput && shown > 0 { output.out(FlowXMLPrinter.footer) }
            output.err("\(Self.banner): \(shown) flow entries have been shown.")
            return 0
        case (.list, .expect):
            let c = try ConntrackConnection()
            var shown = 0
            let xp = ExpectationPrinter()
            try c.dumpExpectations(family: a.family ?? AddressFamily.unspecified) { x in
                guard a.selects(x) else { return }
                if a.xmlOutput {
                    if shown == 0 { output.out(ExpectationXMLPrinter.header) }
                    output.out(ExpectationXMLPrinter.format(x, when: a.eventTimestamp ? Self.localTime() : nil))
                } else {
                    output.out((a.eventTimestamp ? Self.eventTime(width: true) : "") + xp.format(x))
                }
                shown += 1
            }
            if a.xmlOutput && shown > 0 { output.out(ExpectationXMLPrinter.footer) }
            output.err("\(Self.banner): \(shown) expectations have been shown.")
            return 0
        case (.get, .expect):
            guard let key = a.expectationToGet() else { throw ConntrackUsageError("missing expectation tuple") }
            // conntrack prints the entry alone, without a count; a miss is plain ENOENT.
            guard let x = try ConntrackConnection().getExpectation(key) else {
                throw ConntrackUsageError("Operation failed: \(errnoDescription(ENOENT))", status: 1)
            }
            output.out(ExpectationPrinter().format(x))
            return 0
        case (.get, .conntrack):
            guard let request = a.flowToGet() else { throw ConntrackUsageError("missing tuple") }
            let c = try ConntrackConnection()
            guard let flow = try c.get(request) else {
                throw NetlinkKernelError(errno: ENOENT, sequence: 0)
            }
            output.out(printer.format(flow))
            output.err("\(Self.banner): 1 flow entries have been shown.")
            return 0
        case (.create, .conntrack), (.add, .conntrack):
            guard let flow = a.flowToCreate() else { throw ConntrackUsageError("missing tuple") }
            let c = try ConntrackConnection()
            let r = try c.create([flow])
            // -A is -I that takes an existing flow as done (the restore idiom).
            if let f = r.failures.first, !(a.command == .add && f.error.errno == EEXIST) { throw f.error }
            report("\(r.succeeded) flow entries have been \(a.command == .add ? "added" : "created").")
            return 0
        case (.create, .expect):
            guard let x = a.expectationToCreate() else { throw ConntrackUsageError("missing expectation tuple") }
            try ConntrackConnection().createExpectation(x)
            output.err("\(Self.banner): 1 expectation has been created.")
            return 0
        case (.update, .conntrack), (.delete, .conntrack):
            let c = try ConntrackConnection()
            var selected: [Flow] = []
            try c.dump(family: a.family ?? AddressFamily.unspecified) { flow in
                if a.selects(flow) { selected.append(flow) }
            }
            let isUpdate = a.command == .update
            var requests: [Flow] = []
            for flow in selected {
                if isUpdate {
                    if let r = a.updateRequest(for: flow) { requests.append(r) }
                } else {
                    var f = Flow(family: flow.family)
                    f.original = flow.original
                    f.reply = flow.reply
                    f.zone = flow.zone
                    requests.append(f)
                }
            }
            let r = isUpdate ? try c.update(requests) : try c.delete(requests)
            if let f = r.failures.first(where: { $0.error.errno != ENOENT }) { throw f.error }
            if isUpdate {
                // conntrack prints each flow as the update left it.
                let failed = Set(r.failures.map(\.index))
                for (i, request) in requests.enumerated() where !failed.contains(i) {
                    guard let now = try c.get(request) else { continue }
                    if a.saveOutput {
                        if let line = save.format(now) { output.out(line) }
                    } else {
                        output.out(printer.format(now))
                    }
                }
            }
            if !isUpdate && !quiet {
                let failed = Set(r.failures.map(\.index))
                for (i, flow) in selected.enumerated() where !failed.contains(i) { output.out(deletedPrinter.format(flow)) }
            }
            report("\(r.succeeded) flow entries have been \(isUpdate ? "updated" : "deleted").")
            return r.succeeded == 0 && !quiet ? 1 : 0
        case (.delete, .expect):
            let c = try ConntrackConnection()
            var selected: [Expectation] = []
            try c.dumpExpectations(family: a.family ?? AddressFamily.unspecified) { if a.selects($0) { selected.append($0) } }
            for x in selected {
                var key = Expectation(family: x.family)
                key.tuple = x.tuple
                try c.deleteExpectation(key)
            }
            output.err("\(Self.banner): \(selected.count) expectations have been deleted.")
            return 0
        case (.flush, .conntrack):
            try ConntrackConnection().flush(family: a.family ?? AddressFamily.unspecified)
            // Printed by the command itself, so under -R too.
            output.err("\(Self.banner): connection tracking table has been emptied.")
            return 0
        case (.flush, .expect):
            try ConntrackConnection().flushExpectations(family: a.family ?? AddressFamily.unspecified)
            output.err("\(Self.banner): expectation table has been emptied.")
            return 0
        case (.count, .expect):
            // conntrack counts expectations by dumping them (there is no kernel counter).
            var n = 0
            try ConntrackConnection().dumpExpectations(family: a.family ?? AddressFamily.unspecified) { _ in n += 1 }
            output.out("\(n)")
            return 0
        case (.count, .conntrack):
            output.out("\(try ConntrackConnection().count())")
            return 0
        case (.stats, _):
            for cpu in try ConntrackConnection().cpuStatistics() {
                output.outLine { out in
                    let label = "cpu=\(cpu.cpu)"
                    out.append(contentsOf: label.utf8)
                    out.append(contentsOf: repeatElement(32, count: max(0, 8 - label.count)))
                    out.append(9)
                    for (type, value) in cpu.counters {
                        guard let name = Self.cpuCounterNames[type] else { continue }
                        out.append(contentsOf: "\(name)=\(value) ".utf8)
                    }
                }
            }
            return 0
        case (.event, _):
            return try events(a, printer)
        default:
            throw ConntrackUsageError("this command is not supported by tandem yet for table \(a.table.rawValue)")
        }
    }

    static func localTime() -> tm {
        var now = time(nil)
        var t = tm()
        localtime_r(&now, &t)
        return t
    }

    func events(_ a: ConntrackArguments, _ printer: FlowPrinter) throws -> Int32 {
        let expect = a.table == .expect
        var mask = a.eventMask ?? (expect ? .expectations : .flows)
        mask = mask.intersection(expect ? .expectations : .flows)
        let policy = ReceiveBufferPolicy(initial: a.bufferSize ?? (2 << 20), maximum: 64 << 20)
        let listener = try ConntrackEventListener(events: mask, bufferPolicy: policy)
        let xp = ExpectationPrinter()
        var xml = FlowXMLPrinter(showTimestamps: a.showTimestamp)
        xml.labelMap = a.labelMap
        var programs = NetlinkPortOwners()
        var shown = 0
        while !shouldStop() {
            for event in try listener.poll(timeoutMilliseconds: 200) {
                switch event {
                case .flow(let kind, let flow, let origin):
                    guard a.selects(flow) else { continue }
                    var line: String
                    if a.saveOutput {
                        guard let saved = FlowSavePrinter().format(flow, event: kind) else { continue }
                        line = saved
                    } else {
                        if a.xmlOutput && shown == 0 { output.out(FlowXMLPrinter.header) }
                        line = a.xmlOutput ? xml.format(flow, event: kind, when: a.eventTimestamp ? Self.localTime() : nil)
                            : printer.format(flow, event: kind)
                        // conntrack: the moment the event was read, before the line.
                        if a.eventTimestamp && !a.xmlOutput { line = Self.eventTime(width: false) + line }
                    }
                    if origin != 0 {
                        line += " [USERSPACE] portid=\(origin)"
                        if let name = programs.name(ofNetlinkPort: origin) { line += " progname=\(name)" }
                    }
                    output.out(line)
                    shown += 1
                case .expectation(let kind, let x, _):
                    output.out((a.eventTimestamp ? Self.eventTime(width: true) : "") + xp.format(x, event: kind))
                    shown += 1
                case .overrun:
                    // conntrack(8) stops here; a listener that keeps going must say so.
                    output.err("\(Self.banner): WARNING: netlink overrun, events were lost (total \(listener.counters.overruns))")
                case .malformed(let e):
                    output.err("\(Self.banner): WARNING: malformed event skipped: \(e)")
                }
            }
            output.flush()
        }
        if a.xmlOutput && shown > 0 { output.out(FlowXMLPrinter.footer) }
        output.err("\(Self.banner): \(shown) \(expect ? "expectation" : "flow") events have been shown.")
        return 0
    }

    /// `[sec.usec]<TAB>` as conntrack prints it before an event with `-o timestamp`: for
    /// flows `%-.8ld.%-.6ld` (the microseconds zero-padded to 6), for expectations
    /// `%-8ld.%-6ld` (space-padded on the right).
    static func eventTime(width: Bool) -> String {
        var tv = timeval()
        gettimeofday(&tv, nil)
        let usec = String(tv.tv_usec)
        let micro = width ? usec + String(repeating: " ", count: max(0, 6 - usec.count))
                          : String(repeating: "0", count: max(0, 6 - usec.count)) + usec
        return "[\(tv.tv_sec).\(micro)]\t"
    }

    /// CTA_STATS_* names as conntrack -S prints them.
    static let cpuCounterNames: [UInt16: String] = [
        1: "searched", 2: "found", 3: "new", 4: "invalid", 5: "ignore", 6: "delete", 7: "delete_list",
        8: "insert", 9: "insert_failed", 10: "drop", 11: "early_drop", 12: "error", 13: "search_restart",
        14: "clash_resolve", 15: "chaintoolong",
    ]

    static let usage = """
    Command line interface for the connection tracking system. Version 1.4.7 (tandem)
    Usage: conntrack [commands] [options]

    Commands:
      -L [table] [options]\t\tList conntrack or expectation table
      -G [table] parameters\t\tGet conntrack or expectation
      -D [table] parameters\t\tDelete conntrack or expectation
      -I [table] parameters\t\tCreate a conntrack or expectation
      -U [table] parameters\t\tUpdate a conntrack
      -E [table] [options]\t\tShow events
      -F [table]\t\t\tFlush table
      -C [table]\t\t\tShow counter

    Tables: conntrack, expect
    """
}
