#!/usr/bin/env python3
"""bench/soak.sh's summary: reads one soak's JSON lines (bench/results/soak-*.jsonl) and
prints flows lost, sessions broken, RSS and fds at start and end, CPU per 1k churned flows
per interval, and the failed steps. Exits 1 if any step failed (or the soak never ended)."""
import statistics
import sys

from results_lib import load


def pct(a, b):
    return f"{(b - a) * 100 / a:+.1f}%" if a else "-"


def mib(kb):
    return f"{kb / 1024:.1f} MiB"


def main(path):
    rows = load(path)
    kinds = {}
    for r in rows:
        kinds.setdefault(r.get("kind"), []).append(r)
    start = (kinds.get("start") or [{}])[0]
    end = (kinds.get("end") or [None])[0]
    failures = kinds.get("failure", [])
    transitions = kinds.get("transition", [])
    samples = kinds.get("sample", [])
    sessions = kinds.get("session", [])

    if start:
        print(f"soak: {start['duration_s']:g} s planned, {end['t']:.0f} s run; churn {start['churn_rate']:g} flows/s, "
              f"lifetime {start['flow_lifetime_s']:g} s; a failover every {start['failover_every_s']:g} s "
              f"(link down {start['link_down_s']:g} s); flows at risk: created >= {start['min_age_s']:g} s before the failure"
              if end else "soak: no end record (the soak died)")
    if end:
        rate = end["flows_created"] / end["t"] if end["t"] else 0
        print(f"churn: {end['flows_created']} flows created ({rate:.0f}/s over the run, pauses included), "
              f"{end['flows_deleted']} deleted; create failures {end['create_failed']}, deletes finding no flow "
              f"{end['delete_missing']}, delete failures {end['delete_failed']}, socket errors {end['churn_socket_errors']}"
              + (f"\n  flows young and absent at a check (died_young), deleted at their lifetime: "
                 f"{end['died_young_found_later']} found (they had arrived after the check), {end['died_young_gone']} not found"
                 if "died_young_found_later" in end else "")
              + "".join(f"\n  create errors: {e}" for e in end.get("create_errors", []))
              + "".join(f"\n  delete errors: {e}" for e in end.get("delete_errors", [])))

    # Stalls of each session, to put beside the transition they belong to.
    stalls = [(s["name"], g["from"], g["from"] + g["ms"] / 1000, g["ms"]) for s in sessions if s["proto"] == "tcp" for g in s["stalls"]]
    times = [t["t"] for t in transitions]

    def window(i):
        return times[i], times[i + 1] if i + 1 < len(times) else float("inf")

    print()
    print(f"{'#':>2} {'t s':>6}  {'cause':<22} {'from→to':<8} {'takeover ms':>11} {'at risk':>8} {'lost':>5} {'stale':>6} {'max TCP stall ms':>16}")
    for i, t in enumerate(transitions):
        lo, hi = window(i)
        # A stall belongs to the transition that started within it (or the last before its end).
        mine = [round(ms) for (_, a, b, ms) in stalls if lo <= b < hi or (a <= lo <= b)]
        print(f"{t['n']:>2} {t['t']:>6.1f}  {t['cause']:<22} {t['from']}→{t['to']:<4} {t['takeover_ms']:>11.0f} "
              f"{t['at_risk']:>8} {t['lost']:>5} {t.get('stale', '-'):>6} {max(mine) if mine else '< 1000':>16}")
        if t["lost"]:
            print(f"{'':>10}missing e.g. {', '.join(t['lost_examples'][:3])}")

    def lost(select):
        chosen = [t for t in transitions if select(t["cause"])]
        return f"{sum(t['lost'] for t in chosen)} of {sum(t['at_risk'] for t in chosen)} at risk in {len(chosen)}"

    print()
    print("flows lost: " + "; ".join([
        f"failovers {lost(lambda c: c in ('stop', 'kill', 'link'))}",
        f"failbacks after a restart {lost(lambda c: c.startswith('failback after restart'))}",
        f"failbacks after link up {lost(lambda c: c == 'failback after link up')}",
    ] + ([f"unplanned {lost(lambda c: c == 'unplanned')}"] if any(t['cause'] == 'unplanned' for t in transitions) else [])))
    stale = [t["stale"] for t in transitions if "stale" in t]
    if stale:
        print(f"stale flows (already destroyed, yet in the new master's table): max {max(stale)}, last {stale[-1]} "
              f"(live churn flows about {transitions[-1]['live']})")
    resyncs = kinds.get("resync", [])
    if resyncs:
        ms = [r["ms"] for r in resyncs]
        print(f"resyncs: {len(resyncs)} complete, {statistics.median(ms):.0f} ms median, {max(ms):.0f} ms max (from the restart or the loss of the VIPs)")

    tcp = [s for s in sessions if s["proto"] == "tcp"]
    limit = start.get("stall_limit_s", "?")
    broken = [s for s in tcp if s["broken"]]
    print(f"TCP sessions broken: {len(broken)}/{len(tcp)} (reset, EOF, error, or silent > {limit} s)"
          + "".join(f"\n  {s['name']}: {s['reason']}" for s in broken))
    for s in sessions:
        print(f"  {s['name']:<11} {s['proto']:<5} {s['messages']:>7} messages, longest silence {s['max_stall_ms']:.0f} ms, "
              f"{len(s['stalls'])} silences > 1 s")

    # RSS and fds: the sample before the first failover against the last one.
    steady = [s for s in samples if s["reason"].startswith("before failover")]
    base = steady[0] if steady else next((s for s in samples if s["reason"] != "idle"), None)
    last = samples[-1] if samples else None
    print()
    if base and last and base is not last:
        print(f"RSS / fds of each tandem run, at {base['t']:.0f} s ({base['reason']}) → {last['t']:.0f} s ({last['reason']}):")
        for fw in ("fw1", "fw2"):
            a = next((p for p in base["procs"] if p["fw"] == fw), {})
            b = next((p for p in last["procs"] if p["fw"] == fw), {})
            if "rss_kb" not in a or "rss_kb" not in b:
                print(f"  {fw}: not sampled")
                continue
            pids = [p["pid"] for s in samples for p in s["procs"] if p["fw"] == fw and "rss_kb" in p]
            restarts = len(set(pids)) - 1
            print(f"  {fw}: pid {a['pid']}→{b['pid']} ({restarts} restarts): RSS {mib(a['rss_kb'])} → {mib(b['rss_kb'])} "
                  f"({pct(a['rss_kb'], b['rss_kb'])}), fds {a['fds']} → {b['fds']} ({pct(a['fds'], b['fds'])})")
        # The longest-lived process after the start: its own first and last samples.
        lives = {}
        for s in samples:
            if s is not base and samples.index(s) < samples.index(base):
                continue
            for p in s["procs"]:
                if "rss_kb" in p:
                    lives.setdefault((p["fw"], p["pid"]), []).append((s["t"], p))
        if lives:
            (fw, pid), life = max(lives.items(), key=lambda kv: kv[1][-1][0] - kv[1][0][0])
            (ta, a), (tb, b) = life[0], life[-1]
            print(f"  longest-lived: {fw} pid {pid}, {ta:.0f} s → {tb:.0f} s: RSS {mib(a['rss_kb'])} → {mib(b['rss_kb'])} "
                  f"({pct(a['rss_kb'], b['rss_kb'])}), fds {a['fds']} → {b['fds']} ({pct(a['fds'], b['fds'])})")

    # CPU per 1k churned flows per interval (grouped into at most 12 rows).
    timed = [s for s in samples if s["interval"] > 0]
    if timed:
        groups = [timed[i:i + max(1, -(-len(timed) // 12))] for i in range(0, len(timed), max(1, -(-len(timed) // 12)))]
        print("CPU ms per 1k churned flows, per interval (tandem run, all its processes):")
        print(f"  {'until s':>8} {'flows':>8} {'fw1':>7} {'fw2':>7}  RSS fw1 / fw2")
        for g in groups:
            flows = sum(s["flows_created"] for s in g)
            cpu = {fw: sum(p["cpu_s_interval"] for s in g for p in s["procs"] if p["fw"] == fw) for fw in ("fw1", "fw2")}
            rss = {p["fw"]: mib(p["rss_kb"]) if "rss_kb" in p else "-" for p in g[-1]["procs"]}
            per = {fw: f"{cpu[fw] * 1e6 / flows:.0f}" if flows else "-" for fw in cpu}
            print(f"  {g[-1]['t']:>8.0f} {flows:>8} {per['fw1']:>7} {per['fw2']:>7}  {rss.get('fw1')} / {rss.get('fw2')}")

    failed = len(failures) + (0 if end else 1)
    print()
    print(f"failed steps: {failed}" + "".join(f"\n  {f['step']}: {f['reason']}" for f in failures)
          + ("" if end else "\n  the soak ended without its end record"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
