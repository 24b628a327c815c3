"""The payment-plan KPIs are cohorts by the day each plan was created, read as the plans stand now: the
nightly run (7 days) refreshes every earlier computed cohort too, so an old plan's later outcome shows."""

import datetime
from decimal import Decimal

import pytest

from kpis import tasks
from kpis.models import KpiSnapshot
from kpis.selectors import kpi_values
from kpis.services import kpi_snapshots_compute
from payment_plans.models import PlanStatus
from payment_plans.plans.state_machine import plan_transition
from tests.kpis.dataset import MARCH_START, HandWorked, noon

D = Decimal
COHORT = datetime.date(2026, 3, 29)  # P3's day: created 03-29, active, covering C2 and C4
TODAY = COHORT + datetime.timedelta(days=60)  # 05-28


def completion(practice, day=COHORT):
    return kpi_values(practice, start=day, end=day)["payment_plan_completion_rate"]


def test_a_plan_created_60_days_ago_that_completes_today_shows_in_its_cohort_after_the_nightly_run(practice):
    data = HandWorked(practice)
    kpi_snapshots_compute(practice=practice, start=MARCH_START, end=TODAY - datetime.timedelta(days=1))
    assert (completion(practice).numerator, completion(practice).denominator) == (D("0.00"), D("1.00"))

    plan_transition(
        plan=data.p3, to_status=PlanStatus.COMPLETED, at=noon(TODAY.isoformat()), reason="paid off"
    )
    nightly_start = TODAY - datetime.timedelta(days=tasks.NIGHTLY_DAYS - 1)
    tasks.compute_practice(practice.pk, nightly_start.isoformat(), TODAY.isoformat())

    item = completion(practice)
    assert (item.numerator, item.denominator, item.value) == (D("1.00"), D("1.00"), D("100.0"))
    # March as a whole: P1 and now P3 completed of the four counted plans; defaults unchanged (P2, P5)
    march = kpi_values(practice, start=MARCH_START, end=datetime.date(2026, 3, 31))
    assert march["payment_plan_completion_rate"].value == D("50.0")
    assert march["payment_plan_default_rate"].value == D("50.0")
    # By payer too: P3 counts on C2 (Acme)
    rows = KpiSnapshot.objects.filter(day=COHORT, kpi="payment_plan_completion_rate")
    assert sorted(rows.values_list("dimension", "dimension_value", "numerator", "denominator")) == sorted(
        [
            ("practice", "", D("1.00"), D("1.00")),
            ("payer", str(data.acme.pk), D("1.00"), D("1.00")),
            ("provider", str(data.provider.pk), D("1.00"), D("1.00")),
            ("place_of_service", data.c2.place_of_service, D("1.00"), D("1.00")),
        ]
    )


def test_the_refresh_touches_only_plan_rows_of_computed_days(practice):
    data = HandWorked(practice)
    kpi_snapshots_compute(practice=practice, start=datetime.date(2026, 3, 20), end=TODAY)
    others = set(
        KpiSnapshot.objects.exclude(kpi__startswith="payment_plan").values_list(
            "day", "kpi", "dimension", "dimension_value", "numerator", "denominator", "computed_at"
        )
    )
    plan_transition(
        plan=data.p3, to_status=PlanStatus.COMPLETED, at=noon(TODAY.isoformat()), reason="paid off"
    )
    kpi_snapshots_compute(practice=practice, start=TODAY, end=TODAY)
    assert completion(practice).value == D("100.0")
    # P5 (03-10) and P6 (02-15) were created before the first computed day: no rows appear for their days.
    assert not KpiSnapshot.objects.filter(day__lt=datetime.date(2026, 3, 20)).exists()
    after = set(
        KpiSnapshot.objects.exclude(kpi__startswith="payment_plan").values_list(
            "day", "kpi", "dimension", "dimension_value", "numerator", "denominator", "computed_at"
        )
    )
    assert {row for row in after if row[0] < TODAY} == {row for row in others if row[0] < TODAY}


def test_a_backfill_of_old_days_leaves_the_later_cohorts_alone(practice):
    data = HandWorked(practice)
    kpi_snapshots_compute(practice=practice, start=MARCH_START, end=TODAY)
    plan_transition(
        plan=data.p3, to_status=PlanStatus.COMPLETED, at=noon(TODAY.isoformat()), reason="paid off"
    )
    kpi_snapshots_compute(practice=practice, start=MARCH_START, end=datetime.date(2026, 3, 10))
    assert completion(practice).value == D("0.0")  # 03-29 not recomputed: not the latest day's run


@pytest.mark.django_db(transaction=True)
def test_the_stored_balances_are_vacuumed_after_a_computation_only_outside_a_transaction():
    from django.db import connection, transaction

    from kpis.services import kpi_claim_balances_vacuum

    with transaction.atomic():
        assert kpi_claim_balances_vacuum() is False  # VACUUM cannot run inside a transaction
    assert kpi_claim_balances_vacuum() is (connection.vendor == "postgresql")
