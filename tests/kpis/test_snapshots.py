"""Snapshots: recomputing replaces, the edge cases, the command and the Celery tasks."""

import datetime
from decimal import Decimal
from io import StringIO
from unittest import mock

import pytest
from django.core.management import CommandError, call_command

from claims.models import ClaimStatus, TransactionKind
from kpis import tasks
from kpis.models import KpiSnapshot
from kpis.selectors import kpi_values, snapshot_status
from kpis.services import kpi_recompute_request, kpi_snapshots_compute
from rcm.models import OutboxTask
from tests.kpis.dataset import MARCH_END, MARCH_START, HandWorked, PracticeBuilder

D = Decimal


def _rows(practice):
    return sorted(
        KpiSnapshot.objects.filter(practice=practice).values_list(
            "day", "kpi", "dimension", "dimension_value", "numerator", "denominator"
        )
    )


def test_it_recomputing_a_day_replaces_its_rows_and_never_duplicates(practice):
    data = HandWorked(practice)
    first = kpi_snapshots_compute(practice=practice, start=MARCH_START, end=MARCH_END)
    rows = _rows(practice)
    again = kpi_snapshots_compute(practice=practice, start=MARCH_START, end=MARCH_END)
    assert again == first == len(rows)
    assert _rows(practice) == rows
    # A later posting changes the recomputed days and nothing else.
    data.post(data.c4, "2026-03-31", (TransactionKind.INSURANCE_PAYMENT, "100.00"))
    kpi_snapshots_compute(practice=practice, start=MARCH_END, end=MARCH_END)
    keys = [row[:4] for row in _rows(practice)]
    assert len(keys) == len(set(keys))
    values = kpi_values(practice, start=MARCH_START, end=MARCH_END)
    assert (values["ar_total"].value, values["gross_collection_rate"].numerator) == (
        D("1325.00"),
        D("515.00"),
    )
    assert [r for r in _rows(practice) if r[0] < MARCH_END] == [r for r in rows if r[0] < MARCH_END]


def test_another_practice_is_left_alone(practice, other_practice):
    HandWorked(practice)
    HandWorked(other_practice)
    kpi_snapshots_compute(practice=other_practice, start=MARCH_START, end=MARCH_END)
    before = _rows(other_practice)
    kpi_snapshots_compute(practice=practice, start=MARCH_START, end=MARCH_END)
    assert _rows(other_practice) == before
    assert kpi_values(practice, start=MARCH_START, end=MARCH_END)["ar_total"].value == D("1425.00")


def test_a_practice_with_no_claims_has_no_numbers(practice):
    assert kpi_snapshots_compute(practice=practice, start=MARCH_START, end=MARCH_END) == 0
    values = kpi_values(practice, start=MARCH_START, end=MARCH_END)
    assert {
        slug: item.value for slug, item in values.items() if item.definition.unit != "money"
    } == dict.fromkeys([slug for slug, item in values.items() if item.definition.unit != "money"])
    assert values["ar_total"].value == D("0.00")
    assert snapshot_status(practice) == {"computed_at": None, "last_day": None, "days": 0}


def test_no_payments_gives_zero_collection_and_no_days_to_pay(practice):
    data = PracticeBuilder(practice)
    claim = data.claim("250.00", "2026-03-02", "2026-03-02", data.acme)
    data.submit(claim, "2026-03-03")
    kpi_snapshots_compute(practice=practice, start=MARCH_START, end=MARCH_END)
    values = kpi_values(practice, start=MARCH_START, end=MARCH_END)
    assert [values[s].value for s in ("net_collection_rate", "gross_collection_rate", "days_to_pay")] == [
        D("0.0"),
        D("0.0"),
        None,
    ]
    assert (values["ar_total"].value, values["clean_claim_rate"].value) == (D("250.00"), D("100.0"))
    assert values["days_in_ar"].value == D("90.0")  # all of 90 days' charges still owed


def test_a_period_with_only_denials(practice):
    data = PracticeBuilder(practice)
    for day in ("2026-03-02", "2026-03-03"):
        claim = data.claim("100.00", day, day, data.acme)
        data.submit(claim, day)
        data.move(claim, ClaimStatus.DENIED, "2026-03-10")
    kpi_snapshots_compute(practice=practice, start=MARCH_START, end=MARCH_END)
    values = kpi_values(practice, start=MARCH_START, end=MARCH_END)
    assert [
        values[s].value for s in ("initial_denial_rate", "first_pass_resolution_rate", "appeal_overturn_rate")
    ] == [
        D("100.0"),
        D("0.0"),
        None,
    ]
    assert values["initial_denial_rate"].band == "bad"


def test_the_command_computes_one_practice_for_a_day_and_backfills(practice, other_practice):
    HandWorked(practice)
    out = StringIO()
    call_command("compute_kpis", "--practice", "riverside", "--date", "2026-03-31", stdout=out)
    assert set(KpiSnapshot.objects.values_list("day", flat=True)) == {MARCH_END}
    call_command(
        "compute_kpis", "--practice", "riverside", "--date", "2026-03-31", "--days", "31", stdout=out
    )
    assert KpiSnapshot.objects.filter(practice=practice).dates("day", "day").count() == 31
    assert not KpiSnapshot.objects.filter(practice=other_practice).exists()
    assert "riverside: " in out.getvalue() and "for 2026-03-01 to 2026-03-31." in out.getvalue()
    with pytest.raises(CommandError, match="No practice with slug 'nowhere'"):
        call_command("compute_kpis", "--practice", "nowhere")


def test_the_nightly_task_queues_a_week_for_each_active_practice(practice, other_practice):
    other_practice.is_active = False
    other_practice.save()
    with (
        mock.patch.object(tasks.timezone, "localdate", return_value=MARCH_END),
    ):
        assert tasks.compute_nightly() == 1
    queued = OutboxTask.objects.values_list("task", "args")
    assert list(queued) == [("kpis.compute_practice", [practice.pk, "2026-03-25", "2026-03-31"])]


def test_the_practice_task_computes_the_range(practice):
    HandWorked(practice)
    rows = tasks.compute_practice(practice.pk, "2026-03-30", "2026-03-31")
    assert rows == KpiSnapshot.objects.filter(practice=practice).count()
    assert set(KpiSnapshot.objects.values_list("day", flat=True)) == {datetime.date(2026, 3, 30), MARCH_END}


@pytest.mark.django_db(transaction=True)
def test_a_recompute_request_is_queued_on_commit(practice):
    with mock.patch("rcm.outbox._publish") as publish:
        from django.db import transaction

        with transaction.atomic():
            kpi_recompute_request(practice=practice, today=MARCH_END)
            publish.assert_not_called()
    publish.assert_called_once()
    row = publish.call_args.args[0]
    assert (row.task, row.args) == ("kpis.compute_practice", [practice.pk, "2025-02-25", "2026-03-31"])
    assert OutboxTask.objects.get().queued_at is not None


def test_the_beat_schedule_runs_the_nightly_computation():
    from rcm.celery import app

    entry = app.conf.beat_schedule["kpis-compute-nightly"]
    assert entry["task"] == "kpis.compute_nightly"
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({2}, {30})
