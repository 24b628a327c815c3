"""Turns bench/run.py's results (JSON) into the tables of docs/benchmarks.md (between the markers)."""

import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench:results:begin -->", "<!-- bench:results:end -->"

results = json.loads(Path(sys.argv[1]).read_text())
runs = results["runs"]


def values(key, field, name=None):
    out = []
    for run in runs.get(key, []):
        for item in run:
            if (name is None or item.get("name") == name) and field in item:
                out.append(item[field])
    return out


def spread(numbers, digits=2):
    if not numbers:
        return "–", "–"
    return (
        f"{statistics.median(numbers):.{digits}f}",
        f"{min(numbers):.{digits}f}–{max(numbers):.{digits}f}",
    )


def verdict(value, target, lower_is_better=True):
    if value is None:
        return "not measured"
    ok = value < target if lower_is_better else value >= target
    if ok:
        return "**met**"
    factor = value / target if lower_is_better else target / value
    return f"**missed** ({factor:.1f}× the target)"


m, d = results["machine"], results["database"]
lines = [
    BEGIN,
    f"Run {results['started']} → {results['finished']}; {results['repeat']} runs each unless noted "
    "(each in a fresh process).",
    "",
    f"**Machine**: {m['cores']} cores ({m['cpu']}), {m['memory_gb']} GB RAM, Python {m['python']}; "
    f"load average before {' '.join(m['load_before'])}, after {' '.join(m.get('load_after', []))} "
    "(other work shared the machine).",
    "",
    f"**Database**: {d['version']}, {d['size']}: {d['claims']:,} claims ({d['lines']:,} lines, "
    f"{d['transactions']:,} ledger rows, {d['status_changes']:,} status changes, "
    f"{d['remittance_claims']:,} claim payments on {d['remittances']:,} remittances) "
    f"in {d['practices']} practices; {d['patients']:,} patients. "
    f"Pages and selectors are measured on practice bench-001 ({d['bench_001_claims']:,} claims).",
    "",
    "### Batch work",
    "",
    "| what | data | median | spread (min–max) | peak RSS | floor / ratio | target | verdict |",
    "|---|---|---|---|---|---|---|---|",
]
scrub_rate = values("scrub", "rate")
scrub_claims = values("scrub", "claims")
scrub_floor = values("scrub", "floor_seconds")
med, rng = spread(scrub_rate, 0)
lines.append(
    f"| scrub (`claims_scrub`, rolled back) | {scrub_claims[0] if scrub_claims else '–':,} claims "
    f"| {med} claims/s | {rng} "
    f"| {max(values('scrub', 'peak_rss_mb'), default=0):.0f} MB | loading the same claims: "
    f"{spread(scrub_floor)[0]} s | ≥ 2,000 claims/s | "
    f"{verdict(statistics.median(scrub_rate) if scrub_rate else None, 2000, lower_is_better=False)} |"
)
build = values("837p_build", "seconds")
med, rng = spread(build)
segments = values("837p_build", "segments")
lines.append(
    "| 837P build (load + write, no validation) | "
    f"{values('837p_build', 'claims')[0] if build else '–':,} claims, "
    f"{segments[0] if segments else 0:,} segments | {med} s | {rng} | "
    f"{max(values('837p_build', 'peak_rss_mb'), default=0):.0f} MB | – | < 20 s | "
    f"{verdict(statistics.median(build) if build else None, 20)} |"
)
validated = values("837p_build_validate", "seconds")
validation = values("837p_build_validate", "validate_seconds")
med, rng = spread(validated)
lines.append(
    f"| 837P build + pyx12 validation (what `claims_submit` does) | same | {med} s | {rng} | "
    f"{max(values('837p_build_validate', 'peak_rss_mb'), default=0):.0f} MB | pyx12 alone: "
    f"{spread(validation)[0]} s | < 20 s | "
    f"{verdict(statistics.median(validated) if validated else None, 20)} |"
)
pyx12 = values("835_pyx12", "seconds")
read = values("835_read", "seconds")
setup = (runs.get("835_setup") or [[{}]])[0]
setup = setup[0] if setup else {}
for mode, label in (
    ("post", "835 import + post (`x12_import(validate=False)`, rolled back)"),
    ("import", "835 import as the command runs it (pyx12 validation + post)"),
):
    seconds = values(f"835_{mode}", "seconds")
    med, rng = spread(seconds)
    rss = max(values(f"835_{mode}", "peak_rss_mb"), default=0)
    ratio = (
        f"{statistics.median(seconds) / statistics.median(pyx12):.2f}× "
        f"pyx12's {statistics.median(pyx12):.1f} s"
        if seconds and pyx12
        else "–"
    )
    time_verdict = verdict(statistics.median(seconds) if seconds else None, 15)
    memory_verdict = verdict(rss if seconds else None, 500)
    lines.append(
        f"| {label} | {setup.get('claims', 0):,} claims, {setup.get('segments', 0):,} segments, "
        f"{setup.get('transaction_sets', 0)} ST/SE | {med} s | {rng} | {rss:.0f} MB | {ratio} | "
        "< 15 s, < 500 MB | "
        f"time {time_verdict}; memory {memory_verdict} |"
    )
med, rng = spread(pyx12)
lines.append(
    f"| floor: pyx12 parse + validate of the same 835 | same file | {med} s | {rng} | "
    f"{max(values('835_pyx12', 'peak_rss_mb'), default=0):.0f} MB | – | – | – |"
)
med, rng = spread(read, 4)
lines.append(f"| floor: plain read of the 835 file | same file | {med} s | {rng} | – | – | – | – |")
check = values("ledger_check", "seconds")
med, rng = spread(check)
lines.append(
    "| `ledger_check` on a random sample | "
    f"{values('ledger_check', 'claims')[0] if check else 0:,} claims | {med} s | "
    f"{rng} | {max(values('ledger_check', 'peak_rss_mb'), default=0):.0f} MB | problems found: "
    f"{sum(values('ledger_check', 'problems'))} "
    f"(+ `bench_check`: {sum(values('ledger_check', 'bench_check_problems'))}) "
    f"| – | – |"
)
reminders = values("reminders_daily", "seconds")
med, rng = spread(reminders)
lines.append(
    "| daily reminder job (`reminders_run`: missed installments, plan statuses, reminders; rolled back) | "
    f"{values('reminders_daily', 'open_installments')[0] if reminders else 0:,} open installments, "
    f"{values('reminders_daily', 'sent')[0] if reminders else 0:,} messages | {med} s | {rng} | "
    f"{max(values('reminders_daily', 'peak_rss_mb'), default=0):.0f} MB | what is due (queries alone): "
    f"{spread(values('reminders_daily', 'floor_seconds'))[0]} s | < 60 s for 100,000 open | "
    f"{verdict(statistics.median(reminders) if reminders else None, 60)} |"
)
lines += [
    "",
    "### Selectors and pages (in process, Django test client; median of 15 after a warm-up)",
    "",
    "| what | median ms | min–max ms | queries | ratio to the bare SQL floor |",
    "|---|---|---|---|---|",
]
floor = next(
    (
        item["ms"]
        for run in runs.get("pages", [])
        for item in run
        if item["name"] == "floor_sql_status_aggregate"
    ),
    None,
)
for run in runs.get("pages", []):
    for item in run:
        if item["name"] == "floor_sql_status_aggregate":
            lines.append(
                "| floor: bare SQL status aggregate over the practice's claims | "
                f"{item['ms']:.1f} | – | 1 | 1× |"
            )
            continue
        if "ms" not in item:
            lines.append(f"| {item['name']} | error: {item.get('error')} | | | |")
            continue
        ratio = f"{item['ms'] / floor:.1f}×" if floor else "–"
        lines.append(
            f"| {item['name']} | {item['ms']:.1f} | {item['min_ms']:.1f}–{item['max_ms']:.1f} | "
            f"{item.get('queries', '–')} | {ratio} |"
        )
# The KPI pages have their own section (bench/report_kpis.py).
load = [
    item for run in runs.get("load", []) for item in run if not item.get("name", "").startswith("load kpi ")
]
if load:
    targets = {
        "queue denied": 200,
        "queue underpaid": 200,
        "work queues": 200,
        "claim list": 200,
        "claim list status=denied": 200,
        "claim detail": 100,
    }
    lines += [
        "",
        f"### Load test: gunicorn ({load[0].get('workers')} workers), "
        f"{load[0].get('users')} signed-in users, "
        f"{load[0].get('seconds')} s per page, loopback",
        "",
        "Two runs: users working (each pauses a random 1-3 s between pages, as people do: "
        "the targets' case), "
        "then the same 20 users with no pause at all (every user always waiting on a request: the server's "
        "capacity on two cores shared with the database and the load client).",
        "",
        "| page | users pause | requests | errors | throughput req/s | p50 ms | p95 ms | p99 ms "
        "| target (p95) | verdict |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for item in load:
        if "p95_ms" not in item:
            lines.append(f"| {item['name']} | | error: {item.get('error')} | | | | | | | |")
            continue
        page = item["name"].removeprefix("load ")
        target = targets.get(page)
        think = item.get("think", "0")
        lines.append(
            f"| {page} | {'none' if think == '0' else think + ' s'} | "
            f"{item['requests']:,} | {item['errors']} | "
            f"{item['rps']} | {item['p50_ms']} | {item['p95_ms']} | "
            f"{item['p99_ms']} | {f'< {target} ms' if target else '–'} | "
            f"{verdict(item['p95_ms'], target) if target else '–'} |"
        )
lines.append(END)
text = DOC.read_text() if DOC.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
before, _, rest = text.partition(BEGIN)
_, _, after = rest.partition(END)
DOC.write_text(before + "\n".join(lines) + after)
print(f"updated {DOC}")
