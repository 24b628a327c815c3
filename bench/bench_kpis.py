# ruff: noqa: S608  (the SQL is built from constants of this file only; values go as parameters)
"""KPI snapshots at scale: ``kpi_snapshots_compute`` as the nightly task runs it (``NIGHTLY_DAYS`` days up to
the data's last day) on the larger benchmark practice, and, in the same process, the bare SQL aggregates
that computation needs, written as plain SQL over the same tables (the floor it is measured against).

``--mode backfill --days N``: the history first, for every benchmark practice (committed: the dashboard
and the load test read it). ``--mode nightly``: the nightly run, rolled back (every run sees the same
rows), then the floor; one BENCH line with both and their ratio."""

import argparse
import datetime

from common import Timer, emit, rolled_back
from django.conf import settings
from django.db import connection
from django.db.models import Count, Max

from claims.models import Claim, Transaction
from kpis.definitions import AR_WINDOW_DAYS
from kpis.models import KpiSnapshot
from kpis.services import kpi_snapshots_compute
from kpis.tasks import NIGHTLY_DAYS
from rcm.models import Practice

parser = argparse.ArgumentParser()
parser.add_argument("--mode", choices=("backfill", "nightly"), default="nightly")
parser.add_argument("--days", type=int, default=400, help="backfill: days ending on the data's last day")
args = parser.parse_args()


def bench_practices() -> list[Practice]:
    """The benchmark practices, the one with the most claims first."""
    practices = list(Practice.objects.filter(slug__regex=r"^bench-[0-9]+$").order_by("slug"))
    counts = dict(
        Claim.objects.filter(practice__in=practices)
        .values_list("practice")
        .annotate(n=Count("id"))
        .order_by()
    )
    for practice in practices:
        practice.claims = counts.get(practice.pk, 0)
    return sorted(practices, key=lambda p: -p.claims)


def as_of() -> datetime.date:
    """The data's last ledger day (bench_data writes up to its --as-of date): the nightly run's today."""
    return Transaction.objects.aggregate(last=Max("effective_date"))["last"]


# --- the floor: what the computation needs, as plain SQL (PostgreSQL) -----------------------------------

DIMENSIONS = """GROUPING SETS ((day), (day, c.payer_id),
    (day, COALESCE(c.rendering_provider_id, c.billing_provider_id)), (day, c.place_of_service))"""


def net(kinds: str, party: str = "", extra: str = "") -> str:
    """Σ amount of ``kinds`` minus Σ of their reversals (as kpis.measures._net)."""
    direct = f"t.kind IN ({kinds})" + (f" AND t.party = '{party}'" if party else "") + extra
    reversal = f"t.kind = 'reversal' AND r.kind IN ({kinds})" + (f" AND r.party = '{party}'" if party else "")
    return f"SUM(CASE WHEN {direct} THEN t.amount WHEN {reversal}{extra} THEN -t.amount ELSE 0 END)"


RAISES = "'charge', 'refund'"
LOWERS = "'insurance_payment', 'patient_payment', 'contractual_adjustment', 'other_adjustment', 'write_off'"
DELTA = f"""CASE WHEN t.kind IN ({RAISES}) THEN t.amount WHEN t.kind IN ({LOWERS}) THEN -t.amount
    WHEN t.kind = 'reversal' AND r.kind IN ({RAISES}) THEN -t.amount
    WHEN t.kind = 'reversal' AND r.kind IN ({LOWERS}) THEN t.amount ELSE 0 END"""
LOCAL = "AT TIME ZONE %(tz)s)::date"

FLOOR = {
    # Cash-basis sums per day and dimension over the A/R window (charges) and the range (the rest).
    "ledger sums by day and dimension": f"""
        SELECT t.effective_date AS day, c.payer_id, COALESCE(c.rendering_provider_id, c.billing_provider_id),
            c.place_of_service,
            {net("'charge'")}, {net("'contractual_adjustment'")},
            {net("'insurance_payment', 'patient_payment'")}, {net("'refund'")},
            {net("'patient_payment'")}, {net("'refund'", "patient")},
            {net("'transfer_to_patient'")} + {net("'charge'", "patient")},
            {net("'write_off'", "insurance", " AND d.claim_id IS NOT NULL")}
        FROM claims_transaction t JOIN claims_claim c ON c.id = t.claim_id
        LEFT JOIN claims_transaction r ON r.id = t.reverses_id
        LEFT JOIN (SELECT DISTINCT claim_id FROM denials_denial WHERE practice_id = %(practice)s) d
            ON d.claim_id = t.claim_id
        WHERE t.practice_id = %(practice)s AND t.effective_date BETWEEN %(window)s AND %(end)s
        GROUP BY {DIMENSIONS}""",
    # Open A/R, credit balances and aging on each day: each claim's balance now (claims.ledger keeps it equal
    # to the sum of its ledger rows) less the rows dated after the day.
    "balances and aging by day and dimension": f"""
        WITH later AS (
            SELECT t.claim_id, t.effective_date AS day, SUM({DELTA}) AS delta FROM claims_transaction t
            LEFT JOIN claims_transaction r ON r.id = t.reverses_id
            WHERE t.practice_id = %(practice)s AND t.effective_date > %(start)s
            GROUP BY 1, 2
        ), open AS (
            SELECT c.id AS claim_id, c.insurance_balance + c.patient_balance AS now FROM claims_claim c
            WHERE c.practice_id = %(practice)s AND (c.insurance_balance + c.patient_balance <> 0
                OR c.id IN (SELECT claim_id FROM later))
        ), balances AS (
            SELECT days.day::date AS day, o.claim_id, o.now - COALESCE(SUM(l.delta), 0) AS balance
            FROM generate_series(%(start)s::date, %(end)s::date, interval '1 day') AS days(day)
            CROSS JOIN open o LEFT JOIN later l ON l.claim_id = o.claim_id AND l.day > days.day::date
            GROUP BY 1, 2, o.now
        )
        SELECT day, c.payer_id, COALESCE(c.rendering_provider_id, c.billing_provider_id), c.place_of_service,
            SUM(GREATEST(b.balance, 0)), SUM(GREATEST(-b.balance, 0)),
            SUM(GREATEST(b.balance, 0)) FILTER (WHERE day - c.service_date > 90),
            SUM(GREATEST(b.balance, 0)) FILTER (WHERE day - c.service_date > 120),
            SUM(GREATEST(b.balance, 0)) FILTER (WHERE day - c.service_date <= 30),
            SUM(GREATEST(b.balance, 0)) FILTER (WHERE day - c.service_date BETWEEN 31 AND 60),
            SUM(GREATEST(b.balance, 0)) FILTER (WHERE day - c.service_date BETWEEN 61 AND 90),
            SUM(GREATEST(b.balance, 0)) FILTER (WHERE day - c.service_date BETWEEN 91 AND 120)
        FROM balances b JOIN claims_claim c ON c.id = b.claim_id
        WHERE b.balance <> 0
        GROUP BY {DIMENSIONS}""",
    "clean claims by day of first submission": f"""
        SELECT (c.first_submitted_at {LOCAL} AS day, c.payer_id,
            COALESCE(c.rendering_provider_id, c.billing_provider_id), c.place_of_service, COUNT(*),
            COUNT(*) FILTER (WHERE NOT c.edited_after_scrub AND NOT EXISTS (
                SELECT 1 FROM claims_claimstatuschange s
                WHERE s.claim_id = c.id AND s.to_status = 'rejected'))
        FROM claims_claim c
        WHERE c.practice_id = %(practice)s AND c.frequency_code <> '8'
            AND c.first_submitted_at >= %(start_at)s AND c.first_submitted_at < %(end_at)s
        GROUP BY {DIMENSIONS}""",
    "first adjudications by day": f"""
        WITH facts AS (
            SELECT c.id AS claim_id, (c.first_adjudicated_at {LOCAL} AS day,
                c.first_adjudication_status AS to_status,
                EXISTS (SELECT 1 FROM denials_denial d WHERE d.claim_id = c.id
                    AND (d.created_at {LOCAL} = (c.first_adjudicated_at {LOCAL}) AS denial_that_day
            FROM claims_claim c WHERE c.practice_id = %(practice)s
                AND c.first_adjudicated_at >= %(start_at)s AND c.first_adjudicated_at < %(end_at)s
        )
        SELECT day, c.payer_id, COALESCE(c.rendering_provider_id, c.billing_provider_id), c.place_of_service,
            COUNT(*), COUNT(*) FILTER (WHERE f.to_status = 'denied' OR f.denial_that_day),
            SUM(c.charge_total),
            SUM(c.charge_total) FILTER (WHERE f.to_status = 'denied' OR f.denial_that_day),
            COUNT(*) FILTER (WHERE f.to_status IN ('paid', 'forwarded') AND NOT f.denial_that_day)
        FROM facts f JOIN claims_claim c ON c.id = f.claim_id
        GROUP BY {DIMENSIONS}""",
    "appeals decided by day": f"""
        SELECT (s.at {LOCAL} AS day, c.payer_id, COALESCE(c.rendering_provider_id, c.billing_provider_id),
            c.place_of_service, COUNT(*), COUNT(*) FILTER (WHERE s.to_status IN ('paid', 'partially_paid'))
        FROM claims_claimstatuschange s JOIN claims_claim c ON c.id = s.claim_id
        WHERE s.practice_id = %(practice)s AND s.from_status = 'appealed'
            AND s.to_status IN ('paid', 'partially_paid', 'denied', 'written_off')
            AND s.at >= %(start_at)s AND s.at < %(end_at)s
        GROUP BY {DIMENSIONS}""",
    "charge lag by day of entry": f"""
        SELECT (c.created_at {LOCAL} AS day, c.payer_id,
            COALESCE(c.rendering_provider_id, c.billing_provider_id), c.place_of_service, COUNT(*),
            SUM((c.created_at {LOCAL} - c.service_date)
        FROM claims_claim c
        WHERE c.practice_id = %(practice)s AND c.created_at >= %(start_at)s AND c.created_at < %(end_at)s
        GROUP BY {DIMENSIONS}""",
    "days to pay by day of first payment": f"""
        WITH firsts AS (
            SELECT t.claim_id, MIN(t.effective_date) AS day FROM claims_transaction t
            WHERE t.practice_id = %(practice)s AND t.kind = 'insurance_payment' GROUP BY t.claim_id
            HAVING MIN(t.effective_date) BETWEEN %(start)s AND %(end)s
        )
        SELECT day, c.payer_id, COALESCE(c.rendering_provider_id, c.billing_provider_id), c.place_of_service,
            COUNT(*), SUM(day - (c.first_submitted_at {LOCAL})
        FROM firsts f JOIN claims_claim c ON c.id = f.claim_id
        WHERE c.first_submitted_at IS NOT NULL
        GROUP BY {DIMENSIONS}""",
    "underpayments by remittance day": f"""
        SELECT COALESCE(m.payment_date, (m.received_at {LOCAL}) AS day, c.payer_id,
            COALESCE(c.rendering_provider_id, c.billing_provider_id), c.place_of_service,
            SUM(l.expected_allowed - l.allowed)
        FROM claims_remittanceline l JOIN claims_remittanceclaim rc ON rc.id = l.remittance_claim_id
        JOIN claims_remittance m ON m.id = rc.remittance_id
        JOIN claims_claimline cl ON cl.id = l.claim_line_id JOIN claims_claim c ON c.id = cl.claim_id
        WHERE m.practice_id = %(practice)s AND l.expected_allowed > l.allowed
            AND COALESCE(m.payment_date, (m.received_at {LOCAL}) BETWEEN %(start)s AND %(end)s
        GROUP BY {DIMENSIONS}""",
}


def floor(practice, start: datetime.date, end: datetime.date) -> dict[str, float]:
    """Seconds of each bare SQL aggregate (rows fetched, as the computation must)."""
    import zoneinfo

    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    params = {
        "practice": practice.pk,
        "start": start,
        "end": end,
        "window": start - datetime.timedelta(days=AR_WINDOW_DAYS - 1),
        "start_at": datetime.datetime.combine(start, datetime.time(), tz),
        "end_at": datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time(), tz),
        "tz": settings.TIME_ZONE,
    }
    seconds = {}
    with connection.cursor() as cursor:
        for name, sql in FLOOR.items():
            with Timer() as timer:
                cursor.execute(sql, params)
                cursor.fetchall()
            seconds[name] = round(timer.seconds, 3)
    return seconds


def main() -> None:
    practices = bench_practices()
    end = as_of()
    if args.mode == "backfill":
        start = end - datetime.timedelta(days=args.days - 1)
        for practice in practices:
            with Timer() as timer:
                rows = kpi_snapshots_compute(practice=practice, start=start, end=end)
            emit(
                name=f"kpi backfill {practice.slug}",
                practice=practice.slug,
                claims=practice.claims,
                days=args.days,
                start=start,
                end=end,
                rows=rows,
                seconds=round(timer.seconds, 2),
            )
    else:
        practice = practices[0]
        start = end - datetime.timedelta(days=NIGHTLY_DAYS - 1)
        assert KpiSnapshot.objects.filter(practice=practice).exists(), "run --mode backfill first"
        with Timer() as timer:
            rows = rolled_back(lambda: kpi_snapshots_compute(practice=practice, start=start, end=end))
        parts = floor(practice, start, end)
        floor_seconds = sum(parts.values())
        emit(
            name="kpi nightly",
            practice=practice.slug,
            claims=Claim.objects.filter(practice=practice).count(),
            days=NIGHTLY_DAYS,
            start=start,
            end=end,
            rows=rows,
            seconds=round(timer.seconds, 2),
            floor_seconds=round(floor_seconds, 2),
            floor_parts=parts,
            ratio=round(timer.seconds / floor_seconds, 2),
        )


if __name__ == "__main__":
    main()
