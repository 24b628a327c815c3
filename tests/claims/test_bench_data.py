"""bench_data makes valid data: the ledger identities hold, the counts are exact, the sequences are past
every number used, and services can carry on from it."""

import datetime
from io import StringIO

import pytest
from django.core.management import call_command

from claims.ledger import ledger_check
from claims.models import Claim, ClaimLine, ClaimStatus, ClaimStatusChange, Transaction, TransactionKind
from claims.state_machine import ADJUDICATED_STATUSES
from devdata.bench import bench_check
from rcm.models import Coverage, NumberSequence, Patient, Practice
from rcm.sequences import sequence_next

pytestmark = pytest.mark.django_db(transaction=True)


def test_bench_data_makes_200_valid_claims():
    out = StringIO()
    call_command("bench_data", claims=200, practices=1, seed=3, as_of="2026-03-02", check=200, stdout=out)

    practice = Practice.objects.get(slug="bench-001")
    assert Claim.objects.filter(practice=practice).count() == 200
    assert Patient.objects.filter(practice=practice).count() == 50
    assert Coverage.objects.filter(practice=practice, priority=1).count() <= 50
    lines = ClaimLine.objects.filter(practice=practice).count()
    assert 200 <= lines <= 1000
    # one charge per line, on the line's own claim
    assert Transaction.objects.filter(practice=practice, kind=TransactionKind.CHARGE).count() == lines
    assert ledger_check(practice=practice) == []
    assert (
        ledger_check(practice=practice, claim_ids=list(Claim.objects.values_list("pk", flat=True)[:50])) == []
    )
    assert bench_check(sample=200).problems == []
    assert "Benchmark data passes the checks." in out.getvalue()
    # every claim that left draft has the history that brought it where it is
    moved = Claim.objects.exclude(status=ClaimStatus.DRAFT)
    assert set(ClaimStatusChange.objects.values_list("claim_id", flat=True).distinct()) == set(
        moved.values_list("pk", flat=True)
    )
    assert all(c.service_date < datetime.date(2026, 3, 2) for c in Claim.objects.only("service_date"))
    # each claim's first adjudication is the first adjudicating move of its history
    firsts = {}
    for change in ClaimStatusChange.objects.filter(to_status__in=ADJUDICATED_STATUSES).order_by("at", "id"):
        firsts.setdefault(change.claim_id, (change.at, change.to_status))
    stored = {
        pk: (at, status)
        for pk, at, status in Claim.objects.filter(first_adjudicated_at__isnull=False).values_list(
            "pk", "first_adjudicated_at", "first_adjudication_status"
        )
    }
    assert firsts and stored == firsts
    # the services' next numbers do not collide with generated ones
    assert NumberSequence.objects.get(practice=practice, name="claim").last_value == 200
    assert NumberSequence.objects.get(practice=practice, name="patient_account").last_value == 50
    (number,) = sequence_next(practice=practice, name="claim")
    assert not Claim.objects.filter(
        practice=practice, patient_control_number=f"{practice.pk:03d}{number:09d}"
    ).exists()
