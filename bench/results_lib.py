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


def good(row):
    return row.get("outcome") in ("complete", "sender-short")


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
