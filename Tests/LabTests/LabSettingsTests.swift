@testable import Lab
import Testing

/// The lab's state file keeps what `up` chose, `--peer-view` included, for the later
/// commands (a restarted node gets the same flags); a state file from before the field
/// reads as no peer view.
@Suite struct LabSettingsTests {
    @Test(arguments: [UInt16?.none, 3790]) func theStateFileRoundTrips(_ peerView: UInt16?) throws {
        let s = LabSettings(stack: .tandemRun, sync: true, advertInterval: 1, tandem: "/usr/bin/tandem", startedAt: 12.5, peerView: peerView)
        let back = try LabSettings(parsing: s.text, path: "state")
        #expect(back == s)
        #expect(back.peerView == peerView)
    }

    @Test func anOlderStateFileHasNoPeerView() throws {
        let s = try LabSettings(parsing: "stack=tandem-run\nsync=on\nadvert_int=1\ntandem=/t\nstarted=1\n", path: "state")
        #expect(s.peerView == nil)
        // The control: the line, when there, is read.
        let t = try LabSettings(parsing: "stack=tandem-run\nsync=on\nadvert_int=1\ntandem=/t\nstarted=1\npeer_view=9\n", path: "state")
        #expect(t.peerView == 9)
    }

    @Test func aBadPortIsABadState() {
        #expect(throws: LabError.self) {
            try LabSettings(parsing: "stack=tandem-run\nsync=on\nadvert_int=1\ntandem=/t\nstarted=1\npeer_view=0\n", path: "state")
        }
    }
}
