"""The denials benchmarks, in process on the bench practice (bench-001: 500,000 claims at 1,000,000):

``--mode pages``: the denial analytics selector and page (the default twelve months), the denials behind its
biggest root cause, and the analytics API (the denial work queue is ``bench_pages.py --only denial``);
median of ``--repeat`` calls after a warm-up (the pages' query counts are asserted by the tests).
``--mode risk``: the nightly denial risk run for the practice (``denial_risks_compute``: six months of
remittances read and learned from, every ready claim scored and stored), rolled back so each run sees the
same data; with its parts (the history read alone).

Prints one BENCH line per item. The p95 under 20 users is the load test's (``bench/load.py``: the
"denial analytics" and "denial queue" scenarios)."""

import argparse
import datetime
import statistics

from common import Timer, bench_practice, emit, rolled_back
from django.test import Client
from django.utils import timezone

from claims.models import Claim, ClaimStatus
from denials.analytics.selectors import (
    AnalyticsFilters,
    _denial_analytics,
    analytics_choices,
    denial_analytics,
)
from denials.models import Denial
from denials.risk import WINDOW_DAYS
from denials.risk_selectors import risk_outcomes
from denials.services import denial_risks_compute
from rcm.models import User

parser = argparse.ArgumentParser()
parser.add_argument("--mode", choices=("pages", "risk"), required=True)
parser.add_argument("--repeat", type=int, default=15)
args = parser.parse_args()

practice = bench_practice()
claims = Claim.objects.filter(practice=practice).count()


def timed(function) -> tuple[float, float, float]:
    function()
    times = []
    for _ in range(args.repeat):
        with Timer() as timer:
            function()
        times.append(timer.seconds * 1000)
    return statistics.median(times), min(times), max(times)


if args.mode == "risk":
    today = timezone.localdate()
    ready = Claim.objects.filter(practice=practice, status=ClaimStatus.READY).count()
    with Timer() as read:
        outcomes = risk_outcomes(practice, start=today - datetime.timedelta(days=WINDOW_DAYS), end=today)
    emit(name="denial risk history read", seconds=read.seconds, claims=claims, outcome_lines=len(outcomes))
    with Timer() as run:
        scored = rolled_back(lambda: denial_risks_compute(practice=practice, today=today))
    emit(
        name="denial risk nightly run",
        seconds=run.seconds,
        claims=claims,
        ready_claims=ready,
        scored=scored,
        outcome_lines=len(outcomes),
    )
else:
    denials = Denial.objects.filter(practice=practice).count()
    filters, _errors = AnalyticsFilters.from_query({})
    payers, providers = analytics_choices(practice)
    # Uncached: what the first view after an ERA posting costs (later views read the practice cache).
    median, low, high = timed(lambda: _denial_analytics(practice, filters, payers, providers))
    emit(
        name="selector denial_analytics (12 months, uncached)",
        ms=median,
        min_ms=low,
        max_ms=high,
        claims=claims,
        denials=denials,
    )
    top = denial_analytics(practice, filters).category
    manager = User.objects.get(username="bench-manager")
    pages = [
        ("page denial analytics", manager, "/denials/analytics/"),
        (
            "page denial analytics drill (top root cause)",
            manager,
            f"/denials/analytics/denials/?{top[0].query}" if top else None,
        ),
        ("api denial analytics", manager, "/api/denials/analytics/"),
    ]
    for name, user, url in pages:
        if url is None:
            continue
        client = Client()
        client.force_login(user)

        def get(url=url, client=client):
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        median, low, high = timed(get)
        emit(
            name=name,
            ms=median,
            min_ms=low,
            max_ms=high,
            claims=claims,
            denials=denials,
        )
