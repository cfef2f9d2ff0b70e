"""The figures issue 2 asks for, from one run of run.sh.

Usage: ratios.py GOOD_RUNS BAD_RUNS
"""

import statistics
import sys


def medians(path: str) -> dict[str, dict[str, float]]:
    runs: dict[str, list[dict[str, str]]] = {}
    for line in open(path):
        if line.startswith("target="):
            fields = dict(item.split("=", 1) for item in line.split())
            runs.setdefault(fields["target"], []).append(fields)
    out = {}
    for target, rows in runs.items():
        out[target] = {
            key: statistics.median(float(r[key]) for r in rows if r.get(key, "n/a") != "n/a")
            for key in ("rps", "p50_ms", "p99_ms", "server_rss_mb")
        }
        out[target]["max_rss_mb"] = max(
            float(r["server_rss_mb"]) for r in rows if r.get("server_rss_mb", "n/a") != "n/a"
        )
    return out


good, bad = medians(sys.argv[1]), medians(sys.argv[2])
a, p, f = good["autostack"], good["probot"], good["starlette"]
print(
    f"signed deliveries: autostack {a['rps']:.0f} req/s (p50 {a['p50_ms']:.2f} ms, p99 {a['p99_ms']:.2f} ms), "
    f"probot {p['rps']:.0f}, verify-only floor {f['rps']:.0f}"
)
print(
    f"  autostack / probot = {a['rps'] / p['rps']:.2f}x (target >= 1.0), p99 {a['p99_ms']:.2f} ms (target < 25)"
)
ab, pb, fb = bad["autostack"], bad["probot"], bad["starlette"]
print(f"wrongly signed flood: autostack {ab['rps']:.0f} req/s, floor {fb['rps']:.0f}, probot {pb['rps']:.0f}")
print(
    f"  autostack / floor = {ab['rps'] / fb['rps']:.2f}x (target >= 0.8); RSS autostack max {ab['max_rss_mb']:.0f} MB "
    f"(target < 100), probot max {pb['max_rss_mb']:.0f} MB"
)
