"""Patient payments: oldest first, to a chosen claim or line, the remainder as a credit that later
balances consume, credit refunds, and bad input refused with nothing saved."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from claims.ledger import ledger_check
from claims.models import Claim, ClaimLine, ClaimStatus, Transaction, TransactionKind
from claims.patient_billing import claims_bill_patient
from payment_plans.models import AllocationKind, CreditRefund, PatientPayment, PaymentAllocation
from payment_plans.services import (
    looks_like_card_number,
    patient_credit_available,
    patient_credit_refund,
    patient_credits_apply,
    patient_payment_record,
)
from tests.payment_plans.helpers import insured_claim_with_patient_part, new_patient, self_pay_claim

TODAY = datetime.date(2026, 4, 1)


@pytest.fixture
def patient(practice):
    return new_patient(practice)


def pay(practice, patient, amount, user=None, **kwargs):
    kwargs.setdefault("method", "cash")
    kwargs.setdefault("received_on", TODAY)
    return patient_payment_record(practice=practice, patient=patient, amount=amount, user=user, **kwargs)


def balances(claim):
    claim.refresh_from_db()
    return claim.patient_balance


@pytest.mark.django_db
def test_payment_applies_oldest_first_and_says_where(practice, patient, collections_user):
    old = self_pay_claim(practice, patient, "100.00", "20.00", day=datetime.date(2026, 1, 5))
    new = insured_claim_with_patient_part(practice, patient, day=datetime.date(2026, 2, 2))
    assert balances(new) == Decimal("50.00")

    payment = pay(practice, patient, "130.00", collections_user, method="check", reference="1042")

    assert payment.receipt_number == "R-000001"
    assert payment.applied == Decimal("130.00") and payment.credit == Decimal("0.00")
    rows = [(a.claim_id, a.line.line_number, a.kind, a.amount) for a in payment.allocations.order_by("id")]
    assert rows == [
        (old.pk, 1, "applied", Decimal("100.00")),
        (old.pk, 2, "applied", Decimal("20.00")),
        (new.pk, 1, "applied", Decimal("10.00")),
    ]
    assert balances(old) == Decimal("0.00") and balances(new) == Decimal("40.00")
    txns = Transaction.objects.filter(kind=TransactionKind.PATIENT_PAYMENT, source_reference="R-000001")
    assert sorted(t.amount for t in txns) == [Decimal("10.00"), Decimal("20.00"), Decimal("100.00")]
    assert all(t.posted_by == collections_user for t in txns)
    assert ledger_check(practice=practice) == []


@pytest.mark.django_db
def test_payment_to_a_chosen_claim_and_by_allocation(practice, patient):
    old = self_pay_claim(practice, patient, "100.00", day=datetime.date(2026, 1, 5))
    new = self_pay_claim(practice, patient, "80.00", "40.00", day=datetime.date(2026, 2, 5))
    pay(practice, patient, "30.00", claim=new)
    assert balances(old) == Decimal("100.00") and balances(new) == Decimal("90.00")

    second_line = ClaimLine.objects.get(claim=new, line_number=2)
    payment = pay(practice, patient, "45.00", allocations=[(second_line, "40.00")])
    assert [(a.line_id, a.amount) for a in payment.allocations.order_by("id")] == [
        (second_line.pk, Decimal("40.00")),
        (ClaimLine.objects.get(claim=old).pk, Decimal("5.00")),
    ]
    assert balances(old) == Decimal("95.00") and balances(new) == Decimal("50.00")


@pytest.mark.django_db
def test_overpayment_becomes_credit_used_later_then_refunded(practice, patient, collections_user):
    claim = self_pay_claim(practice, patient, "60.00", day=datetime.date(2026, 1, 5))
    payment = pay(practice, patient, "100.00", collections_user)
    assert payment.applied == Decimal("60.00") and payment.credit == Decimal("40.00")
    assert balances(claim) == Decimal("-40.00")
    assert patient_credit_available(patient) == Decimal("40.00")
    assert payment.allocations.get(kind=AllocationKind.CREDIT).amount == Decimal("40.00")

    later = self_pay_claim(practice, patient, "25.00", day=datetime.date(2026, 3, 9))
    moved = patient_credits_apply(practice=practice, patient=patient, user=collections_user)
    assert sorted((a.kind, a.amount) for a in moved) == [
        ("applied", Decimal("25.00")),
        ("credit_used", Decimal("25.00")),
    ]
    assert all(a.payment_id == payment.pk for a in moved)
    assert balances(later) == Decimal("0.00") and balances(claim) == Decimal("-15.00")
    assert patient_credit_available(patient) == Decimal("15.00")

    refund = patient_credit_refund(
        practice=practice,
        patient=patient,
        amount="15.00",
        method="check",
        reference="5001",
        user=collections_user,
    )
    assert refund.allocations.get().kind == AllocationKind.REFUNDED
    assert refund.allocations.get().transaction.kind == TransactionKind.REFUND
    assert balances(claim) == Decimal("0.00") and patient_credit_available(patient) == Decimal("0.00")
    assert ledger_check(practice=practice) == []


@pytest.mark.django_db
def test_patient_billed_claim_becomes_paid_when_the_patient_pays(practice, patient):
    selfpay = self_pay_claim(practice, patient, "50.00")
    insured = insured_claim_with_patient_part(practice, patient)
    assert claims_bill_patient(practice=practice) == 2
    assert set(Claim.objects.values_list("status", flat=True)) == {ClaimStatus.PATIENT_BILLED}
    pay(practice, patient, "50.00")
    selfpay.refresh_from_db()
    insured.refresh_from_db()
    # The insured claim's service is older: its $50.00 is paid first.
    assert insured.status == ClaimStatus.PAID and selfpay.status == ClaimStatus.PATIENT_BILLED
    assert list(selfpay.status_history.values_list("from_status", "to_status")) == [
        ("draft", "patient_billed")
    ]
    assert list(insured.status_history.values_list("from_status", "to_status"))[-2:] == [
        ("paid", "patient_billed"),
        ("patient_billed", "paid"),
    ]


@pytest.mark.parametrize(
    ("amount", "kwargs", "message"),
    [
        ("0", {}, "more than zero"),
        ("-5.00", {}, "more than zero"),
        ("10.005", {}, "more decimals than cents"),
        ("ten", {}, "not an amount of money"),
        ("10.00", {"method": "bitcoin"}, "Unknown payment method"),
        ("10.00", {"method": "card", "reference": "4111 1111 1111 1111"}, "looks like a card number"),
        ("10.00", {"method": "card", "reference": "auth 5555-5555-5555-4444"}, "looks like a card number"),
        ("10.00", {"method": "check", "reference": ""}, "check number"),
        ("10.00", {"received_on": datetime.date(2099, 1, 1)}, "in the future"),
    ],
)
@pytest.mark.django_db
def test_bad_payment_is_refused_and_nothing_saved(practice, patient, amount, kwargs, message):
    claim = self_pay_claim(practice, patient, "60.00")
    before = Transaction.objects.count()
    with pytest.raises(ValidationError, match=message):
        pay(practice, patient, amount, **kwargs)
    assert PatientPayment.objects.count() == 0 and PaymentAllocation.objects.count() == 0
    assert Transaction.objects.count() == before and balances(claim) == Decimal("60.00")


@pytest.mark.django_db
def test_refund_above_credit_refused(practice, patient):
    self_pay_claim(practice, patient, "60.00")
    pay(practice, patient, "70.00")
    before = Transaction.objects.count()
    with pytest.raises(
        ValidationError, match=r"The refund \(10.01\) is more than the patient's credit \(10.00\)"
    ):
        patient_credit_refund(practice=practice, patient=patient, amount="10.01", method="cash", user=None)
    assert CreditRefund.objects.count() == 0 and Transaction.objects.count() == before


@pytest.mark.django_db
def test_payment_on_another_practices_patient_or_claim_refused(practice, other_practice, patient):
    stranger = new_patient(other_practice)
    self_pay_claim(other_practice, stranger, "60.00")
    with pytest.raises(ValidationError, match="another practice"):
        pay(practice, stranger, "10.00")
    mine = self_pay_claim(practice, patient, "60.00")
    with pytest.raises(ValidationError, match="not this patient's"):
        pay(practice, new_patient(practice), "10.00", claim=mine)
    assert PatientPayment.objects.count() == 0


def test_card_number_detection():
    assert looks_like_card_number("4111111111111111")
    assert looks_like_card_number("378282246310005")  # Amex, 15 digits
    assert not looks_like_card_number("1042")
    assert not looks_like_card_number("AUTH 839201")
    assert not looks_like_card_number("4111111111111112")  # fails Luhn
