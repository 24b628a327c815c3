"""Turns the fee schedule part of bench/run.py's results (JSON) into its section of docs/benchmarks.md
(between the contracts markers): a 20,000-row fee schedule loaded from CSV and from XLSX (issue #13: < 5 s),
with the read alone, the same file again and a file changing every amount."""

import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench:contracts:begin -->", "<!-- bench:contracts:end -->"
TARGET_SECONDS = 5

results = json.loads(Path(sys.argv[1]).read_text())
runs, m = results["runs"], results["machine"]


def field(key, name):
    return [item[name] for run in runs.get(key, []) for item in run if name in item]


def median(numbers, digits=2):
    return f"{statistics.median(numbers):.{digits}f}" if numbers else "–"


lines = [
    BEGIN,
    f"Run {results['started']} → {results['finished']}; {m['cores']} cores ({m['cpu']}); load average "
    f"before {' '.join(m['load_before'])}, after {' '.join(m.get('load_after', []))} (other work shared the "
    "machine). "
    f"{results['repeat']} runs each, each in a fresh process, rolled back. CPU s is the process's own time "
    "(what the load of the shared machine does not inflate).",
    "",
    "| file | rows | size | import: median s (min–max) | CPU s | read + check alone | same file again "
    "| every amount changed | peak RSS | target | verdict |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
]
for key in ("fee_schedule_csv", "fee_schedule_xlsx"):
    seconds = field(key, "seconds")
    if not seconds:
        errors = [item.get("error") for run in runs.get(key, []) for item in run if "error" in item]
        lines.append(
            f"| {key.rsplit('_', 1)[1]} | not measured{': ' + str(errors[0]) if errors else ''} |" + " |" * 9
        )
        continue
    value = statistics.median(seconds)
    verdict = (
        "**met**" if value < TARGET_SECONDS else f"**missed** ({value / TARGET_SECONDS:.1f}× the target)"
    )
    lines.append(
        f"| {field(key, 'format')[0]} | {field(key, 'rows')[0]:,} | {field(key, 'bytes')[0] / 1024:.0f} KB | "
        f"{median(seconds)} ({min(seconds):.2f}–{max(seconds):.2f}) | {median(field(key, 'cpu_seconds'))} | "
        f"{median(field(key, 'read_seconds'))} s | {median(field(key, 'again_seconds'))} s | "
        f"{median(field(key, 'update_seconds'))} s | {max(field(key, 'peak_rss_mb')):.0f} MB | "
        f"< {TARGET_SECONDS} s | {verdict} |"
    )
lines.append(END)
text = DOC.read_text()
if BEGIN not in text:
    text = text.rstrip("\n") + f"\n\n## Fee schedule import: results\n\n{BEGIN}\n{END}\n"
before, _, rest = text.partition(BEGIN)
_, _, after = rest.partition(END)
DOC.write_text(before + "\n".join(lines) + after)
print(f"updated {DOC} (fee schedule section)")
