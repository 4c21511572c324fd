import ConfigParsing
import Daemon

/// The conntrackd daemon's answer to control requests, decided by `ControlPlan` with no
/// daemon behind it: a code that is no request comes back as a typed error, and a plan
/// keeps the promises the daemon's executor relies on.
enum ControlAnswerHarness {
    static let target = FuzzTarget(
        name: "control-answer",
        summary: "byte 0: mode and settings (ExpectationSync, DisableInternalCache), then 4-byte request codes through ControlPlan.planned, up to -k",
        run: run)

    static func run(_ bytes: [UInt8]) {
        var input = FuzzInput(bytes)
        let settings = settings(input.byte())
        while input.remaining >= 4 {
            let code = input.take(4).withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }
            let plan: ControlPlan
            do {
                plan = try ControlPlan.planned(code: code, settings: settings)
            } catch {
                invariant(ControlRequest(rawValue: code) == nil && error == .unknownRequest(code), "\(code) refused as \(error)")
                continue
            }
            guard let request = ControlRequest(rawValue: code) else {
                invariant(false, "code \(code) is no request and was planned as \(plan)")
                return
            }
            check(plan, for: request, settings: settings)
            // After `-k` the loop ends: nothing later is answered.
            if plan.effects.contains(.stop) { return }
        }
    }

    static func settings(_ byte: UInt8) -> ControlPlan.Settings {
        let modes: [ConntrackdConfiguration.Mode] = [.ftfw, .notrack, .alarm, .ftfw]
        return ControlPlan.Settings(mode: modes[Int(byte & 3)], expectations: byte & 4 != 0, bypassesInternalCache: byte & 8 != 0)
    }

    static func check(_ plan: ControlPlan, for request: ControlRequest, settings s: ControlPlan.Settings) {
        invariant(ControlPlan.planned(request, settings: s) == plan, "\(request): two plans for one request")
        // A query reads; only the requests that answer nothing act.
        invariant(plan.reply == .nothing || !plan.acts, "\(request) both answers and acts: \(plan)")
        invariant(Set(plan.effects).count == plan.effects.count, "\(request) does one thing twice: \(plan.effects)")
        invariant(plan.effects.contains(.stop) == (request == .kill), "\(request): stop is -k's alone")
        for case .log(let line) in plan.effects { invariant(!line.isEmpty, "\(request) logs an empty line") }
        if !s.expectations {
            let touchesExpectations = plan.effects.contains { [.commitExpectations, .flushKernelExpectations, .reloadExpectationsFromKernel].contains($0) }
            invariant(!touchesExpectations, "\(request) acts on expectations without ExpectationSync: \(plan.effects)")
            switch plan.reply {
            case .expectations, .expectationStatistics: invariant(false, "\(request) lists expectations without ExpectationSync")
            default: break
            }
        }
        if s.bypassesInternalCache {
            invariant(!plan.effects.contains(.reloadFromKernel), "\(request) reloads an internal cache that does not exist")
            invariant(plan.reply != .flows(.internal, xml: false) && plan.reply != .flows(.internal, xml: true), "\(request) lists an internal cache that does not exist")
        } else {
            invariant(plan.reply != .kernelFlows(xml: false) && plan.reply != .kernelFlows(xml: true), "\(request) lists the kernel with an internal cache")
        }
        if s.mode == .alarm {
            invariant(!plan.effects.contains(.sendBulk) && !plan.effects.contains(.requestResync), "\(request): ALARM has no bulk send or resync")
        }
    }
}
