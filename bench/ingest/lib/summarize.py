"""Summarise ingest.sh result lines: median (min..max) per target and variant.

Usage: summarize.py RUNS_FILE   (one ingest.sh result line per line; other lines ignored)
"""

import statistics
import sys
from collections import OrderedDict

FIELDS = [
    ("rps", "req/s", "{:.0f}"),
    ("p50_ms", "p50 ms", "{:.2f}"),
    ("p99_ms", "p99 ms", "{:.2f}"),
    ("server_cpu_pct", "srv CPU %", "{:.0f}"),
    ("server_rss_mb", "RSS MB", "{:.0f}"),
    ("others_cpu_pct", "others CPU %", "{:.0f}"),
    ("others_on_server_cpu_pct", "others on srv CPU %", "{:.0f}"),
]

groups = OrderedDict()
for line in open(sys.argv[1]):
    if not line.startswith("target="):
        continue
    kv = dict(item.split("=", 1) for item in line.split())
    groups.setdefault((kv["target"], kv["variant"]), []).append(kv)

head = ["target", "variant", "n"] + [label for _, label, _ in FIELDS] + ["non2xx", "sock err"]
rows = []
for (target, variant), runs in groups.items():
    row = [target, variant, str(len(runs))]
    for key, _, fmt in FIELDS:
        vals = [float(r[key]) for r in runs if r.get(key, "n/a") != "n/a"]
        if not vals:
            row.append("n/a")
            continue
        row.append(
            f"{fmt.format(statistics.median(vals))} ({fmt.format(min(vals))}..{fmt.format(max(vals))})"
        )
    row.append(str(sum(int(r["non2xx"]) for r in runs)))
    row.append(str(sum(int(r["sock_errors"]) for r in runs)))
    rows.append(row)

print("| " + " | ".join(head) + " |")
print("|" + "---|" * len(head))
for row in rows:
    print("| " + " | ".join(row) + " |")
print("\nmedian (min..max) over n runs; non2xx and sock err are totals over the n runs.")
