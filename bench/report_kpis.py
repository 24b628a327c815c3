"""Turns the KPI part of bench/run.py's results (JSON) into the KPI section of docs/benchmarks.md (between
the kpis markers): the history backfill, the nightly run against its bare SQL floor, and the KPI pages
under load."""

import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench:kpis:begin -->", "<!-- bench:kpis:end -->"
NIGHTLY_SECONDS, NIGHTLY_RATIO = 120, 2.0
TARGETS_MS = {"kpi dashboard": 150}  # the drill-downs: 200 ms
DRILL_DOWN_MS = 200

results = json.loads(Path(sys.argv[1]).read_text())
runs, m, d = results["runs"], results["machine"], results["database"]


def spread(numbers, digits=2):
    return f"{statistics.median(numbers):.{digits}f}", f"{min(numbers):.{digits}f}–{max(numbers):.{digits}f}"


def verdict(value, target, unit=""):
    if value <= target:
        return "**met**"
    return f"**missed** ({value / target:.1f}× the target{unit})"


lines = [
    BEGIN,
    f"Run {results['started']} → {results['finished']}; {m['cores']} cores ({m['cpu']}), {m['memory_gb']} GB "
    f"RAM; load average before {' '.join(m['load_before'])}, after {' '.join(m.get('load_after', []))} "
    f"(other work shared the machine). Data: {d['claims']:,} claims ({d['lines']:,} lines, "
    f"{d['transactions']:,} ledger rows, {d['status_changes']:,} status changes) in {d['practices']} "
    f"practices, {d['size']}, {d['version']}.",
    "",
    "| what | data | median | spread (min–max) | peak RSS | floor / ratio | target | verdict |",
    "|---|---|---|---|---|---|---|---|",
]
for item in (item for run in runs.get("kpi_backfill", []) for item in run):
    if "seconds" not in item:
        lines.append(f"| KPI backfill | error: {item.get('error')} | | | | | | |")
        continue
    lines.append(
        f"| KPI backfill (`kpi_snapshots_compute`, {item['days']} days, committed) | {item['practice']}: "
        f"{item['claims']:,} claims, {item['start']} to {item['end']}, {item['rows']:,} rows | "
        f"{item['seconds']:.1f} s | one run | {item['peak_rss_mb']:.0f} MB | – | – | – |"
    )
nightly = [item for run in runs.get("kpi_nightly", []) for item in run if "seconds" in item]
for item in (item for run in runs.get("kpi_nightly", []) for item in run if "seconds" not in item):
    lines.append(f"| KPI nightly | error: {item.get('error')} | | | | | | |")
if nightly:
    first = nightly[0]
    seconds = [item["seconds"] for item in nightly]
    ratios = [item["ratio"] for item in nightly]
    med, rng = spread(seconds)
    ratio = statistics.median(ratios)
    lines.append(
        f"| KPI nightly (`kpi_snapshots_compute`, {first['days']} days, rolled back) | "
        f"{first['practice']}: {first['claims']:,} claims, {first['start']} to {first['end']}, "
        f"{first['rows']:,} rows | {med} s | {rng} | {max(i['peak_rss_mb'] for i in nightly):.0f} MB | "
        f"bare SQL {spread([i['floor_seconds'] for i in nightly])[0]} s; ratio {ratio:.2f}× "
        f"({min(ratios):.2f}–{max(ratios):.2f}) | < {NIGHTLY_SECONDS} s and ≤ {NIGHTLY_RATIO:g}× the floor | "
        f"time {verdict(statistics.median(seconds), NIGHTLY_SECONDS)}; "
        f"ratio {verdict(ratio, NIGHTLY_RATIO)} |"
    )
    lines += [
        "",
        "The floor, statement by statement (median s, rows fetched):",
        "",
        "| bare SQL | s |",
        "|---|---|",
    ]
    for part in first["floor_parts"]:
        lines.append(f"| {part} | {statistics.median(i['floor_parts'][part] for i in nightly):.2f} |")
pages = [item for run in runs.get("load", []) for item in run if item.get("name", "").startswith("load kpi ")]
if pages:
    lines += [
        "",
        f"KPI pages under gunicorn ({pages[0].get('workers')} workers), {pages[0].get('users')} signed-in "
        f"managers, {pages[0].get('seconds')} s per page, loopback (users pausing 1-3 s: the targets' case; "
        "no pause: capacity):",
        "",
        "| page | users pause | requests | errors | req/s | p50 ms | p95 ms | p99 ms | target (p95) "
        "| verdict |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for item in pages:
        page = item["name"].removeprefix("load ")
        if "p95_ms" not in item:
            lines.append(f"| {page} | | error: {item.get('error')} | | | | | | | |")
            continue
        target = TARGETS_MS.get(page, DRILL_DOWN_MS)
        think = item.get("think", "0")
        lines.append(
            f"| {page} | {'none' if think == '0' else think + ' s'} | {item['requests']:,} | "
            f"{item['errors']} | {item['rps']} | {item['p50_ms']} | {item['p95_ms']} | "
            f"{item['p99_ms']} | < {target} ms | "
            f"{verdict(item['p95_ms'], target) if think != '0' else '– (capacity)'} |"
        )
lines.append(END)
text = DOC.read_text()
if BEGIN not in text:
    text = text.rstrip("\n") + f"\n\n## KPI snapshots and pages: results\n\n{BEGIN}\n{END}\n"
before, _, rest = text.partition(BEGIN)
_, _, after = rest.partition(END)
DOC.write_text(before + "\n".join(lines) + after)
print(f"updated {DOC} (KPI section)")
