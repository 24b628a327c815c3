"""Celery tasks of the KPIs app: thin, take ids and ISO dates, call the one compute service. Running one
twice writes the same rows (the service replaces the days it computes)."""

import datetime

from celery import shared_task
from django.utils import timezone

# ERAs post entries with past effective dates, and rejections and denials of recent claims arrive
# days after submission: the nightly run recomputes a week, not just yesterday.
NIGHTLY_DAYS = 7


@shared_task(name="kpis.compute_practice", time_limit=1800, soft_time_limit=1700, acks_late=True)
def compute_practice(practice_id: int, start: str, end: str) -> int:
    from kpis.services import kpi_claim_balances_vacuum, kpi_snapshots_compute
    from rcm.models import Practice

    practice = Practice.objects.get(pk=practice_id)
    rows = kpi_snapshots_compute(
        practice=practice, start=datetime.date.fromisoformat(start), end=datetime.date.fromisoformat(end)
    )
    kpi_claim_balances_vacuum()
    return rows


@shared_task(name="kpis.compute_nightly", time_limit=120, soft_time_limit=100)
def compute_nightly() -> int:
    """Queue one computation per practice: the last ``NIGHTLY_DAYS`` days up to today."""
    from rcm.models import Practice
    from rcm.outbox import task_enqueue

    end = timezone.localdate()
    start = end - datetime.timedelta(days=NIGHTLY_DAYS - 1)
    ids = list(Practice.objects.filter(is_active=True).values_list("pk", flat=True))
    for practice_id in ids:
        task_enqueue(compute_practice, practice_id, start.isoformat(), end.isoformat())
    return len(ids)


@shared_task(name="kpis.send_report", time_limit=300, soft_time_limit=270, acks_late=True)
def send_report(practice_id: int, month: str) -> bool:
    """Email one practice's report of ``month`` (YYYY-MM-DD, its first day); True when this run sent it."""
    from kpis.services import kpi_report_send
    from rcm.models import Practice

    practice = Practice.objects.get(pk=practice_id)
    return kpi_report_send(practice=practice, month=datetime.date.fromisoformat(month)) is not None


@shared_task(name="kpis.send_monthly_reports", time_limit=120, soft_time_limit=100)
def send_monthly_reports() -> int:
    """Queue last month's report for every active practice (each sends at most once: ``KpiReport``)."""
    from rcm.models import Practice
    from rcm.outbox import task_enqueue

    last_month = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    ids = list(Practice.objects.filter(is_active=True).values_list("pk", flat=True))
    for practice_id in ids:
        task_enqueue(send_report, practice_id, last_month.isoformat())
    return len(ids)
