"""The README's short benchmark tables, made from the newest results in bench/results/.

The README marks each generated block with `<!-- bench/report: NAME -->` and
`<!-- /bench/report: NAME -->`; `bench/report` replaces what lies between them, so the README
states no figure that a results file does not hold. Each block names the files it came from.
"""
import os

from results_lib import failover_cells, good, replication_iterations, replication_ratios, summary, vrrp_ratios

README = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "README.md")

HOW = {"stop": "stop", "kill": "SIGKILL", "link": "link down"}


def newest(files, prefix, accept=lambda rows: True):
    found = [(p, rows) for p, rows in sorted(files.items()) if os.path.basename(p).startswith(prefix) and accept(rows)]
    return found[-1] if found else (None, None)


def source(*paths):
    return "Raw results: " + ", ".join(f"`bench/results/{os.path.basename(p)}`" for p in paths) + "."


def failover(files):
    """Per (flows, how, stack) the rows of the newest file that measured it."""
    latest = {}
    for path, rows in sorted(files.items()):
        if os.path.basename(path).startswith("failover-"):
            for key in {(r["flows"], r["how"], r["stack"]) for r in rows}:
                latest[key] = (path, [r for r in rows if (r["flows"], r["how"], r["stack"]) == key])
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
        out.append(f"| {stack} | {HOW.get(how, how)} | {flows:,} | {len(rows)} ({len(rows) - len(c['ok'])}) "
                   f"| {c['tcp']} | {c['other']} | {c['stall']} | {c['allin']} | {c['early']} |")
    out += ["", source(*sorted({p for p, _ in latest.values()}))]
    return out


def promotion(files):
    path, rows = newest(files, "promotion-")
    if not path:
        return None
    ok = [r for r in rows if r["outcome"] == "ok"]
    n = rows[0]["n"]
    return [f"| {n:,} flows, {len(ok)} good runs, {len(rows) - len(ok)} failed | reference (conntrackd -c) | tandem run |",
            "|---|---|---|",
            f"| until the kernel holds every flow, s | {summary([r['reference_secs'] for r in ok], '{:.3f}')} "
            f"| {summary([r['tandem_secs'] for r in ok], '{:.3f}')} |",
            f"| ratio per run | | {summary([r['tandem_secs'] / r['reference_secs'] for r in ok if r['reference_secs'] > 0])} |",
            f"| flows lost | {summary([n - r['reference_kernel'] for r in ok], '{:.0f}')} "
            f"| {summary([n - r['tandem_kernel'] for r in ok], '{:.0f}')} |",
            "", source(path)]


def replication(files, profile="roomy"):
    """Per (mode, flows), the rows of the newest file of this profile that ran both pairs."""
    latest = {}
    for path, rows in sorted(files.items()):
        if not os.path.basename(path).startswith("replication-") or rows[0].get("profile") != profile:
            continue
        for key in {(r["mode"], r["n"]) for r in rows}:
            group = [r for r in rows if (r["mode"], r["n"]) == key]
            if {"conntrackd", "tandem"} <= {r["pair"] for r in group}:
                latest[key] = (path, group)
    if not latest:
        return None
    keys = sorted(latest, key=lambda k: (k[0] != "event", k[1]))
    poll_secs = {k: latest[k][1][0]["poll_secs"] for k in keys}
    head = [f"{n // 1000}k {'event' if mode == 'event' else 'PollSecs ' + str(poll_secs[(mode, n)])}" for mode, n in keys]
    cells = {"secs": [], "us_a": [], "us_b": [], "bpf_b": [], "idle": [], "runs": []}
    for key in keys:
        its = replication_iterations(latest[key][1])
        ratios = replication_ratios(its, "tandem")
        for k in ("secs", "us_a", "us_b", "bpf_b"):
            cells[k].append(summary(ratios[k]))
        c = [it["conntrackd"] for it in its if "conntrackd" in it]
        t = [it["tandem"] for it in its if "tandem" in it]
        cells["runs"].append(f"{sum(map(good, c))}/{len(c)}, {sum(map(good, t))}/{len(t)}")
        if key[0] == "poll":
            ci = [r["idle_cpu_pct"] for r in c if good(r)]
            ti = [r["idle_cpu_pct"] for r in t if good(r)]
            cells["idle"].append(f"{summary(ci, '{:.1f}')} → {summary(ti, '{:.1f}')}")
        else:
            cells["idle"].append("")
    out = ["| Tandem / conntrackd, per run | " + " | ".join(head) + " |", "|---" * (len(head) + 1) + "|"]
    for label, k in (("good runs (conntrackd pair, Tandem pair)", "runs"), ("time until B holds every flow", "secs"),
                     ("sender CPU per flow", "us_a"), ("receiver CPU per flow", "us_b"),
                     ("receiver peak RSS per flow", "bpf_b"), ("sender's idle CPU with the table loaded, %", "idle")):
        out.append(f"| {label} | " + " | ".join(cells[k]) + " |")
    out += ["", source(*sorted({p for p, _ in latest.values()}))]
    return out


def mixed_burst(files):
    def seed_mixed(rows):
        return rows[0].get("profile") == "seed" and any(r["pair"] == "mixed" for r in rows)
    path, rows = newest(files, "replication-", seed_mixed)
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
    out += ["", source(path)]
    return out


def commit(files):
    """One table per table size, each from the newest file that measured that size."""
    latest = {}
    for path, rows in sorted(files.items()):
        if os.path.basename(path).startswith("commit-"):
            latest[rows[0]["n"]] = (path, rows)
    if not latest:
        return None
    out = []
    for n in sorted(latest):
        out += commit_table(*latest[n]) + [""]
    return out[:-1]


def commit_table(path, rows):
    ok = [r for r in rows if r["outcome"] == "ok"]
    lines = [f"| commit of {rows[0]['n']:,} replicated flows, {len(ok)} good runs, {len(rows) - len(ok)} failed | flows/s, median (min-max) |",
             "|---|---|",
             f"| `conntrackd -c` | {summary([r['conntrackd_c_rate'] for r in ok], '{:.0f}')} |",
             f"| `tandem conntrackd -c` | {summary([r['tandem_c_rate'] for r in ok], '{:.0f}')} |",
             f"| ratio per run, Tandem / conntrackd | {summary([r['tandem_c_rate'] / r['conntrackd_c_rate'] for r in ok])} |",
             f"| kernel ceiling (ctbulk, same namespace) | {summary([r['ctbulk_rate'] for r in ok], '{:.0f}')} |",
             f"| ratio per run, `tandem conntrackd -c` / ctbulk | {summary([r['tandem_c_rate'] / r['ctbulk_rate'] for r in ok])} |"]
    fair = [r for r in ok if r.get("ctbulk_destroy_listener_rate")]
    if fair:
        lines += [f"| ceiling with a DESTROY listener beside it (ctbulk, same namespace) | {summary([r['ctbulk_destroy_listener_rate'] for r in fair], '{:.0f}')} |",
                  f"| ratio per run, `tandem conntrackd -c` / that ceiling | {summary([r['tandem_c_rate'] / r['ctbulk_destroy_listener_rate'] for r in fair])} |",
                  f"| load average (1 min) at Tandem's commit | {summary([r['loadavg_tandem'] for r in fair], '{:.1f}')} |"]
    return lines + ["", source(path)]


def ctnetlink(files):
    path, rows = newest(files, "conntrack-")
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
    out += ["", source(path)]
    return out


def vrrp(files):
    path, rows = newest(files, "vrrp-takeover-")
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
    out += ["", source(path)]
    return out


BLOCKS = {"failover": failover, "promotion": promotion, "replication": replication,
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
