"""Statement run throughput: PDFs per second per worker, against WeasyPrint alone turning the same
statements' HTML into PDF (the floor), and the ratio.

A run is picked once (``statement_candidates``: every patient of the practice with a balance, timed on its
own) and then rendered in chunks, each a Celery task (``statement_run_chunk``: read each account, render,
record, move the claims to patient-billed). One worker process's rate is the chunks' statements over their
time; the same statements shared by two processes (as the two processes of a worker deployed with
``--concurrency=2``, or two workers, take chunks side by side) give a deployed worker's rate on this
machine. Rolled back: every measure sees the same data.

Usage: python bench/bench_statements.py [--practice bench-001] [--statements 200]
"""

import argparse
import multiprocessing
import os
import time

from common import Timer, bench_practice, emit, rolled_back
from django.db import connections
from django.utils import timezone

parser = argparse.ArgumentParser()
parser.add_argument("--practice", default="bench-001")
parser.add_argument("--statements", type=int, default=200, help="how many statements each measure makes")
args = parser.parse_args()

from payment_plans.models import StatementRunSource  # noqa: E402
from payment_plans.statements import (  # noqa: E402
    RUN_CHUNK_SIZE,
    STATEMENT_CSS,
    _run_record,
    statement_candidates,
    statement_context,
    statement_html,
    statement_html_to_pdf,
    statement_run_chunk,
)
from rcm.celery import freeze_worker_heap  # noqa: E402
from rcm.models import Patient  # noqa: E402
from rcm.pdf import stylesheet_source  # noqa: E402

practice = bench_practice(args.practice)
today = timezone.localdate()
with Timer() as picking:
    due, held = statement_candidates(practice, today=today)
patients = due[: args.statements]
by_id = Patient.objects.select_related("practice").in_bulk([p.pk for p in patients])
if not patients:
    raise SystemExit(f"No patient of {practice.slug} owes a balance: nothing to bench.")
statement_html_to_pdf("<p>warm-up</p>")  # fonts and Pango loaded once, outside the measures
documents = [statement_html(statement_context(by_id[p.pk], today=today)) for p in patients]

# WeasyPrint as it comes: each document on its own (its stylesheet parsed, fonts set up, the full HTML
# defaults, the collector at its default), before the worker's start-up below.
from weasyprint import CSS, HTML  # noqa: E402

css_text = stylesheet_source(STATEMENT_CSS)
with Timer() as plain:
    for html in documents:
        HTML(string=html).write_pdf(stylesheets=[CSS(string=css_text)])
plain_rate = len(documents) / plain.seconds

freeze_worker_heap()  # as a worker does once started (rcm.celery)
with Timer() as floor:
    sizes = [len(statement_html_to_pdf(html)) for html in documents]
floor_rate = len(documents) / floor.seconds


def render(share) -> dict:
    """Record a run of ``share`` and render its chunks as one worker would (the picking is not in it)."""
    record, chunk_ids = _run_record(practice, today, share, {}, None, StatementRunSource.BEAT, RUN_CHUNK_SIZE)
    with Timer() as timer:
        sent = sum(statement_run_chunk(chunk_id).sent for chunk_id in chunk_ids)
    return {"sent": sent, "seconds": timer.seconds}


one = rolled_back(lambda: render(patients))
one_rate = one["sent"] / one["seconds"]


def worker(share, out) -> None:
    try:
        out.send(rolled_back(lambda: render(share)))
    finally:
        connections.close_all()


# Two workers, each its own process and connection (none of the parent's may be shared after a fork).
connections.close_all()
for alias in connections:
    if hasattr(connections[alias], "close_pool"):
        connections[alias].close_pool()
context = multiprocessing.get_context("fork")
pipes, processes = [], []
started = time.perf_counter()
for share in (patients[0::2], patients[1::2]):
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=worker, args=(share, send))
    process.start()
    pipes.append(receive)
    processes.append(process)
both = [pipe.recv() for pipe in pipes]
for process in processes:
    process.join()
wall = time.perf_counter() - started
two_sent = sum(item["sent"] for item in both)

emit(
    name="statement run",
    statements=one["sent"],
    seconds=round(one["seconds"], 3),
    pdfs_per_second=round(one_rate, 1),
    weasyprint_alone_per_second=round(floor_rate, 1),
    weasyprint_as_it_comes_per_second=round(plain_rate, 1),
    ratio_to_weasyprint=round(one_rate / floor_rate, 3),
    picking_seconds=round(picking.seconds, 2),
    due=len(due),
    held=len(held),
    two_workers_statements=two_sent,
    two_workers_seconds=round(wall, 3),
    two_workers_per_second=round(two_sent / wall, 1),
    mean_pdf_kb=round(sum(sizes) / len(sizes) / 1024, 1),
    cpus=os.cpu_count(),
)
