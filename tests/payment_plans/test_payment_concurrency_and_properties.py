"""Two payments at the same moment on one patient (PostgreSQL) and random payment / credit / refund
sequences (hypothesis): the balances always add up and agree with the ledger."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from claims.ledger import ledger_check
from claims.models import Claim, ClaimLine, Transaction
from payment_plans.models import AllocationKind, PatientPayment, PaymentAllocation
from payment_plans.services import (
    patient_credit_available,
    patient_credit_refund,
    patient_credits_apply,
    patient_payment_record,
)
from tests.payment_plans.helpers import new_patient, self_pay_claim
from tests.rcm.factories import PracticeFactory

DAY = datetime.date(2026, 4, 1)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections (PostgreSQL)")
@pytest.mark.django_db(transaction=True)
def test_two_payments_at_the_same_moment_leave_correct_balances(practice):
    patient = new_patient(practice)
    claim = self_pay_claim(practice, patient, "100.00", "50.00")
    barrier = threading.Barrier(2)
    errors = []

    def worker(amount):
        try:
            barrier.wait(10)
            patient_payment_record(
                practice=practice, patient=patient, amount=amount, method="cash", received_on=DAY, user=None
            )
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(amount,)) for amount in ("120.00", "60.00")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    claim.refresh_from_db()
    # 180 paid on 150 owed: 150 applied, 30 held as credit (a negative patient balance).
    assert claim.patient_paid == Decimal("180.00")
    assert claim.patient_balance == Decimal("-30.00")
    assert patient_credit_available(patient) == Decimal("30.00")
    applied = sum(a.amount for a in PaymentAllocation.objects.filter(kind=AllocationKind.APPLIED))
    credit = sum(a.amount for a in PaymentAllocation.objects.filter(kind=AllocationKind.CREDIT))
    assert (applied, credit) == (Decimal("150.00"), Decimal("30.00"))
    assert sorted(PatientPayment.objects.values_list("receipt_number", flat=True)) == ["R-000001", "R-000002"]
    assert ledger_check(practice=practice) == []


cents = st.integers(min_value=1, max_value=30_000)
operation = st.one_of(
    st.tuples(st.just("pay"), cents),
    st.tuples(st.just("refund"), cents),
    st.tuples(st.just("bill"), cents),
    st.tuples(st.just("apply_credit"), st.just(0)),
)


class PaymentPropertyTests(TestCase):
    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(ops=st.lists(operation, min_size=1, max_size=12))
    def test_balances_add_up_after_any_sequence(self, ops):
        practice = PracticeFactory()
        patient = new_patient(practice)
        self_pay_claim(practice, patient, "120.00", "30.00", day=datetime.date(2026, 1, 10))
        charged, received, refunded = Decimal("150.00"), Decimal("0"), Decimal("0")
        day = 0
        for kind, value in ops:
            amount = Decimal(value) / 100
            if kind == "pay":
                patient_payment_record(
                    practice=practice,
                    patient=patient,
                    amount=amount,
                    method="cash",
                    received_on=DAY,
                    user=None,
                )
                received += amount
            elif kind == "refund":
                credit = patient_credit_available(patient)
                if amount > credit:
                    with self.assertRaises(ValidationError):
                        patient_credit_refund(
                            practice=practice, patient=patient, amount=amount, method="cash", user=None
                        )
                else:
                    patient_credit_refund(
                        practice=practice, patient=patient, amount=amount, method="cash", user=None
                    )
                    refunded += amount
            elif kind == "bill":
                day += 1
                self_pay_claim(
                    practice, patient, str(amount), day=datetime.date(2026, 2, 1) + datetime.timedelta(day)
                )
                charged += amount
            else:
                patient_credits_apply(practice=practice, patient=patient, user=None)
            claims = Claim.objects.filter(patient=patient)
            net = sum(c.patient_balance for c in claims)
            assert net == charged - received + refunded
            assert sum(c.patient_paid for c in claims) == received - refunded
            lines = ClaimLine.objects.filter(claim__patient=patient)
            owed = sum((line.patient_balance for line in lines if line.patient_balance > 0), Decimal(0))
            credit = patient_credit_available(patient)
            assert credit >= 0 and owed - credit == net
            allocations = PaymentAllocation.objects.filter(practice=practice)
            by_kind = {k: sum(a.amount for a in allocations if a.kind == k) for k in AllocationKind.values}
            assert by_kind["applied"] + by_kind["credit"] - by_kind["credit_used"] == received
            assert by_kind["refunded"] == refunded
            assert by_kind["credit"] - by_kind["credit_used"] - by_kind["refunded"] == credit
            assert ledger_check(practice=practice) == []
        assert Transaction.objects.filter(practice=practice, kind="patient_payment").exists() == (
            received > 0
        )
