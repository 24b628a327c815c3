"""Patients with balances the way the app makes them: self-pay claims through charge entry, and
insurance claims whose remainder is transferred to the patient through the ledger as ERA posting does."""

import datetime
from decimal import Decimal

from claims.ledger import Entry, ledger_post
from claims.models import ClaimLine, Party, PatientResponsibility, TransactionKind
from claims.services import LineInput
from claims.state_machine import claim_transition
from tests.claims.factories import make_claim
from tests.rcm.factories import PatientFactory


def self_pay_claim(practice, patient, *charges, day=datetime.date(2026, 3, 2)):
    return make_claim(
        practice,
        patient=patient,
        self_pay=True,
        lines=[
            LineInput(procedure_code=code, charge=Decimal(charge), service_date_from=day)
            for code, charge in zip(("99213", "36415", "85025", "80053"), charges, strict=False)
        ],
    )


def insured_claim_with_patient_part(
    practice,
    patient,
    *,
    charge="200.00",
    paid="120.00",
    deductible="50.00",
    copay="0.00",
    day=datetime.date(2026, 2, 2),
):
    """One line: insurance pays ``paid``, ``deductible`` (PR-1) and ``copay`` (PR-3) go to the patient,
    the rest is a contractual adjustment."""
    from tests.rcm.factories import CoverageFactory

    coverage = CoverageFactory(practice=practice, patient=patient)
    claim = make_claim(
        practice,
        patient=patient,
        coverage=coverage,
        lines=[LineInput(procedure_code="99214", charge=Decimal(charge), service_date_from=day)],
    )
    line = ClaimLine.objects.get(claim=claim)
    entries = [Entry(line=line, kind=TransactionKind.INSURANCE_PAYMENT, amount=Decimal(paid))]
    for amount, reason, code in (
        (deductible, PatientResponsibility.DEDUCTIBLE, "1"),
        (copay, PatientResponsibility.COPAY, "3"),
    ):
        if Decimal(amount) > 0:
            entries.append(
                Entry(
                    line=line,
                    kind=TransactionKind.TRANSFER_TO_PATIENT,
                    amount=Decimal(amount),
                    group_code="PR",
                    reason_code=code,
                    responsibility=reason,
                )
            )
    rest = Decimal(charge) - Decimal(paid) - Decimal(deductible) - Decimal(copay)
    if rest > 0:
        entries.append(
            Entry(
                line=line,
                kind=TransactionKind.CONTRACTUAL_ADJUSTMENT,
                amount=rest,
                group_code="CO",
                reason_code="45",
            )
        )
    ledger_post(claim=claim, entries=entries, source="remittance", source_reference="TEST")
    for status in ("ready", "submitted", "paid"):  # adjudicated: the insurance part is settled
        claim.refresh_from_db()
        claim_transition(claim=claim, to_status=status)
    claim.refresh_from_db()
    return claim


def new_patient(practice, **kwargs):
    return PatientFactory(practice=practice, **kwargs)


__all__ = ["Party", "insured_claim_with_patient_part", "new_patient", "self_pay_claim"]
