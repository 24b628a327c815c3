"""The streamed (COPY) paths for large batches write exactly what the ordinary paths write."""

from decimal import Decimal

import pytest

from claims.ledger import ledger_check
from claims.models import ClaimLine, RemittanceAdjustment, Transaction
from rcm import bulk
from rcm.audit import audit_context
from rcm.models import AuditEvent
from tests.claims.era_builder import era
from tests.claims.test_era_posting import _paid_era, post, submitted


@pytest.fixture(params=["small batches", "streamed"])
def threshold(request, monkeypatch):
    if request.param == "streamed":
        monkeypatch.setattr(bulk, "COPY_THRESHOLD", 1)
    return request.param


def test_era_posting_writes_the_same_rows_either_way(billing, biller, threshold):
    claims = [submitted(billing) for _ in range(3)]
    with audit_context(user=biller, source="web"):
        result = post(billing, era(claims=[_paid_era(claim) for claim in claims]))
    assert result.applied, result.file.error
    for claim in claims:
        claim.refresh_from_db()
        assert (claim.status, claim.insurance_paid, claim.adjustments, claim.balance) == (
            "paid",
            Decimal("138.00"),
            Decimal("65.00"),
            Decimal("0.00"),
        )
        assert claim.payer_claim_number == "PCN" + claim.patient_control_number
    assert Transaction.objects.filter(kind="insurance_payment").count() == 6
    assert RemittanceAdjustment.objects.count() == 3
    assert AuditEvent.objects.filter(object_type="claims.claim", source="web", user=biller).count() == 3
    assert ledger_check(practice=billing.practice) == []
    assert ClaimLine.objects.filter(insurance_balance=0).count() == 6
