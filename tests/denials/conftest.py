"""Denied claims made the way production makes them: charge entry, then an 835 from the payer."""

from decimal import Decimal

import pytest

from claims.edi.intake import x12_import
from claims.scrubber.ncci import ncci_load_samples
from claims.services import LineInput
from claims.state_machine import claim_transition
from tests.claims.conftest import DOS, Billing
from tests.claims.era_builder import era

D = Decimal


@pytest.fixture
def billing(practice):
    ncci_load_samples()
    return Billing(practice)


def post_era(billing, claim, services, status, *, trace="EFT10001", control="000000101", date="20260320"):
    """Post an 835 for ``claim`` (99214 $185 + 36415 $18) with ``services`` as the payer's lines."""
    paid = sum(D(s["paid"]) for s in services)
    result = x12_import(
        practice=billing.practice,
        file_name=f"era-{trace}.835",
        content=era(
            trace=trace,
            control=control,
            payment_date=date,
            claims=[
                dict(
                    pcn=claim.patient_control_number,
                    status=status,
                    charge="203",
                    paid=paid,
                    services=services,
                )
            ],
        ),
    )
    assert result.applied, result.file.error
    claim.refresh_from_db()
    return result


def two_line_claim(billing):
    claim = billing.claim(
        lines=[
            LineInput(
                procedure_code="99214", charge=D("185.00"), service_date_from=DOS, diagnosis_pointers=[1, 2]
            ),
            LineInput(procedure_code="36415", charge=D("18.00"), service_date_from=DOS),
        ]
    )
    for to_status in ("ready", "submitted", "accepted"):
        claim_transition(claim=claim, to_status=to_status)
    return claim


BOTH_DENIED = [
    dict(code="99214", charge="185", paid="0", cas=[("CO", "50", "185")]),
    dict(code="36415", charge="18", paid="0", cas=[("CO", "50", "18")]),
]
BOTH_PAID = [
    dict(code="99214", charge="185", paid="80", cas=[("CO", "45", "85"), ("PR", "2", "20")]),
    dict(code="36415", charge="18", paid="10", cas=[("CO", "45", "8")]),
]


@pytest.fixture
def denied(billing):
    """Both lines denied CO-50 on the 835 of 03/20/2026: the claim is denied, insurance owes $203.00."""
    claim = two_line_claim(billing)
    post_era(billing, claim, BOTH_DENIED, "4")
    return claim
