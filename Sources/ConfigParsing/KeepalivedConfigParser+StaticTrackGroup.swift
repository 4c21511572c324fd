/// keepalived 2.2.7's static track groups (vrrp_parser.c, vrrp_static_track.c): a
/// top-level `track_group NAME { group { VI_1 VI_2 } }`, named by `track_group NAME` on a
/// static address, route or rule, makes each of its instances track that static's
/// interface (an address's `dev`, a route's `dev`, a rule's `iif`): the interface going
/// down puts them in FAULT. A static route or rule naming a group also makes keepalived
/// listen for route or rule deletions of its family, so deleted statics are put back.
extension KeepalivedConfigParser {
    mutating func staticTrackGroup(_ n: Node) {
        guard n.arguments.count == 1 else {
            tolerate("track_group must have a name - skipping", n.keyword)
            return
        }
        let name = n.arguments[0].text
        guard !config.staticTrackGroups.contains(where: { $0.name == name }) else {
            tolerate("track_group \(name) already defined", n.arguments[0])
            return
        }
        var group = KeepalivedConfiguration.StaticTrackGroup(name: name, location: n.keyword.location)
        for c in n.children ?? [] {
            guard admit(c, in: "track_group") else { continue }
            // keepalived's message names a sync group here.
            guard group.members == nil else {
                tolerate("Group list already specified for sync group \(name)", c.keyword)
                continue
            }
            let words = (c.children ?? []).flatMap { [$0.keyword] + $0.arguments }.map(\.text)
            if words.isEmpty {
                tolerate("Warning - track group \(name) has empty group block", c.keyword)
            } else {
                group.members = words
            }
        }
        config.staticTrackGroups.append(group)
    }

    /// A static line's words with `track_group NAME` taken out, as keepalived reads it
    /// among the options: a group not defined above the line is reported and not kept; a
    /// second one is reported and ends the line there. nil: the line is dropped (no group
    /// name after the word).
    mutating func takeTrackGroup(_ words: [Token], of line: String) -> (group: String?, rest: [Token])? {
        var group: String?
        var rest: [Token] = []
        var i = 0
        while i < words.count {
            guard words[i].text == "track_group" else {
                rest.append(words[i])
                i += 1
                continue
            }
            guard i + 1 < words.count else {
                tolerate("No track_group parameter specified for \(line)", words[i])
                return nil
            }
            let name = words[i + 1]
            if group != nil {
                tolerate("track_group \(name.text) is a duplicate", name)
                break
            }
            if config.staticTrackGroups.contains(where: { $0.name == name.text }) {
                group = name.text
            } else {
                tolerate("track_group \(name.text) not found", name)
            }
            i += 2
        }
        return (group, rest)
    }

    /// Once every instance is read (keepalived's static_track_group_init): each group keeps
    /// the instances that exist, a group left with none is dropped, and each static naming
    /// a kept group, unless `no_track`, adds its interface to every member's tracking.
    /// What keepalived logs on the way is said as warnings.
    mutating func resolveStaticTrackGroups() {
        let known = Set(config.instances.map(\.name))
        var members: [String: [String]] = [:]
        for g in config.staticTrackGroups {
            let at = Token(kind: .word, text: g.name, location: g.location, startsLine: true)
            guard let names = g.members else {
                warn("Static track group \(g.name) has no virtual router(s)", at)
                warn("Static track group \(g.name) init fails - removing", at)
                continue
            }
            var kept: [String] = []
            for m in names {
                if known.contains(m) { kept.append(m) } else {
                    warn("vrrp instance \(m) specified in track group \(g.name) doesn't exist - ignoring", at)
                }
            }
            guard !kept.isEmpty else {
                warn("Static track group \(g.name) has no VRRP instance(s)", at)
                warn("Static track group \(g.name) init fails - removing", at)
                continue
            }
            members[g.name] = kept
        }
        var follow: [(interface: String, group: String)] = []
        func add(_ kind: String, group: String?, interface: String?, noTrack: Bool, at location: SourceLocation?) {
            guard let group else { return }
            if noTrack {
                let at = Token(kind: .word, text: group, location: location ?? SourceLocation(file: config.file, line: 0, column: 0), startsLine: true)
                warn("Static \(kind) has both track_group and no_track set - not tracking", at)
                return
            }
            if let interface, members[group] != nil { follow.append((interface, group)) }
        }
        for (a, at) in zip(config.staticAddresses, staticAddressLocations) { add("address", group: a.trackGroup, interface: a.device, noTrack: a.noTrack, at: at) }
        for (r, at) in zip(config.staticRoutes, staticRouteLocations) { add("route", group: r.trackGroup, interface: r.device, noTrack: r.noTrack, at: at) }
        for (r, at) in zip(config.staticRules, staticRuleLocations) { add("rule", group: r.trackGroup, interface: r.inputInterface, noTrack: !r.tracked, at: at) }
        for i in config.instances.indices {
            let name = config.instances[i].name
            for f in follow where members[f.group]?.contains(name) == true && !config.instances[i].staticTrackedInterfaces.contains(f.interface) {
                config.instances[i].staticTrackedInterfaces.append(f.interface)
            }
        }
    }
}
