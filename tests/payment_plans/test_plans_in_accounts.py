"""Payment plans seen from the patient account side: a current plan holds statements and keeps the
patient off the "no plan" worklist; a delinquent or defaulted plan puts them on it; the statement shows
the plan's status and next installment."""

import datetime
from decimal import Decimal

import pytest

from payment_plans.collections import collections_worklist
from payment_plans.plans.state_machine import plan_transition
from payment_plans.statements import statement_candidates, statement_send
from tests.payment_plans.conftest import TODAY, make_plan
from tests.pdfs import pdf_text

LATER = TODAY + datetime.timedelta(days=90)  # the balances are then over 60 days old


@pytest.mark.django_db
def test_a_current_plan_holds_statements_and_keeps_off_the_worklist(practice, debtor):
    assert [p.pk for p in statement_candidates(practice, today=LATER)[0]] == [debtor.pk]
    assert [r.reasons for r in collections_worklist(practice, today=LATER)] == [
        ["Balance over 60 days old, no payment plan"]
    ]
    make_plan(debtor)
    assert statement_candidates(practice, today=LATER) == ([], {debtor.pk: "on a current payment plan"})
    assert collections_worklist(practice, today=LATER) == []


@pytest.mark.parametrize(
    ("path", "reason"),
    [(["delinquent"], "Payment plan delinquent"), (["delinquent", "defaulted"], "Payment plan defaulted")],
)
@pytest.mark.django_db
def test_plans_in_trouble_are_on_the_worklist(practice, debtor, path, reason):
    plan = make_plan(debtor)
    for status in path:
        plan_transition(plan=plan, to_status=status, reason="test")
    assert [(r.patient.pk, r.reasons) for r in collections_worklist(practice, today=TODAY)] == [
        (debtor.pk, [reason])
    ]
    assert [p.pk for p in statement_candidates(practice, today=TODAY)[0]] == [debtor.pk]


@pytest.mark.django_db
def test_the_statement_shows_the_plan_and_its_next_installment(practice, debtor):
    make_plan(debtor)  # $1,000.00 over 3 monthly installments from 05/01/2026
    text = pdf_text(statement_send(practice=practice, patient=debtor, today=TODAY).pdf)
    assert "Next installment: $333.33 due 05/01/2026" in text
    assert "Your plan is active. Plan balance $1,000.00; next installment $333.33 due 05/01/2026." in text
    assert "No payment plan" not in text
    assert Decimal("1000.00") == sum(i.amount for i in debtor.payment_plans.get().installments.all())


@pytest.mark.django_db
def test_the_statement_says_when_the_installment_is_overdue(practice, debtor):
    plan = make_plan(debtor)  # $1,000.00 over 3 monthly installments from 05/01/2026
    plan_transition(plan=plan, to_status="delinquent", reason="test")
    text = pdf_text(statement_send(practice=practice, patient=debtor, today=datetime.date(2026, 5, 20)).pdf)
    assert "Overdue installment: $333.33 due 05/01/2026" in text
    assert (
        "Your plan is delinquent. Plan balance $1,000.00; an installment of $333.33 was due 05/01/2026 "
        "and is overdue: please pay it now." in text
    )
    assert "Next installment" not in text
