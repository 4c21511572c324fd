"""What bench/report and its README tables share: reading a results file and summarising a
list of per-run figures as median (min-max)."""
import json
import statistics


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def summary(values, fmt="{:.2f}"):
    values = [v for v in values if isinstance(v, (int, float))]
    if not values:
        return "-"
    values.sort()
    return f"{fmt.format(statistics.median_low(values))} ({fmt.format(values[0])}-{fmt.format(values[-1])})"


# Fewer runs than this make a figure a look, not a result: the README publishes none of them,
# and docs/benchmarks.md labels them.
MIN_RUNS = 5


def fewer_runs_note(runs):
    """The label a summary over `runs` (< MIN_RUNS) carries; empty when it may be published."""
    return "" if runs >= MIN_RUNS else f"{runs} run{'s' if runs != 1 else ''}, not a published figure"


def good(row):
    """A replication run is good when B holds every flow, or all a conntrackd sender held
    (its own missed kernel events); a Tandem sender stopping short is a failed run."""
    if row.get("outcome") == "complete":
        return True
    return row.get("outcome") == "sender-short" and row.get("pair") in ("conntrackd", "mixed")


def replication_iterations(group):
    """The replication bench runs the pairs in turn; an iteration starts with conntrackd's pair."""
    iterations = []
    for r in group:
        if r["pair"] == "conntrackd" or not iterations:
            iterations.append({})
        iterations[-1][r["pair"]] = r
    return iterations


def replication_ratios(iterations, pair, keys=("secs", "us_a", "us_b", "bpf_b")):
    """Per-iteration ratios of `pair` to conntrackd → conntrackd, good runs only."""
    ratios = {k: [] for k in keys}
    for it in iterations:
        c, t = it.get("conntrackd"), it.get(pair)
        if not c or not t or not good(c) or not good(t):
            continue
        for k in ratios:
            if isinstance(c.get(k), (int, float)) and c[k] > 0 and isinstance(t.get(k), (int, float)):
                ratios[k].append(t[k] / c[k])
    return ratios


def failover_cells(rows):
    """One failover row's figures over its good runs: TCP and UDP+ICMP survived, TCP stall
    p50 / max, all-flows-in p50, commit before the VIPs."""
    ok = [r for r in rows if r["outcome"] == "ok"]
    stalls = sorted(s for r in ok for s in r["tcp_stalls_ms"])
    allin = [r["all_in_ms"] for r in ok if r["all_in_ms"] is not None]
    return {
        "ok": ok,
        "tcp": f"{sum(r['tcp_survived'] for r in ok)}/{sum(r['tcp_sessions'] for r in ok)}",
        "other": f"{sum(r['udp_icmp_survived'] for r in ok)}/{sum(r['udp_icmp_sessions'] for r in ok)}",
        "stall": f"{statistics.median_low(stalls) if stalls else '-'} / {stalls[-1] if stalls else '-'}",
        "allin": f"{statistics.median_low(allin) if allin else '-'}",
        "early": f"{sum(1 for r in ok if r['commit_before_vips'])}/{len(allin)}",
    }


def vrrp_ratios(group):
    """Tandem / keepalived from the packet, per iteration where both runs were good."""
    by_run = {}
    for r in group:
        if r["outcome"] == "ok":
            by_run.setdefault(r["run"], {})[r["impl"]] = r["from_packet_ms"]
    return [v["tandem"] / v["keepalived"] for v in by_run.values() if "tandem" in v and "keepalived" in v and v["keepalived"] > 0]


def commit_outside(row, who):
    """`who -c` timed from outside (the client call, until the kernel holds the flows). Files
    from before the daemons' own times were recorded kept that figure in `*_c_rate`; later
    ones keep it in `*_c_wall_rate` and the daemon's own "commit has taken" in `*_c_rate`."""
    return row.get(f"{who}_c_wall_rate", row[f"{who}_c_rate"])
