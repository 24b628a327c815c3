"""Two payments recorded at the same moment on one plan (PostgreSQL): serialised on the plan's row lock, the
installments, the plan payments and the ledger all agree; a second payment that no longer fits is refused
whole."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from claims.ledger import ledger_check
from claims.models import Claim
from payment_plans.models import Installment, PlanPayment
from payment_plans.plans.services import plan_payment_record
from tests.payment_plans.conftest import make_plan

D = Decimal


def _at_once(plan, amounts):
    barrier = threading.Barrier(len(amounts))
    errors = []

    def worker(amount):
        try:
            barrier.wait(10)
            plan_payment_record(
                plan=plan, amount=D(amount), method="cash", received_on=datetime.date(2026, 4, 1)
            )
        except ValidationError as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(amount,)) for amount in amounts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections (PostgreSQL)")
@pytest.mark.django_db(transaction=True)
def test_two_payments_at_once_on_one_plan_leave_correct_balances(debtor):
    plan = make_plan(debtor)  # 333.33, 333.33, 333.34
    assert _at_once(plan, ["400.00", "300.00"]) == []
    assert list(
        Installment.objects.filter(plan=plan).order_by("sequence").values_list("paid_amount", "status")
    ) == [(D("333.33"), "paid"), (D("333.33"), "paid"), (D("33.34"), "partial")]
    assert sum(PlanPayment.objects.values_list("amount", flat=True)) == D("700.00")
    assert sum(Claim.objects.filter(patient=debtor).values_list("patient_balance", flat=True)) == D("300.00")
    assert ledger_check() == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections (PostgreSQL)")
@pytest.mark.django_db(transaction=True)
def test_of_two_payments_that_together_overpay_the_plan_the_second_is_refused_whole(debtor):
    plan = make_plan(debtor)
    errors = _at_once(plan, ["800.00", "700.00"])
    assert len(errors) == 1 and "left on plan" in str(errors[0])
    paid = PlanPayment.objects.get().amount
    assert paid in (D("800.00"), D("700.00"))
    assert sum(Installment.objects.filter(plan=plan).values_list("paid_amount", flat=True)) == paid
    assert (
        sum(Claim.objects.filter(patient=debtor).values_list("patient_balance", flat=True))
        == D("1000.00") - paid
    )
    assert ledger_check() == []
