# ruff: noqa: S608  (the SQL is built from constants of this file only; values go as parameters)
"""Underpayments and the payer scorecard at scale.

``--mode variances``: ``variances_recompute`` for every adjudicated line of the larger benchmark practice
(committed: it is idempotent, so every run after the first sees the same rows), then, in the same process,
the bare SQL join of the same rows (adjudicated remittance lines, their claim lines and claims, the
contract in force and its fee row) written as one plain query: the floor the recompute is measured
against; one BENCH line with both and their ratio.
Target (issue 13): 1,000,000 lines under 60 s on PostgreSQL.

``--mode scorecard``: the manager's payer scorecard page (every payer, 12 months ending with the data's last
month) through Django's test client, from the figures the KPI backfill precomputed, median of ``--repeat``
after one warm-up, with its query count. Target: 20 payers x 12 months at 1,000,000 claims under 300 ms."""

import argparse
import statistics

from common import Timer, bench_practice, emit, rolled_back, sql_seconds
from django.core.signals import request_started
from django.db import connection, reset_queries
from django.db.models import Max
from django.test import Client
from django.test.utils import CaptureQueriesContext

from claims.models import LineVariance, Transaction, Underpayment
from claims.underpayments.variances import PRIMARY_PAID, adjudicated_lines, variances_recompute
from kpis.models import PayerScorecardMonth
from rcm.models import Membership, Payer, User

parser = argparse.ArgumentParser()
parser.add_argument("--mode", choices=("variances", "scorecard"), default="variances")
parser.add_argument("--repeat", type=int, default=15)
parser.add_argument(
    "--payers",
    type=int,
    default=20,
    help="scorecard: payers shown (the bench data has 5 per practice; the others are copies of their months, "
    "added in a transaction rolled back at the end)",
)
args = parser.parse_args()
practice = bench_practice()

# The same rows as ``adjudicated_lines``, joined to the contract in force and its exact fee row: what a
# set-based recompute cannot avoid reading.
FLOOR_SQL = f"""
SELECT rl.id, cl.id, c.id, c.payer_id, cl.procedure_code, cl.service_date_from, rl.allowed, rl.paid,
       pc.id, fr.id, fr.allowed_amount * cl.units - rl.allowed
FROM claims_remittanceline rl
JOIN claims_remittanceclaim rc ON rc.id = rl.remittance_claim_id
JOIN claims_remittance r ON r.id = rc.remittance_id
JOIN claims_claimline cl ON cl.id = rl.claim_line_id
JOIN claims_claim c ON c.id = cl.claim_id
LEFT JOIN rcm_payercontract pc ON pc.payer_id = c.payer_id AND pc.practice_id = c.practice_id
     AND pc.effective_date <= cl.service_date_from
     AND (pc.end_date IS NULL OR cl.service_date_from <= pc.end_date)
LEFT JOIN rcm_feeschedulerow fr ON fr.contract_id = pc.id AND fr.procedure_code = cl.procedure_code
     AND fr.modifier = '' AND fr.facility = false
WHERE r.practice_id = %s AND rc.posted AND rc.reversed_by_id IS NULL
  AND rc.status_code IN ({", ".join(f"'{code}'" for code in PRIMARY_PAID)})
  AND rl.paid > 0 AND rl.allowed IS NOT NULL AND NOT cl.removed
"""

if args.mode == "variances":
    lines = adjudicated_lines(practice_ids=[practice.pk]).count()

    def recompute():
        count = variances_recompute(practice=practice, workers=2)  # as ``compute_variances`` runs it
        return count, Underpayment.objects.filter(practice=practice).count()

    # Committed, as the nightly run is (its commits and the chunk read ahead by a second connection, which
    # a surrounding transaction would rule out): the recompute is idempotent, so every run after the first
    # sees and writes the same rows.
    with Timer() as timer:
        counted, underpayments = recompute()
    floor = sql_seconds(FLOOR_SQL, [practice.pk])
    emit(
        name="underpayment variances",
        practice=practice.slug,
        adjudicated_lines=lines,
        variances=counted,
        underpayments=underpayments,
        seconds=timer.seconds,
        floor_seconds=floor,
        ratio=round(timer.seconds / floor, 1) if floor else None,
        kept=LineVariance.objects.filter(practice=practice).count(),
    )
else:
    request_started.disconnect(reset_queries)  # so CaptureQueriesContext sees the page's queries
    last = Transaction.objects.filter(practice=practice).aggregate(last=Max("effective_date"))["last"]
    manager = User.objects.filter(memberships__practice=practice, memberships__role="manager").first()
    if manager is None:
        manager = User.objects.create_user(username=f"{practice.slug}-manager")
        Membership.objects.create(user=manager, practice=practice, role="manager")
    client = Client()
    client.force_login(manager)
    path = f"/kpis/payers/?months=12&end={last:%Y-%m}"

    def measure():
        rows = PayerScorecardMonth.objects.filter(practice=practice)
        real = rows.values("payer").distinct().count()
        # The target is 20 payers: the bench data's payers' months copied onto new payers until there are
        # that many (each copy a payer of its own with the same figures: the page reads and draws as many).
        months = list(rows.order_by("payer_id", "month"))
        payer_ids = sorted({month.payer_id for month in months})
        fields = [f.attname for f in PayerScorecardMonth._meta.concrete_fields if not f.primary_key]
        for number in range(real, args.payers):
            payer = Payer.objects.create(
                practice=practice, name=f"Bench payer {number + 1}", payer_id=f"BENCH{number + 1}"
            )
            source = payer_ids[number % real]
            PayerScorecardMonth.objects.bulk_create(
                [
                    PayerScorecardMonth(
                        **{**{name: getattr(month, name) for name in fields}, "payer_id": payer.pk}
                    )
                    for month in months
                    if month.payer_id == source
                ]
            )
        assert client.get(path).status_code == 200
        times = []
        for _ in range(args.repeat):
            with Timer() as timer:
                response = client.get(path)
            times.append(timer.seconds * 1000)
        with CaptureQueriesContext(connection) as queries:
            client.get(path)
        return dict(
            payers=rows.values("payer").distinct().count(),
            payers_in_bench_data=real,
            month_rows=rows.count(),
            ms=statistics.median(times),
            min_ms=min(times),
            max_ms=max(times),
            queries=len(queries.captured_queries),
            status=response.status_code,
        )

    emit(name="payer scorecard page", practice=practice.slug, **rolled_back(measure))
