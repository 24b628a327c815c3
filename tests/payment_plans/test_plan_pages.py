"""Plan pages: a plan built from the affordability check, its schedule, a payment, new terms, cancelling,
the agreement PDF, the manager's policy, the reminder log; roles, tenancy and query counts."""

import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from pypdf import PdfReader

from payment_plans.models import Installment, PaymentPlan, PlanPayment, PlanPolicy, Reminder
from rcm.models import AuditEvent
from rcm.roles import Role
from rcm.services import consent_record, consents_current
from tests.conftest import login
from tests.payment_plans.conftest import make_plan, self_pay_claim

D = Decimal
FUTURE = (datetime.date.today() + datetime.timedelta(days=20)).isoformat()
CHECK = {"action": "check", "monthly_income": "5000", "household_size": "3", "essential_expenses": "2000"}


def test_the_patient_page_links_to_the_patients_plans(debtor, collections_user):
    response = login(collections_user).get(reverse("patient_detail", args=[debtor.pk]))
    assert reverse("payment_plans:patient", args=[debtor.pk]).encode() in response.content


def test_a_plan_is_built_from_the_affordability_check(debtor, collections_user):
    client = login(collections_user)
    url = reverse("payment_plans:new", args=[debtor.pk])
    page = client.post(url, CHECK)
    assert page.status_code == 200
    assert page.context["affordability"].suggested_payment == D("78.00")
    assert b'data-testid="suggested">$78.00' in page.content
    assert page.context["terms_form"].initial["installment_amount"] == D("78.00")
    response = client.post(
        url,
        {
            **CHECK,
            "action": "create",
            "frequency": "monthly",
            "installment_amount": "100.00",
            "start_date": FUTURE,
        },
    )
    plan = PaymentPlan.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "payment_plans:detail", args=[plan.pk]
    )
    assert (plan.term, plan.installment_amount, plan.suggested_payment, plan.household_size) == (
        10,
        D("100.00"),
        D("78.00"),
        3,
    )


def test_a_payment_above_15_percent_of_discretionary_income_needs_a_confirmation(debtor, collections_user):
    client = login(collections_user)
    url = reverse("payment_plans:new", args=[debtor.pk])
    data = {
        **CHECK,
        "action": "create",
        "frequency": "monthly",
        "installment_amount": "200.00",
        "start_date": FUTURE,
    }
    response = client.post(url, data)
    assert response.status_code == 400
    assert "more than 15% of the patient&#x27;s discretionary income" in response.content.decode()
    assert PaymentPlan.objects.count() == 0
    assert client.post(url, {**data, "confirm_warning": "1"}).status_code == 302
    assert PaymentPlan.objects.get().installment_amount == D("200.00")


def test_a_plan_below_the_minimum_balance_is_refused_on_the_page(debtor, collections_user, practice):
    PlanPolicy.objects.create(practice=practice, minimum_balance=D("2000"))
    response = login(collections_user).post(
        reverse("payment_plans:new", args=[debtor.pk]),
        {**CHECK, "action": "create", "frequency": "monthly", "term": "5", "start_date": FUTURE},
    )
    assert response.status_code == 400
    assert "below the practice&#x27;s minimum of $2000.00" in response.content.decode()
    assert PaymentPlan.objects.count() == 0


def test_the_schedule_page_shows_installments_and_records_a_payment(
    debtor, collections_user, django_assert_num_queries
):
    plan = make_plan(debtor, today=datetime.date.today(), start_date=datetime.date.today())
    client = login(collections_user)
    url = reverse("payment_plans:detail", args=[plan.pk])
    # session, user, membership + plan, installments, payments, allocations, history, changes, reminders,
    # the claims that could join, the audit event of the view
    with django_assert_num_queries(12):
        page = client.get(url)
    assert [(i.sequence, i.amount) for i in page.context["installments"]] == [
        (1, D("333.33")),
        (2, D("333.33")),
        (3, D("333.34")),
    ]
    assert AuditEvent.objects.filter(action="view", object_type="payment_plans.paymentplan").count() == 1
    response = client.post(
        reverse("payment_plans:pay", args=[plan.pk]),
        {"amount": "400.00", "method": "cash", "received_on": datetime.date.today().isoformat()},
    )
    assert response.status_code == 302
    assert list(Installment.objects.filter(plan=plan).values_list("paid_amount", "status")) == [
        (D("333.33"), "paid"),
        (D("66.67"), "partial"),
        (D("0.00"), "due"),
    ]


def test_a_bad_payment_on_the_page_says_why_and_saves_nothing(debtor, collections_user):
    plan = make_plan(debtor)
    response = login(collections_user).post(
        reverse("payment_plans:pay", args=[plan.pk]),
        {"amount": "1500.00", "method": "cash", "received_on": datetime.date.today().isoformat()},
    )
    assert response.status_code == 400
    assert "$1500.00 is more than the $1000.00 left on plan" in response.content.decode()
    assert PlanPayment.objects.count() == 0


def test_new_terms_and_cancel_from_the_pages(debtor, collections_user):
    plan = make_plan(debtor)
    client = login(collections_user)
    response = client.post(
        reverse("payment_plans:modify", args=[plan.pk]),
        {"frequency": "weekly", "term": "10", "start_date": FUTURE, "reason": "Paid weekly"},
    )
    assert response.status_code == 302
    plan.refresh_from_db()
    assert (plan.frequency, plan.term, plan.installment_amount) == ("weekly", 10, D("100.00"))
    assert client.post(reverse("payment_plans:cancel", args=[plan.pk]), {"reason": ""}).status_code == 400
    assert (
        client.post(reverse("payment_plans:cancel", args=[plan.pk]), {"reason": "Paid elsewhere"}).status_code
        == 302
    )
    plan.refresh_from_db()
    assert plan.status == "cancelled"


def test_the_agreement_pdf_states_the_terms(debtor, collections_user):
    plan = make_plan(debtor, down_payment=D("100.00"))
    response = login(collections_user).get(reverse("payment_plans:agreement", args=[plan.pk]))
    assert response["Content-Type"] == "application/pdf"
    text = " ".join(PdfReader(io.BytesIO(response.content)).pages[0].extract_text().split())
    assert "Payment plan agreement" in text
    assert "for a balance of $1000.00" in text
    assert "monthly, 3 installments of $300.00 starting 05/01/2026, after a down payment of $100.00" in text
    assert "Ana Reyes" in text
    assert AuditEvent.objects.filter(action="export", object_type="payment_plans.paymentplan").count() == 1


@pytest.mark.parametrize(
    ("role", "status"), [(Role.MANAGER, 200), (Role.ADMIN, 200), (Role.COLLECTIONS, 403), (Role.BILLER, 403)]
)
def test_only_managers_and_admins_edit_the_policy(persona, role, status):
    assert persona(role).get(reverse("payment_plans:policy")).status_code == status


def test_the_manager_saves_the_policy_and_bad_values_are_refused(manager, practice):
    client = login(manager)
    data = {
        "minimum_balance": "100.00",
        "maximum_term_months": "24",
        "minimum_monthly_payment": "20.00",
        "down_payment_percent": "10",
        "grace_days": "5",
        "missed_before_default": "2",
        "statement_reminder_days": "30",
    }
    assert client.post(reverse("payment_plans:policy"), data).status_code == 302
    policy = PlanPolicy.objects.get(practice=practice)
    assert (policy.maximum_term_months, policy.down_payment_percent, policy.grace_days) == (24, D("10.00"), 5)
    response = client.post(
        reverse("payment_plans:policy"), {**data, "maximum_term_months": "0", "grace_days": "5"}
    )
    assert response.status_code == 400
    policy.refresh_from_db()
    assert policy.maximum_term_months == 24


def test_the_biller_cannot_see_plans_and_another_practice_gets_404(debtor, biller, outsider):
    plan = make_plan(debtor)
    assert login(biller).get(reverse("payment_plans:list")).status_code == 403
    assert login(outsider).get(reverse("payment_plans:detail", args=[plan.pk])).status_code == 404
    assert login(outsider).get(reverse("payment_plans:patient", args=[debtor.pk])).status_code == 404


def test_the_plan_list_and_reminder_log_take_a_fixed_number_of_queries(
    debtor, practice, collections_user, django_assert_num_queries
):
    plan = make_plan(debtor)
    for n in range(3):
        Reminder.objects.create(
            practice=practice,
            patient=debtor,
            plan=plan,
            kind="upcoming",
            key_date=datetime.date(2026, 5, 1),
            key=f"k{n}",
            channel="email",
            status="sent",
            body="Subject\n\nHello",
        )
    client = login(collections_user)
    # session, user, membership + count, page rows
    with django_assert_num_queries(5):
        page = client.get(reverse("payment_plans:list"))
    assert [p.pk for p in page.context["page"]] == [plan.pk]
    # + the patients held for want of a time zone
    with django_assert_num_queries(6):
        page = client.get(reverse("payment_plans:reminders") + "?status=sent")
    assert len(page.context["page"]) == 3
    assert page.context["held"] == []
    debtor.time_zone = ""
    debtor.save()
    page = client.get(reverse("payment_plans:reminders"))
    assert page.context["held"] == [debtor]
    assert "Reminders held, no time zone on file for" in page.content.decode()


def test_a_new_balance_joins_the_plan_from_its_page(debtor, practice, collections_user):
    plan = make_plan(debtor, term=4)
    new_claim = self_pay_claim(practice, debtor, "500.00", datetime.date(2026, 3, 20))
    client = login(collections_user)
    page = client.get(reverse("payment_plans:detail", args=[plan.pk]))
    assert [c.pk for c in page.context["joinable"]] == [new_claim.pk]
    assert client.post(reverse("payment_plans:add_balance", args=[plan.pk]), {}).status_code == 400
    response = client.post(reverse("payment_plans:add_balance", args=[plan.pk]), {"claim": [new_claim.pk]})
    assert response.status_code == 302
    plan.refresh_from_db()
    assert (plan.total_amount, plan.term, plan.installment_amount) == (D("1500.00"), 6, D("250.00"))


def test_the_patient_asks_to_stop_texts_and_it_is_honoured_at_once(debtor, collections_user):
    consent_record(patient=debtor, channel="sms", granted=True, method="written form")
    client = login(collections_user)
    url = reverse("payment_plans:opt_out", args=[debtor.pk])
    assert (
        b"Patient asked to stop texts"
        in client.get(reverse("payment_plans:patient", args=[debtor.pk])).content
    )
    response = client.post(url, {"channel": "sms"}, follow=True)
    assert "No more reminders by text message" in response.content.decode()
    assert consents_current(debtor)["sms"] is False
    assert debtor.consent_events.order_by("-id").first().method == "asked staff"
