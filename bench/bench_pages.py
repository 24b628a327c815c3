"""Selectors and pages of the hot paths, timed in-process: the selectors alone (evaluated as the page
does, first page of 50), and the pages through Django's test client signed in as the bench biller
(and manager for the landing page). Floor: the bare SQL aggregate over the practice's claims.

Prints one BENCH line per item; times are the median of ``--repeat`` calls after one warm-up."""

import argparse
import statistics

from common import Timer, bench_practice, emit, sql_seconds
from django.core.signals import request_started
from django.db import reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext

from claims.models import Claim, ClaimStatus
from claims.queues.selectors import queue_claims, queue_counts
from claims.selectors import ar_aging, claim_list_filtered, claim_status_counts
from denials.selectors import QueueFilters, decorate, denial_queue
from rcm.models import User

parser = argparse.ArgumentParser()
parser.add_argument("--repeat", type=int, default=15)
parser.add_argument("--only", default="", help="only the items whose name contains this (e.g. denial)")
args = parser.parse_args()

request_started.disconnect(reset_queries)  # so CaptureQueriesContext sees the page's queries
practice = bench_practice()
claim_count = Claim.objects.filter(practice=practice).count()
sample = list(
    Claim.objects.filter(
        practice=practice, status__in=[ClaimStatus.PAID, ClaimStatus.DENIED, ClaimStatus.PARTIALLY_PAID]
    )
    .order_by("?")
    .values_list("pk", flat=True)[: args.repeat + 1]
)


def timed(function) -> tuple[float, float, float]:
    function()
    times = []
    for _ in range(args.repeat):
        with Timer() as timer:
            function()
        times.append(timer.seconds * 1000)
    return statistics.median(times), min(times), max(times)


floor_sql = (
    "SELECT status, COUNT(*), SUM(charge_total), SUM(insurance_balance + patient_balance) "
    "FROM claims_claim WHERE practice_id = %s GROUP BY status"
)
floor = statistics.median(sql_seconds(floor_sql, [practice.pk]) * 1000 for _ in range(args.repeat))
emit(name="floor_sql_status_aggregate", ms=floor, claims=claim_count)

SELECTORS = {
    "selector claim_list (first 50, by DOS)": lambda: list(claim_list_filtered(practice)[:50]),
    "selector claim_list status=denied": lambda: list(claim_list_filtered(practice, status="denied")[:50]),
    "selector claim_status_counts": lambda: claim_status_counts(practice),
    "selector ar_aging": lambda: ar_aging(practice),
    "selector queue denied (first 50, priority)": lambda: list(queue_claims(practice, "denied")[:50]),
    "selector queue no_response (first 50)": lambda: list(queue_claims(practice, "no_response")[:50]),
    "selector queue_counts (6 queues)": lambda: queue_counts(practice),
    "selector denial queue (first 50, by recoverable)": lambda: decorate(
        denial_queue(practice)[:50], practice.pk
    ),
    "selector denial queue (first 50, by deadline)": lambda: decorate(
        denial_queue(practice, QueueFilters(sort="deadline"))[:50], practice.pk
    ),
}
for name, function in SELECTORS.items():
    if args.only not in name:
        continue
    median, low, high = timed(function)
    emit(name=name, ms=median, min_ms=low, max_ms=high, claims=claim_count, floor_ms=floor)

biller = User.objects.get(username="bench-biller")
manager = User.objects.get(username="bench-manager")
PAGES = [
    ("page claim list", biller, "/claims/"),
    ("page claim list status=denied", biller, "/claims/?status=denied"),
    ("page claim detail", biller, None),
    ("page work queues", biller, "/claims/queues/"),
    ("page queue denied", biller, "/claims/queues/denied/"),
    ("page landing (biller)", biller, "/"),
    ("page landing (manager)", manager, "/"),
    ("api claims list", biller, "/api/claims/"),
    ("page denial queue", biller, "/denials/"),
    ("page denial queue by deadline, category coding", biller, "/denials/?sort=deadline&category=coding"),
    ("api denials list", biller, "/api/denials/"),
]
for name, user, url in PAGES:
    if args.only not in name:
        continue
    client = Client()
    client.force_login(user)
    details = iter(sample * 2)

    def get(url=url, client=client, details=details):
        response = client.get(url or f"/claims/{next(details)}/")
        assert response.status_code == 200, (url, response.status_code)

    from django.db import connection

    with CaptureQueriesContext(connection) as queries:
        get()
    median, low, high = timed(get)
    emit(
        name=name,
        ms=median,
        min_ms=low,
        max_ms=high,
        claims=claim_count,
        floor_ms=floor,
        queries=len(queries),
    )
