"""Plans: the affordability check, schedules in Decimal with the remainder last, the policy's limits,
payments through the ledger onto installments, new terms with history, a balance joining, cancelling, and
the daily detection of missed installments."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from claims.ledger import ledger_check
from claims.models import Claim, ClaimStatusChange, Transaction
from claims.state_machine import claim_transition
from payment_plans.models import (
    Installment,
    PaymentPlan,
    PlanModification,
    PlanPayment,
    PlanStatusChange,
)
from payment_plans.plans.affordability import affordability_check, poverty_allowance
from payment_plans.plans.schedule import Due, schedule_build
from payment_plans.plans.services import (
    plan_add_balance,
    plan_cancel,
    plan_modify,
    plan_payment_record,
    plan_policy_update,
    plans_status_refresh,
)
from rcm.audit import audit_context
from rcm.models import AuditEvent
from tests.payment_plans.conftest import TODAY, make_plan, self_pay_claim

D = Decimal


def schedule_of(plan):
    return [
        (i.sequence, i.due_date, i.amount, i.paid_amount, i.status)
        for i in Installment.objects.filter(plan=plan).order_by("sequence")
    ]


def test_the_affordability_check_suggests_ten_percent_of_discretionary_income():
    result = affordability_check(
        monthly_income=D("5000.00"),
        household_size=3,
        essential_expenses=D("2000.00"),
        minimum_payment=D("25"),
    )
    # 2025 guideline for 3: 15,650 + 2 × 5,500 = 26,650 a year = 2,220.83 a month
    assert poverty_allowance(3) == D("2220.83")
    assert result.discretionary == D("779.17")
    assert result.suggested_payment == D("78.00")
    assert result.warning(D("116.00"), "monthly") == ""
    assert result.warning(D("117.00"), "monthly").startswith("$117.00 a month is more than 15%")
    # weekly $30 is $130.00 a month
    assert "$130.00 a month" in result.warning(D("30.00"), "weekly")


def test_a_patient_with_no_discretionary_income_is_suggested_the_practice_minimum():
    result = affordability_check(
        monthly_income=D("1500"), household_size=4, essential_expenses=D("1400"), minimum_payment=D("25.00")
    )
    assert (result.discretionary, result.suggested_payment) == (D("0.00"), D("25.00"))


def test_bad_affordability_input_names_each_field():
    with pytest.raises(ValidationError) as caught:
        affordability_check(
            monthly_income=D("-1"), household_size=0, essential_expenses=D("-5"), minimum_payment=D("25")
        )
    assert set(caught.value.message_dict) == {"monthly_income", "household_size", "essential_expenses"}


def test_a_schedule_by_term_puts_the_rounding_remainder_on_the_last_installment():
    rows = schedule_build(
        financed=D("1000.00"), frequency="monthly", start=datetime.date(2026, 1, 31), term=3
    )
    assert rows == [
        Due(datetime.date(2026, 1, 31), D("333.33")),
        Due(datetime.date(2026, 2, 28), D("333.33")),
        Due(datetime.date(2026, 3, 31), D("333.34")),
    ]


def test_a_schedule_by_amount_ends_with_the_remainder_every_two_weeks():
    rows = schedule_build(
        financed=D("250.00"),
        frequency="biweekly",
        start=datetime.date(2026, 5, 1),
        installment_amount=D("60"),
    )
    assert [(r.due_date, r.amount) for r in rows] == [
        (datetime.date(2026, 5, 1), D("60")),
        (datetime.date(2026, 5, 15), D("60")),
        (datetime.date(2026, 5, 29), D("60")),
        (datetime.date(2026, 6, 12), D("60")),
        (datetime.date(2026, 6, 26), D("10.00")),
    ]


def test_a_plan_covers_the_open_balance_with_a_down_payment_first(debtor, collections_user):
    plan = make_plan(debtor, down_payment=D("100.00"), user=collections_user)
    assert plan.total_amount == D("1000.00")
    assert set(plan.claims.all()) == set(debtor.claims_owed)
    assert schedule_of(plan) == [
        (0, TODAY, D("100.00"), D("0.00"), "due"),
        (1, datetime.date(2026, 5, 1), D("300.00"), D("0.00"), "due"),
        (2, datetime.date(2026, 6, 1), D("300.00"), D("0.00"), "due"),
        (3, datetime.date(2026, 7, 1), D("300.00"), D("0.00"), "due"),
    ]
    assert list(PlanStatusChange.objects.filter(plan=plan).values_list("from_status", "to_status", "by")) == [
        ("", "active", collections_user.pk)
    ]


@pytest.mark.parametrize(
    ("policy", "kwargs", "message"),
    [
        (
            {"minimum_balance": D("1500")},
            {},
            "The balance of $1000.00 is below the practice's minimum of $1500",
        ),
        (
            {"maximum_term_months": 2},
            {},
            "3 monthly installments is longer than the practice's maximum term of 2",
        ),
        (
            {"minimum_monthly_payment": D("400")},
            {},
            "$333.33 monthly is $333.33 a month, below the practice's minimum monthly payment of $400",
        ),
        ({"down_payment_percent": D("20")}, {}, "down payment of at least $200.00 (20.00% of $1000.00)"),
        (
            {},
            {
                "term": None,
                "installments": [
                    Due(datetime.date(2026, 5, 1), D("500")),
                    Due(datetime.date(2026, 6, 1), D("400")),
                ],
            },
            "The installments add up to $900.00 but the plan finances $1000.00.",
        ),
        ({}, {"autopay": True}, "Autopay needs the payment processor's token."),
        ({}, {"payment_method_token": "4111111111111111"}, "never a card number"),
        ({}, {"start_date": datetime.date(2026, 3, 1)}, "cannot be due in the past"),
    ],
)
def test_a_plan_outside_the_policy_is_refused_and_nothing_is_saved(debtor, practice, policy, kwargs, message):
    if policy:
        plan_policy_update(practice=practice, **policy)
    with pytest.raises(ValidationError) as caught:
        make_plan(debtor, **kwargs)
    assert message in str(caught.value)
    assert (PaymentPlan.objects.count(), Installment.objects.count(), PlanStatusChange.objects.count()) == (
        0,
        0,
        0,
    )


def test_a_payment_goes_through_the_ledger_then_to_installments_oldest_first(debtor, collections_user):
    plan = make_plan(debtor, down_payment=D("100.00"))
    payment = plan_payment_record(
        plan=plan,
        amount=D("250.00"),
        method="check",
        reference="1042",
        user=collections_user,
        received_on=TODAY,
    )
    assert schedule_of(plan)[:2] == [
        (0, TODAY, D("100.00"), D("100.00"), "paid"),
        (1, datetime.date(2026, 5, 1), D("300.00"), D("150.00"), "partial"),
    ]
    assert list(payment.allocations.values_list("installment__sequence", "amount")) == [
        (0, D("100.00")),
        (1, D("150.00")),
    ]
    # The older claim ($600) takes the whole payment; the ledger stays balanced.
    first, second = (Claim.objects.get(pk=c.pk) for c in debtor.claims_owed)
    assert (first.patient_paid, first.patient_balance, second.patient_balance) == (
        D("250.00"),
        D("350.00"),
        D("400.00"),
    )
    assert list(
        Transaction.objects.filter(kind="patient_payment").values_list("amount", "source_reference")
    ) == [(D("250.00"), "R-000001")]
    assert (payment.patient_payment.receipt_number, payment.patient_payment.reference) == ("R-000001", "1042")
    assert ledger_check() == []


def test_the_last_payment_completes_the_plan(debtor):
    plan = make_plan(debtor)
    plan_payment_record(plan=plan, amount=D("1000.00"), method="cash")
    plan.refresh_from_db()
    assert plan.status == "completed"
    assert Claim.objects.filter(patient=debtor, patient_balance=0).count() == 2


@pytest.mark.parametrize(
    ("amount", "message"),
    [(D("0"), "must be more than zero"), (D("1000.01"), "$1000.01 is more than the $1000.00 left on plan")],
)
def test_a_bad_payment_is_refused_and_nothing_moves(debtor, amount, message):
    plan = make_plan(debtor)
    with pytest.raises(ValidationError, match=message.replace("$", r"\$").replace(".", r"\.")):
        plan_payment_record(plan=plan, amount=amount, method="cash")
    assert (Transaction.objects.filter(kind="patient_payment").count(), PlanPayment.objects.count()) == (0, 0)


def test_a_payment_on_a_cancelled_plan_is_refused(debtor, collections_user):
    plan = plan_cancel(plan=make_plan(debtor), user=collections_user, reason="Patient will pay in full")
    with pytest.raises(ValidationError, match="is cancelled: no payment can be recorded"):
        plan_payment_record(plan=plan, amount=D("10"), method="cash")
    assert PlanPayment.objects.count() == 0
    assert {i[4] for i in schedule_of(plan)} == {"cancelled"}
    assert Claim.objects.filter(patient=debtor).values_list("patient_balance", flat=True).count() == 2


def test_new_terms_re_amortise_the_remaining_balance_with_history(debtor, collections_user):
    plan = make_plan(debtor)
    plan_payment_record(plan=plan, amount=D("100.00"), method="cash")
    plan_modify(
        plan=plan,
        frequency="biweekly",
        start_date=datetime.date(2026, 5, 15),
        term=5,
        reason="Paid every two weeks",
        user=collections_user,
        today=TODAY,
    )
    assert schedule_of(plan) == [
        (1, datetime.date(2026, 5, 1), D("100.00"), D("100.00"), "paid"),
        (2, datetime.date(2026, 6, 1), D("333.33"), D("0.00"), "cancelled"),
        (3, datetime.date(2026, 7, 1), D("333.34"), D("0.00"), "cancelled"),
        (4, datetime.date(2026, 5, 15), D("180.00"), D("0.00"), "due"),
        (5, datetime.date(2026, 5, 29), D("180.00"), D("0.00"), "due"),
        (6, datetime.date(2026, 6, 12), D("180.00"), D("0.00"), "due"),
        (7, datetime.date(2026, 6, 26), D("180.00"), D("0.00"), "due"),
        (8, datetime.date(2026, 7, 10), D("180.00"), D("0.00"), "due"),
    ]
    (change,) = PlanModification.objects.filter(plan=plan)
    assert change.before["open_installments"] == [
        ["2026-05-01", "233.33"],
        ["2026-06-01", "333.33"],
        ["2026-07-01", "333.34"],
    ]
    assert (change.after["frequency"], change.after["term"], change.by_id) == (
        "biweekly",
        5,
        collections_user.pk,
    )


def test_new_terms_for_a_delinquent_plan_are_dated_at_the_moment_given(debtor, practice):
    """``at`` dates the modification and the move back to active (the demo back-dates its own)."""
    plan_policy_update(practice=practice, grace_days=5)
    plan = make_plan(debtor)
    plans_status_refresh(
        practice=practice,
        today=datetime.date(2026, 5, 7),
        at=datetime.datetime(2026, 5, 7, 12, tzinfo=datetime.UTC),
    )
    plan.refresh_from_db()
    at = datetime.datetime(2026, 5, 8, 14, tzinfo=datetime.UTC)
    plan_modify(
        plan=plan,
        frequency="monthly",
        start_date=datetime.date(2026, 5, 20),
        term=4,
        reason="Due after payday",
        today=datetime.date(2026, 5, 8),
        at=at,
    )
    assert PlanModification.objects.get(plan=plan).at == at
    assert PlanStatusChange.objects.get(plan=plan, from_status="delinquent", to_status="active").at == at
    plan.refresh_from_db()
    assert (plan.status, plan.status_changed_at) == ("active", at)


def test_a_new_balance_joins_the_plan_at_the_same_installment(debtor, practice):
    plan = make_plan(debtor, term=4)  # 4 × $250
    new_claim = self_pay_claim(practice, debtor, "500.00", datetime.date(2026, 3, 20))
    plan_add_balance(plan=plan, claims=[new_claim], today=TODAY)
    plan.refresh_from_db()
    assert (plan.total_amount, plan.term, plan.installment_amount) == (D("1500.00"), 6, D("250.00"))
    assert new_claim in plan.claims.all()
    assert PlanModification.objects.get(plan=plan).kind == "balance_added"


def test_missed_installments_make_the_plan_delinquent_then_defaulted_once(debtor, practice):
    plan_policy_update(practice=practice, grace_days=5, missed_before_default=2)
    plan = make_plan(debtor)
    assert plans_status_refresh(practice=practice, today=datetime.date(2026, 5, 6)) == {
        "missed": 0,
        "delinquent": 0,
        "defaulted": 0,
    }
    assert plans_status_refresh(practice=practice, today=datetime.date(2026, 5, 7)) == {
        "missed": 1,
        "delinquent": 1,
        "defaulted": 0,
    }
    assert plans_status_refresh(practice=practice, today=datetime.date(2026, 5, 7)) == {
        "missed": 0,
        "delinquent": 0,
        "defaulted": 0,
    }
    plan.refresh_from_db()
    assert plan.status == "delinquent"
    # Catching up makes it active again.
    plan_payment_record(plan=plan, amount=D("333.33"), method="card")
    plan.refresh_from_db()
    assert plan.status == "active"
    plans_status_refresh(practice=practice, today=datetime.date(2026, 7, 7))
    plan.refresh_from_db()
    assert plan.status == "defaulted"
    assert list(PlanStatusChange.objects.filter(plan=plan).values_list("from_status", "to_status")) == [
        ("", "active"),
        ("active", "delinquent"),
        ("delinquent", "active"),
        ("active", "defaulted"),
    ]


def test_a_back_dated_plan_and_its_payoff_carry_the_moments_given(debtor):
    """The demo back-dates its plans: every row a plan writes (the plan, its history, the payment, the
    receipt, the ledger, the installments and the claims' move to paid) carries the ``at`` it is given."""
    made = datetime.datetime(2026, 4, 1, 14, tzinfo=datetime.UTC)
    paid = datetime.datetime(2026, 5, 1, 16, tzinfo=datetime.UTC)
    for claim in debtor.claims_owed:
        claim_transition(claim=claim, to_status="patient_billed", at=made - datetime.timedelta(days=1))
    plan = make_plan(debtor, at=made)
    payment = plan_payment_record(
        plan=plan, amount=D("1000.00"), method="cash", received_on=datetime.date(2026, 5, 1), at=paid
    )
    plan.refresh_from_db()
    assert (plan.created_at, plan.status, plan.status_changed_at) == (made, "completed", paid)
    assert list(PlanStatusChange.objects.filter(plan=plan).values_list("to_status", "at")) == [
        ("active", made),
        ("completed", paid),
    ]
    assert (payment.recorded_at, payment.patient_payment.recorded_at) == (paid, paid)
    assert set(Installment.objects.filter(plan=plan).values_list("paid_at", flat=True)) == {paid}
    assert set(Transaction.objects.filter(kind="patient_payment").values_list("posted_at", flat=True)) == {
        paid
    }
    settled = ClaimStatusChange.objects.filter(claim__patient=debtor, to_status="paid")
    assert sorted(settled.values_list("from_status", "at")) == [("patient_billed", paid)] * 2


def test_a_back_dated_cancellation_carries_its_moment(debtor):
    made = datetime.datetime(2026, 4, 1, 14, tzinfo=datetime.UTC)
    plan = plan_cancel(plan=make_plan(debtor, at=made), reason="Paid elsewhere", at=made)
    assert list(PlanStatusChange.objects.filter(plan=plan).values_list("to_status", "at")) == [
        ("active", made),
        ("cancelled", made),
    ]


def test_the_daily_detection_writes_no_audit_event_when_the_log_is_off(debtor, practice):
    """Data generators (seed_demo) turn the audit log off: the detection honours it, as every service does."""
    make_plan(debtor)
    with audit_context(source="command", enabled=False):
        assert plans_status_refresh(practice=practice, today=datetime.date(2026, 5, 20))["missed"] == 1
    assert not AuditEvent.objects.filter(object_type="payment_plans.paymentplan", action="update").exists()
    with audit_context(source="command"):
        assert plans_status_refresh(practice=practice, today=datetime.date(2026, 6, 20))["missed"] == 1
    (event,) = AuditEvent.objects.filter(object_type="payment_plans.paymentplan", action="update")
    assert event.changes == {"missed_installments": 1, "status_changes": 0, "on": "2026-06-20"}
