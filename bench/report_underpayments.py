"""Turns the underpayment part of bench/run.py's results (JSON) into its section of docs/benchmarks.md
(between the underpayments markers): the variance recompute against its bare SQL join, and the payer
scorecard page."""

import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench:underpayments:begin -->", "<!-- bench:underpayments:end -->"
VARIANCES_SECONDS_PER_MILLION = 60  # issue 13: 1,000,000 lines under 60 s on PostgreSQL
SCORECARD_MS = 300  # issue 13: 20 payers x 12 months at 1,000,000 claims

results = json.loads(Path(sys.argv[1]).read_text())
runs, m, d = results["runs"], results["machine"], results["database"]


def items(key: str) -> list[dict]:
    return [item for run in runs.get(key, []) for item in run]


def spread(numbers, digits=2):
    return f"{statistics.median(numbers):.{digits}f}", f"{min(numbers):.{digits}f}–{max(numbers):.{digits}f}"


lines = [
    BEGIN,
    f"Run {results['started']} → {results['finished']}; {m['cores']} cores ({m['cpu']}), {m['memory_gb']} GB "
    f"RAM; load average before {' '.join(m['load_before'])}. Data: {d['claims']:,} claims ({d['lines']:,} "
    f"lines) in {d['practices']} practices, {d['size']}, {d['version']}.",
    "",
    "| what | data | median | spread (min–max) | floor / ratio | target | verdict |",
    "|---|---|---|---|---|---|---|",
]
variances = [item for item in items("underpayment_variances") if "seconds" in item]
if variances:
    first = variances[0]
    seconds = [item["seconds"] for item in variances]
    floors = [item["floor_seconds"] for item in variances]
    median, span = spread(seconds)
    per_million = statistics.median(seconds) * 1_000_000 / max(first["adjudicated_lines"], 1)
    lines.append(
        f"| variances recomputed (`variances_recompute`, 2 processes, committed) | {first['practice']}: "
        f"{first['adjudicated_lines']:,} adjudicated lines, {first['underpayments']:,} underpayments | "
        f"{median} s | {span} s | bare SQL join {statistics.median(floors):.2f} s / "
        f"{statistics.median(seconds) / statistics.median(floors):.1f}× | 1,000,000 lines < 60 s "
        f"(≈ {per_million:.0f} s per million here) | "
        f"{'**met**' if per_million <= VARIANCES_SECONDS_PER_MILLION else '**missed**'} (extrapolated) |"
    )
scorecards = [item for item in items("payer_scorecard") if "ms" in item]
if scorecards:
    first = scorecards[0]
    median, span = spread([item["ms"] for item in scorecards], 1)
    lines.append(
        f"| payer scorecard page (12 months, {first['queries']} queries) | {first['practice']}: "
        f"{first['payers']} payers ({first.get('payers_in_bench_data', first['payers'])} from the bench "
        f"data, the others copies of their months), {first['month_rows']} payer-months | {median} ms | "
        f"{span} ms | – | "
        f"< {SCORECARD_MS} ms | {'**met**' if float(median) < SCORECARD_MS else '**missed**'} |"
    )
for item in items("underpayment_variances") + items("payer_scorecard"):
    if "error" in item:
        lines.append(f"| {item['name']} | error: {item['error']} | | | | | |")
lines.append(END)
text = DOC.read_text()
if BEGIN not in text:
    text = text.rstrip("\n") + f"\n\n## Underpayments and the payer scorecard: results\n\n{BEGIN}\n{END}\n"
before, _, rest = text.partition(BEGIN)
_, _, after = rest.partition(END)
DOC.write_text(before + "\n".join(lines) + after)
print(f"updated {DOC} (underpayments section)")
