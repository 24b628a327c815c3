"""Turns the statement part of bench/run.py's results (JSON) into the statements section of
docs/benchmarks.md (between the statements markers): PDFs per second per worker through the statement
run, against WeasyPrint alone on the same documents, and the ratio."""

import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench:statements:begin -->", "<!-- bench:statements:end -->"
TARGET_PER_SECOND = 20

results = json.loads(Path(sys.argv[1]).read_text())
runs, m = results["runs"].get("statements", []), results["machine"]
items = [item for run in runs for item in run if item.get("name") == "statement run"]
if not items:
    sys.exit("No statement run in the results.")


def median(field):
    return statistics.median(item[field] for item in items)


rate, floor, ratio = (
    median("pdfs_per_second"),
    median("weasyprint_alone_per_second"),
    median("ratio_to_weasyprint"),
)
two = median("two_workers_per_second")
first = items[0]


def verdict(rate):
    return "**met**" if rate >= TARGET_PER_SECOND else f"**missed** ({TARGET_PER_SECOND / rate:.1f}× short)"


target = f"≥ {TARGET_PER_SECOND} PDFs/s per worker"
lines = [
    BEGIN,
    f"Run {results['started']}; {m['cores']} cores ({m['cpu']}); "
    f"load average before {' '.join(m['load_before'])}.",
    "",
    "| what | statements per run | runs | PDFs/s (median) | WeasyPrint alone, same documents "
    "| ratio | target | verdict |",
    "|---|---|---|---|---|---|---|---|",
    f"| one Celery worker as deployed (`--concurrency=2`, docker-compose.yml: two processes sharing the "
    f"run's chunks) | {first['two_workers_statements']} | {len(items)} | {two:.1f} | – | – | {target} "
    f"| {verdict(two)} ({two / rate:.2f}× one process) |",
    f"| one worker process, one core: the run's chunks (`statement_run_chunk`, rolled back) "
    f"| {first['statements']} | {len(items)} | {rate:.1f} | {floor:.1f} | {ratio:.2f} | {target} "
    f"| {verdict(rate)} for one process |",
    f"| WeasyPrint as it comes, same documents (each: its stylesheet parsed, fonts set up, the full HTML "
    f"defaults, the collector at its default) | {first['statements']} | {len(items)} "
    f"| {median('weasyprint_as_it_comes_per_second'):.1f} | – | – | – | – |",
    f"| picking the run (`statement_candidates`, once per run) "
    f"| {first['due']:,} due, {first['held']:,} held "
    f"| {len(items)} | {median('picking_seconds'):.1f} s | – | – | – | – |",
    END,
]
text = DOC.read_text()
start, end = text.index(BEGIN), text.index(END) + len(END)
DOC.write_text(text[:start] + "\n".join(lines) + text[end:])
print(f"wrote the statements section of {DOC}")
