"""Claims are built through the charge-entry service, as the app builds them."""

import datetime
from decimal import Decimal

from claims.services import LineInput, claim_create
from tests.rcm.factories import CoverageFactory, ProviderFactory


def make_claim(
    practice,
    *,
    patient=None,
    coverage=None,
    provider=None,
    lines=None,
    diagnosis_codes=None,
    self_pay=False,
    user=None,
    **kwargs,
):
    """A draft claim with charges posted. Default: one office visit 99213 at $150.00 on 2026-03-02."""
    if coverage is None and not self_pay:
        coverage = CoverageFactory(practice=practice, **({"patient": patient} if patient else {}))
    patient = patient or coverage.patient
    provider = provider or ProviderFactory(practice=practice)
    lines = lines or [
        LineInput(
            procedure_code="99213", charge=Decimal("150.00"), service_date_from=datetime.date(2026, 3, 2)
        )
    ]
    return claim_create(
        practice=practice,
        patient=patient,
        coverage=coverage,
        billing_provider=provider,
        rendering_provider=provider,
        diagnosis_codes=diagnosis_codes or ["E11.9", "I10"],
        lines=lines,
        user=user,
        **kwargs,
    )
