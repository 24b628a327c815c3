from decimal import Decimal

from claims.ledger import Entry, ledger_check, ledger_post
from claims.models import TransactionKind as K
from tests.claims.factories import make_claim


def test_claim_creation_posts_one_charge_per_line_and_balances_follow(practice, biller):
    claim = make_claim(practice, user=biller)
    line = claim.lines.get()
    assert claim.patient_control_number == f"{practice.pk:03d}000000001"
    assert line.line_control_number == f"{claim.patient_control_number}-1"
    assert (claim.charge_total, claim.insurance_balance, claim.patient_balance) == (
        Decimal("150.00"),
        Decimal("150.00"),
        Decimal("0.00"),
    )
    ledger_post(
        claim=claim,
        source="remittance",
        user=biller,
        entries=[
            Entry(line=line, kind=K.INSURANCE_PAYMENT, amount=Decimal("80.00")),
            Entry(
                line=line,
                kind=K.CONTRACTUAL_ADJUSTMENT,
                amount=Decimal("45.00"),
                group_code="CO",
                reason_code="45",
            ),
            Entry(line=line, kind=K.TRANSFER_TO_PATIENT, amount=Decimal("25.00"), responsibility="copay"),
        ],
    )
    claim.refresh_from_db()
    assert (claim.insurance_paid, claim.adjustments, claim.insurance_balance, claim.patient_balance) == (
        Decimal("80.00"),
        Decimal("45.00"),
        Decimal("0.00"),
        Decimal("25.00"),
    )
    assert ledger_check(practice=practice) == []


def test_every_posting_is_in_the_audit_log(practice, biller):
    from rcm.audit import audit_context
    from rcm.models import AuditEvent

    claim = make_claim(practice, user=biller)
    line = claim.lines.get()
    with audit_context(user=biller, source="web", ip_address="10.0.0.9"):
        ledger_post(
            claim=claim,
            source="payment",
            user=biller,
            source_reference="receipt-77",
            entries=[
                Entry(line=line, kind=K.TRANSFER_TO_PATIENT, amount=Decimal("20.00")),
                Entry(line=line, kind=K.PATIENT_PAYMENT, party="patient", amount=Decimal("20.00")),
            ],
        )
    event = AuditEvent.objects.filter(object_type="claims.claim", object_id=str(claim.pk), source="web").get()
    assert (event.user, event.ip_address, event.practice_id) == (biller, "10.0.0.9", practice.pk)
    assert event.changes == {
        "ledger": [["transfer_to_patient", "20.00", line.pk, ""], ["patient_payment", "20.00", line.pk, ""]],
        "source": ["payment", "receipt-77"],
    }
