"""Turns the denials part of bench/run.py's results (JSON) into the denials section of docs/benchmarks.md
(between the denials markers): the analytics and queue pages in process, the same pages under load (p95 at
20 users), and the nightly denial risk run."""

import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench:denials:begin -->", "<!-- bench:denials:end -->"
PAGE_P95_MS = 200  # the denial queue and analytics at 1,000,000 claims, 20 users (#12)
RISK_SECONDS = 120  # the nightly risk run of a 500,000-claim practice (#12)

results = json.loads(Path(sys.argv[1]).read_text())
runs, m, d = results["runs"], results["machine"], results["database"]


def verdict(value, target):
    return "**met**" if value <= target else f"**missed** ({value / target:.1f}× the target)"


lines = [
    BEGIN,
    f"Run {results['started']} → {results['finished']}; {m['cores']} cores ({m['cpu']}), {m['memory_gb']} GB "
    f"RAM; load average before {' '.join(m['load_before'])}, after {' '.join(m.get('load_after', []))}. "
    f"Data: {d['claims']:,} claims in {d['practices']} practices ({d['bench_001_claims']:,} in bench-001), "
    f"{d['size']}, {d['version']}.",
    "",
    "| what | data | median | spread (min–max) | peak RSS |",
    "|---|---|---|---|---|",
]
for item in (item for run in runs.get("denial_pages", []) for item in run):
    if "ms" not in item:
        lines.append(f"| {item.get('name')} | error: {item.get('error')} | | | |")
        continue
    lines.append(
        f"| {item['name']} | {item['claims']:,} claims, {item['denials']:,} denials | {item['ms']:.0f} ms | "
        f"{item['min_ms']:.0f}–{item['max_ms']:.0f} ms | {item['peak_rss_mb']:.0f} MB |"
    )
risk = [
    item
    for run in runs.get("denial_risk", [])
    for item in run
    if item.get("name") == "denial risk nightly run"
]
reads = [
    item
    for run in runs.get("denial_risk", [])
    for item in run
    if item.get("name") == "denial risk history read"
]
if risk:
    seconds = [item["seconds"] for item in risk]
    first = risk[0]
    lines.append(
        f"| denial risk nightly run (`denial_risks_compute`, rolled back) | {first['claims']:,} claims, "
        f"{first['outcome_lines']:,} adjudicated lines in 6 months, {first['ready_claims']:,} ready claims | "
        f"{statistics.median(seconds):.1f} s ({verdict(statistics.median(seconds), RISK_SECONDS)}: "
        f"< {RISK_SECONDS} s) | {min(seconds):.1f}–{max(seconds):.1f} s | "
        f"{max(i['peak_rss_mb'] for i in risk):.0f} MB |"
    )
if reads:
    seconds = [item["seconds"] for item in reads]
    lines.append(
        f"| of which the history read (`risk_outcomes`) | | {statistics.median(seconds):.1f} s | "
        f"{min(seconds):.1f}–{max(seconds):.1f} s | |"
    )
load = [
    item for run in runs.get("load", []) for item in run if item.get("name", "").startswith("load denial ")
]
if load:
    lines += [
        "",
        f"Under gunicorn ({load[0].get('workers')} workers), {load[0].get('users')} signed-in users, "
        f"{load[0].get('seconds')} s per page, loopback:",
        "",
        "| page | users pause | requests | errors | req/s | p50 ms | p95 ms | p99 ms | target (p95) "
        "| verdict |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for item in load:
        page = item["name"].removeprefix("load ")
        if "p95_ms" not in item:
            lines.append(f"| {page} | | error: {item.get('error')} | | | | | | | |")
            continue
        think = item.get("think", "0")
        lines.append(
            f"| {page} | {'none' if think == '0' else think + ' s'} | {item['requests']:,} | "
            f"{item['errors']} | {item['rps']} | {item['p50_ms']} | {item['p95_ms']} | {item['p99_ms']} | "
            f"< {PAGE_P95_MS} ms | "
            f"{verdict(item['p95_ms'], PAGE_P95_MS) if think != '0' else '– (capacity)'} |"
        )
lines.append(END)
text = DOC.read_text()
if BEGIN not in text:
    text = text.rstrip("\n") + f"\n\n## Denials: results\n\n{BEGIN}\n{END}\n"
before, _, rest = text.partition(BEGIN)
_, _, after = rest.partition(END)
DOC.write_text(before + "\n".join(lines) + after)
print(f"updated {DOC} (denials section)")
