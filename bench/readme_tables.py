"""The README's short benchmark tables, made from the newest results in bench/results/.

The README marks each generated block with `<!-- bench/report: NAME -->` and
`<!-- /bench/report: NAME -->`; `bench/report` replaces what lies between them, so the README
states no figure that a results file does not hold. Each block names the files it came from.
A block shows the newest file that measured its rows with at least MIN_RUNS runs, no
uncommitted changes and no load average above twice the cores; a newer file that falls short is named under the block as not
published, and when no file qualifies the block says so instead of showing a median.
"""
import os

from results_lib import MIN_RUNS, commit_outside, failover_cells, good, replication_iterations, replication_ratios, summary, vrrp_ratios

README = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "README.md")

HOW = {"stop": "stop", "kill": "SIGKILL", "link": "link down"}


def newest(files, prefix, accept=lambda rows: True):
    found = [(p, rows) for p, rows in sorted(files.items()) if os.path.basename(p).startswith(prefix) and accept(rows)]
    return found[-1] if found else (None, None)


def dirty(rows):
    return any(r.get("dirty") for r in rows)


def busiest_load(rows):
    """The highest one-minute load average any run recorded (the benches name it in
    several ways), or None when none did."""
    seen = []
    for r in rows:
        for k, v in r.items():
            if (k == "load1" or k.startswith("load_") or k.startswith("loadavg")) and isinstance(v, (int, float)):
                seen.append(float(v))
            elif k.startswith("loadavg") and isinstance(v, str):
                try:
                    seen.append(float(v.split()[0]))
                except ValueError:
                    pass
    return max(seen) if seen else None


def loaded(rows):
    """Measured on a busy machine: a run saw a load average above twice its cores (other
    builds and benchmarks were running); such a file is a look, not a result."""
    load = busiest_load(rows)
    cores = max([r.get("cores", 0) for r in rows if isinstance(r.get("cores"), int)] or [0])
    return load is not None and cores > 0 and load > 2 * cores


def publishable(rows, runs):
    """A file may feed the README when every row it shows has MIN_RUNS runs, the commit
    it names is the code that ran, and the machine was not busy with other work."""
    return runs >= MIN_RUNS and not dirty(rows) and not loaded(rows)


def why_not(rows, runs):
    reasons = [f"{runs} run{'s' if runs != 1 else ''}"] if runs < MIN_RUNS else []
    if dirty(rows):
        reasons.append("uncommitted changes")
    if loaded(rows):
        reasons.append(f"load average up to {busiest_load(rows):.1f}")
    return ", ".join(reasons) + ", not a published figure"


def pick(files, prefix, runs, accept=lambda rows: True):
    """The newest publishable file of a bench, and notes on newer ones that are not.
    Without any publishable file: the newest one, with the note saying why it is not."""
    candidates = [(p, rows) for p, rows in sorted(files.items())
                  if os.path.basename(p).startswith(prefix) and accept(rows)]
    if not candidates:
        return None, None, []
    good_ones = [(p, rows) for p, rows in candidates if publishable(rows, runs(rows))]
    path, rows = good_ones[-1] if good_ones else candidates[-1]
    later = [(p, r) for p, r in candidates if p > path or (not good_ones and p == path)]
    notes = [f"Not published: `bench/results/{os.path.basename(p)}` ({why_not(r, runs(r))}; in docs/benchmarks.md)."
             for p, r in later]
    return path, rows, notes


def source(*paths):
    return "Raw results: " + ", ".join(f"`bench/results/{os.path.basename(p)}`" for p in paths) + "."


def failover(files):
    """Per (flows, how, stack) the rows of the newest file that measured it."""
    latest, short = {}, {}
    for path, rows in sorted(files.items()):
        if os.path.basename(path).startswith("failover-"):
            for key in {(r["flows"], r["how"], r["stack"]) for r in rows}:
                group = [r for r in rows if (r["flows"], r["how"], r["stack"]) == key]
                if publishable(group, len(group)):
                    latest[key] = (path, group)
                    short.pop(key, None)
                else:
                    short[key] = (path, group)
    for key, (path, group) in short.items():
        latest.setdefault(key, (path, group))
    if not latest:
        return None
    order = {"stop": 0, "kill": 1, "link": 2}
    out = ["| stack | fw1 fails by | flows | runs (failed) | TCP sessions surviving | UDP + ping surviving "
           "| TCP stall p50 / max, ms | all flows in the kernel, p50 ms | commit before the VIPs |",
           "|---|---|---|---|---|---|---|---|---|"]
    stacks = {"tandem-run": 0, "reference": 1, "mixed": 2}
    for key in sorted(latest, key=lambda k: (k[0], order.get(k[1], 9), stacks.get(k[2], 9))):
        flows, how, stack = key
        rows = latest[key][1]
        c = failover_cells(rows)
        mark = "" if publishable(rows, len(rows)) else f" ({why_not(rows, len(rows))})"
        out.append(f"| {stack} | {HOW.get(how, how)} | {flows:,} | {len(rows)} ({len(rows) - len(c['ok'])}){mark} "
                   f"| {c['tcp']} | {c['other']} | {c['stall']} | {c['allin']} | {c['early']} |")
    out += ["", source(*sorted({p for p, _ in latest.values()}))]
    out += sorted({f"Not published: `bench/results/{os.path.basename(p)}` ({why_not(g, len(g))}; in docs/benchmarks.md)."
                   for key, (p, g) in short.items() if latest[key][0] != p})
    return out


def promotion(files):
    path, rows, notes = pick(files, "promotion-", len, accept=lambda rows: rows[0].get("reference", True))
    if not path:
        return None
    ok = [r for r in rows if r["outcome"] == "ok"]
    n = rows[0]["n"]
    mark = f" ({why_not(rows, len(rows))})" if not publishable(rows, len(rows)) else ""
    return [f"| {n:,} flows, {len(ok)} good runs, {len(rows) - len(ok)} failed{mark} | reference (conntrackd -c) | tandem run |",
            "|---|---|---|",
            f"| until the kernel holds every flow, s | {summary([r['reference_secs'] for r in ok], '{:.3f}')} "
            f"| {summary([r['tandem_secs'] for r in ok], '{:.3f}')} |",
            f"| ratio per run | | {summary([r['tandem_secs'] / r['reference_secs'] for r in ok if (r.get('reference_secs') or 0) > 0])} |",
            f"| flows lost | {summary([n - r['reference_kernel'] for r in ok if r.get('reference_kernel') is not None], '{:.0f}')} "
            f"| {summary([n - r['tandem_kernel'] for r in ok], '{:.0f}')} |",
            "", source(path)] + notes


def promotion_ceiling(files):
    """Per size, the newest publishable promotion file that measured the kernel's ceiling
    in the state the commit met (the old master's flows held)."""
    sizes = sorted({rows[0]["n"] for p, rows in files.items()
                    if os.path.basename(p).startswith("promotion-") and "ctbulk_peer_table" in rows[0]
                    and publishable(rows, len(rows))})
    out = ["| flows | good runs, failed | `tandem run`'s promotion commit, flows/s | ctbulk, the old master's flows held, flows/s "
           "| **ratio per run** | ctbulk into emptied tables, flows/s | ratio per run |",
           "|---|---|---|---|---|---|---|"]
    paths, notes = [], []
    for n in sizes:
        path, rows, later = pick(files, "promotion-", len,
                                 accept=lambda rows, n=n: rows[0]["n"] == n and "ctbulk_peer_table" in rows[0])
        ok = [r for r in rows if r["outcome"] == "ok"]
        mark = f" ({why_not(rows, len(rows))})" if not publishable(rows, len(rows)) else ""
        out.append(f"| {n:,} | {len(ok)}, {len(rows) - len(ok)}{mark} | {summary([r['tandem_commit_rate'] for r in ok], '{:.0f}')} "
                   f"| {summary([r['ctbulk_rate'] for r in ok], '{:.0f}')} "
                   f"| **{summary([r['tandem_commit_rate'] / r['ctbulk_rate'] for r in ok if r['ctbulk_rate'] > 0])}** "
                   f"| {summary([r['ctbulk_empty_table_rate'] for r in ok], '{:.0f}')} "
                   f"| {summary([r['tandem_commit_rate'] / r['ctbulk_empty_table_rate'] for r in ok if r['ctbulk_empty_table_rate'] > 0])} |")
        paths.append(path)
        notes += later
    if not paths:
        return None
    return out + ["", source(*paths)] + notes


def replication(files, profile="roomy"):
    """Per (mode, flows), the rows of the newest file of this profile that ran both pairs."""
    def runs(group):
        its = replication_iterations(group)
        return min(sum(1 for it in its if pair in it) for pair in ("conntrackd", "tandem"))
    latest, short = {}, {}
    for path, rows in sorted(files.items()):
        if not os.path.basename(path).startswith("replication-") or rows[0].get("profile") != profile:
            continue
        for key in {(r["mode"], r["n"]) for r in rows}:
            group = [r for r in rows if (r["mode"], r["n"]) == key]
            if {"conntrackd", "tandem"} <= {r["pair"] for r in group}:
                if publishable(group, runs(group)):
                    latest[key] = (path, group)
                    short.pop(key, None)
                else:
                    short[key] = (path, group)
    for key, (path, group) in short.items():
        latest.setdefault(key, (path, group))
    if not latest:
        return None
    keys = sorted(latest, key=lambda k: (k[0] != "event", k[1]))
    poll_secs = {k: latest[k][1][0]["poll_secs"] for k in keys}
    head = [f"{n // 1000}k {'event' if mode == 'event' else 'PollSecs ' + str(poll_secs[(mode, n)])}" for mode, n in keys]
    cells = {"secs": [], "us_a": [], "us_b": [], "bpf_b": [], "idle": [], "runs": [], "generator": []}
    for key in keys:
        its = replication_iterations(latest[key][1])
        ratios = replication_ratios(its, "tandem")
        for k in ("secs", "us_a", "us_b", "bpf_b"):
            cells[k].append(summary(ratios[k]))
        c = [it["conntrackd"] for it in its if "conntrackd" in it]
        t = [it["tandem"] for it in its if "tandem" in it]
        group = latest[key][1]
        cells["generator"].append({"bench": "conntrack-bench", "ctbulk": "ctbulk"}.get(group[0].get("generator"), "?"))
        mark = "" if publishable(group, runs(group)) else f" ({why_not(group, runs(group))})"
        cells["runs"].append(f"{sum(map(good, c))}/{len(c)}, {sum(map(good, t))}/{len(t)}{mark}")
        if key[0] == "poll":
            ci = [r["idle_cpu_pct"] for r in c if good(r)]
            ti = [r["idle_cpu_pct"] for r in t if good(r)]
            cells["idle"].append(f"{summary(ci, '{:.1f}')} → {summary(ti, '{:.1f}')}")
        else:
            cells["idle"].append("")
    out = ["| Tandem / conntrackd, per run | " + " | ".join(head) + " |", "|---" * (len(head) + 1) + "|"]
    for label, k in (("good runs (conntrackd pair, Tandem pair)", "runs"), ("time until B holds every flow", "secs"),
                     ("sender CPU per flow", "us_a"), ("receiver CPU per flow", "us_b"),
                     ("receiver peak RSS per flow", "bpf_b"), ("sender's idle CPU with the table loaded, %", "idle"),
                     ("flows made by", "generator")):
        out.append(f"| {label} | " + " | ".join(cells[k]) + " |")
    out += ["", source(*sorted({p for p, _ in latest.values()}))]
    out += sorted({f"Not published: `bench/results/{os.path.basename(p)}` ({why_not(g, runs(g))}; in docs/benchmarks.md)."
                   for key, (p, g) in short.items() if latest[key][0] != p})
    return out


def mixed_burst(files):
    def seed_mixed(rows):
        return rows[0].get("profile") == "seed" and any(r["pair"] == "mixed" for r in rows)

    def fewest(rows):
        counts = {}
        for r in rows:
            if r["pair"] == "mixed":
                counts[(r["mode"], r["n"])] = counts.get((r["mode"], r["n"]), 0) + 1
        return min(counts.values(), default=0)
    path, rows, notes = pick(files, "replication-", fewest, seed_mixed)
    if not path:
        return None
    out = ["| conntrackd → Tandem, seed's buffers | good runs | Tandem's external cache held all conntrackd had "
           "| Tandem's sync-socket drops | conntrackd missed kernel events | receiver CPU vs conntrackd → conntrackd |",
           "|---|---|---|---|---|---|"]
    groups = {}
    for r in rows:
        groups.setdefault((r["mode"], r["n"]), []).append(r)
    for (mode, n), group in sorted(groups.items()):
        its = replication_iterations(group)
        mixed = [it["mixed"] for it in its if "mixed" in it]
        ok = [r for r in mixed if good(r)]
        out.append(f"| {n:,} flows, {mode} mode | {len(ok)}/{len(mixed)} | {sum(1 for r in ok if r['have'] >= r['sender_has'])}/{len(ok)} "
                   f"| {sum(r['drops_b'] for r in ok)} | {sum(1 for r in ok if r['outcome'] == 'sender-short')} runs "
                   f"| {summary(replication_ratios(its, 'mixed')['us_b'])} |")
    if not publishable(rows, fewest(rows)):
        out.append(f"| ({why_not(rows, fewest(rows))}) | | | | | |")
    out += ["", source(path)] + notes
    return out


def commit(files):
    """One table per table size that has a publishable file, each from the newest such file
    (a size measured only in checks and smoke runs stays in docs/benchmarks.md)."""
    sizes = sorted({rows[0]["n"] for p, rows in files.items()
                    if os.path.basename(p).startswith("commit-") and publishable(rows, len(rows))})
    out = []
    for n in sizes:
        path, rows, notes = pick(files, "commit-", len, lambda rows, n=n: rows[0]["n"] == n)
        if path:
            out += commit_table(path, rows, notes) + [""]
    return out[:-1] or None


def commit_table(path, rows, notes):
    ok = [r for r in rows if r["outcome"] == "ok"]
    mark = f" ({why_not(rows, len(rows))})" if not publishable(rows, len(rows)) else ""
    lines = [f"| commit of {rows[0]['n']:,} replicated flows, {len(ok)} good runs, {len(rows) - len(ok)} failed{mark} | flows/s, median (min-max) |",
             "|---|---|",
             f"| `conntrackd -c`, timed from outside | {summary([commit_outside(r, 'conntrackd') for r in ok], '{:.0f}')} |",
             f"| `tandem conntrackd -c`, timed from outside | {summary([commit_outside(r, 'tandem') for r in ok], '{:.0f}')} |",
             f"| ratio per run, Tandem / conntrackd | {summary([commit_outside(r, 'tandem') / commit_outside(r, 'conntrackd') for r in ok])} |",
             f"| kernel ceiling (ctbulk's own timing, same namespace) | {summary([r['ctbulk_rate'] for r in ok], '{:.0f}')} |",
             f"| ratio per run, `tandem conntrackd -c` / ctbulk | {summary([commit_outside(r, 'tandem') / r['ctbulk_rate'] for r in ok])} |"]
    fair = [r for r in ok if r.get("ctbulk_destroy_listener_rate")]
    if fair:
        lines += [f"| ceiling with a DESTROY listener beside it (ctbulk's own timing) | {summary([r['ctbulk_destroy_listener_rate'] for r in fair], '{:.0f}')} |",
                  f"| ratio per run, `tandem conntrackd -c` / that ceiling | {summary([commit_outside(r, 'tandem') / r['ctbulk_destroy_listener_rate'] for r in fair])} |",
                  f"| load average (1 min) at Tandem's commit | {summary([r['loadavg_tandem'] for r in fair], '{:.1f}')} |"]
    return lines + ["", source(path)] + notes


def ctnetlink(files):
    def fewest(rows):
        runs = [r for r in rows if "n" in r]
        return min((sum(1 for r in runs if r["n"] == n) for n in {r["n"] for r in runs}), default=0)
    path, rows, notes = pick(files, "conntrack-", fewest)
    if not path:
        return None
    runs = [r for r in rows if "n" in r]
    sizes = sorted({r["n"] for r in runs})
    out = ["| Tandem / reference, per run | " + " | ".join(f"{n // 1000}k" for n in sizes) + " |",
           "|---" * (len(sizes) + 1) + "|"]
    for label, t, c in (("batched insert / ctbulk (C, libmnl)", "tandem_insert_rate", "ctbulk_insert_rate"),
                        ("dump / ctbulk", "tandem_dump_rate", "ctbulk_dump_rate"),
                        ("`tandem conntrack -L` / `conntrack -L`", "tandem_list_rate", "conntrack_list_rate")):
        cells = []
        for n in sizes:
            ok = [r for r in runs if r["n"] == n and r["outcome"] == "ok"]
            cells.append(summary([r[t] / r[c] for r in ok if r[c] > 0]))
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    out.append("| good runs (failed) | " + " | ".join(
        f"{sum(1 for r in runs if r['n'] == n and r['outcome'] == 'ok')} "
        f"({sum(1 for r in runs if r['n'] == n and r['outcome'] != 'ok')})" for n in sizes) + " |")
    if not publishable(rows, fewest(rows)):
        out.append(f"| ({why_not(rows, fewest(rows))}) | " + " | ".join("" for _ in sizes) + " |")
    out += ["", source(path)] + notes
    return out


def vrrp(files):
    def fewest(rows):
        counts = {}
        for r in rows:
            counts[(r["mode"], r["event"], r["impl"])] = counts.get((r["mode"], r["event"], r["impl"]), 0) + 1
        return min(counts.values(), default=0)
    path, rows, notes = pick(files, "vrrp-takeover-", fewest)
    if not path:
        return None
    out = ["| VRRP takeover | target ms | keepalived ms | Tandem ms | ratio per run | runs failed (keepalived, Tandem) |",
           "|---|---|---|---|---|---|"]
    for mode, event in sorted({(r["mode"], r["event"]) for r in rows}, key=lambda k: (k[0], k[1] != "kill")):
        group = [r for r in rows if r["mode"] == mode and r["event"] == event]
        ratios = vrrp_ratios(group)
        med = {i: summary([r["from_packet_ms"] for r in group if r["impl"] == i and r["outcome"] == "ok"], "{:.0f}")
               for i in ("keepalived", "tandem")}
        fails = {i: sum(1 for r in group if r["impl"] == i and r["outcome"] != "ok") for i in ("keepalived", "tandem")}
        what = "master killed" if event == "kill" else "master stopped"
        interval = group[0]["advert_int"]
        out.append(f"| {mode}, advert_int {interval}, {what} | {group[0]['target_ms']:.0f} | {med['keepalived']} "
                   f"| {med['tandem']} | {summary(ratios)} | {fails['keepalived']}, {fails['tandem']} |")
    if not publishable(rows, fewest(rows)):
        out.append(f"| ({why_not(rows, fewest(rows))}) | | | | | |")
    out += ["", source(path)] + notes
    return out


BLOCKS = {"failover": failover, "promotion": promotion, "promotion-ceiling": promotion_ceiling, "replication": replication,
          "replication-seed": lambda files: replication(files, profile="seed"), "mixed-burst": mixed_burst,
          "commit": commit, "ctnetlink": ctnetlink, "vrrp": vrrp}


def update_readme(files, path=README):
    with open(path) as f:
        text = f.read()
    for name, make in BLOCKS.items():
        begin, end = f"<!-- bench/report: {name} -->", f"<!-- /bench/report: {name} -->"
        if begin not in text or end not in text:
            continue
        lines = make(files) or ["(no results yet)"]
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = head + begin + "\n" + "\n".join(lines) + "\n" + end + tail
    with open(path, "w") as f:
        f.write(text)
