"""Statement run throughput: PDFs per second per worker through ``statement_run`` (pick, read each
account, render, record, move claims to patient-billed), against WeasyPrint alone turning the same
statements' HTML into PDF (the floor); reports the ratio. Rolled back: every run sees the same data.

Usage: python bench/bench_statements.py [--practice bench-001] [--statements 200]
"""

import argparse

from common import Timer, bench_practice, emit, rolled_back
from django.utils import timezone

parser = argparse.ArgumentParser()
parser.add_argument("--practice", default="bench-001")
parser.add_argument("--statements", type=int, default=200, help="how many statements each measure makes")
args = parser.parse_args()

from payment_plans.statements import (  # noqa: E402
    html_to_pdf,
    statement_candidates,
    statement_context,
    statement_html,
    statement_run,
)

practice = bench_practice(args.practice)
today = timezone.localdate()
patients = statement_candidates(practice, today=today)[0][: args.statements]
if not patients:
    raise SystemExit(f"No patient of {practice.slug} owes a balance: nothing to bench.")
html_to_pdf("<p>warm-up</p>")  # fonts and Pango loaded once, outside both measures

documents = [statement_html(statement_context(patient, today=today)) for patient in patients]
with Timer() as floor:
    sizes = [len(html_to_pdf(html)) for html in documents]
floor_rate = len(documents) / floor.seconds

result = {}


def run():
    with Timer() as timer:
        result["run"] = statement_run(practice=practice, today=today, limit=len(patients))
    result["seconds"] = timer.seconds


rolled_back(run)
run_rate = result["run"].sent / result["seconds"]
emit(
    name="statement run",
    statements=result["run"].sent,
    seconds=round(result["seconds"], 3),
    pdfs_per_second=round(run_rate, 1),
    weasyprint_alone_per_second=round(floor_rate, 1),
    ratio_to_weasyprint=round(run_rate / floor_rate, 3),
    mean_pdf_kb=round(sum(sizes) / len(sizes) / 1024, 1),
)
