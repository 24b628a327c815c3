"""The payment plans API: create with the affordability check, schedule, payments, new terms, cancel, the
reminder log; the error format for bad input, roles, tenancy and the schema."""

import datetime
from decimal import Decimal

import pytest
import yaml

from payment_plans.models import PaymentPlan, PlanPayment, Reminder
from tests.conftest import login
from tests.payment_plans.conftest import make_plan, self_pay_claim

D = Decimal
START = (datetime.date.today() + datetime.timedelta(days=10)).isoformat()
TODAY = datetime.date.today().isoformat()
AFFORD = {"monthly_income": "5000.00", "household_size": 3, "essential_expenses": "2000.00"}


def post(client, url, data):
    return client.post(url, data, content_type="application/json")


def test_the_affordability_check_alone_saves_nothing(collections_user):
    response = post(login(collections_user), "/api/payment-plans/affordability/", AFFORD)
    assert response.status_code == 200
    assert response.json() == {
        "monthly_income": "5000.00",
        "household_size": 3,
        "essential_expenses": "2000.00",
        "allowance": "2220.83",
        "discretionary": "779.17",
        "suggested_payment": "78.00",
    }


def test_create_a_plan_with_the_check_then_read_its_schedule(debtor, collections_user):
    client = login(collections_user)
    response = post(
        client,
        "/api/payment-plans/",
        {
            "patient": debtor.pk,
            "frequency": "monthly",
            "start_date": START,
            "term": 4,
            "down_payment": "100.00",
            "affordability": AFFORD,
            "accept_warning": True,
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["total_amount"], body["installment_amount"], body["suggested_payment"]) == (
        "active",
        "1000.00",
        "225.00",
        "78.00",
    )
    assert [(i["sequence"], i["amount"]) for i in body["installments"]] == [
        (0, "100.00"),
        (1, "225.00"),
        (2, "225.00"),
        (3, "225.00"),
        (4, "225.00"),
    ]
    schedule = client.get(f"/api/payment-plans/{body['id']}/schedule/").json()
    assert [row["status"] for row in schedule] == ["due"] * 5


def test_a_payment_above_15_percent_is_refused_without_accept_warning(debtor, collections_user):
    response = post(
        login(collections_user),
        "/api/payment-plans/",
        {
            "patient": debtor.pk,
            "frequency": "monthly",
            "start_date": START,
            "installment_amount": "250.00",
            "affordability": AFFORD,
        },
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["fields"]["installment_amount"][0].startswith("$250.00 a month is more than 15%")
    assert PaymentPlan.objects.count() == 0


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        (
            {"term": 30},
            "non_field_errors",
            "30 monthly installments is longer than the practice's maximum term of 12",
        ),
        (
            {
                "installments": [
                    {"due_date": START, "amount": "500.00"},
                    {"due_date": "2099-01-01", "amount": "499.00"},
                ]
            },
            "non_field_errors",
            "The installments add up to $999.00 but the plan finances $1000.00.",
        ),
        (
            {"term": 2, "payment_method_token": "4111 1111 1111 1111"},
            "payment_method_token",
            "never a card number",
        ),
    ],
)
def test_bad_plans_get_a_clear_message_and_nothing_is_saved(debtor, collections_user, extra, field, message):
    response = post(
        login(collections_user),
        "/api/payment-plans/",
        {"patient": debtor.pk, "frequency": "monthly", "start_date": START, **extra},
    )
    assert response.status_code == 400
    assert message in response.json()["error"]["fields"][field][0]
    assert PaymentPlan.objects.count() == 0


def test_payments_modify_and_cancel_through_the_api(debtor, collections_user):
    plan = make_plan(debtor)
    client = login(collections_user)
    response = post(
        client,
        f"/api/payment-plans/{plan.pk}/payments/",
        {"amount": "400.00", "method": "online", "reference": "tx-9", "received_on": TODAY},
    )
    assert response.status_code == 201, response.json()
    assert response.json()["allocations"] == [
        {"installment": plan.installments.get(sequence=1).pk, "sequence": 1, "amount": "333.33"},
        {"installment": plan.installments.get(sequence=2).pk, "sequence": 2, "amount": "66.67"},
    ]
    assert [p["amount"] for p in client.get(f"/api/payment-plans/{plan.pk}/payments/").json()] == ["400.00"]
    response = post(
        client,
        f"/api/payment-plans/{plan.pk}/modify/",
        {
            "frequency": "biweekly",
            "start_date": START,
            "installment_amount": "150.00",
            "reason": "Smaller payments",
        },
    )
    assert response.status_code == 200, response.json()
    assert (response.json()["term"], response.json()["remaining"]) == (4, "600.00")
    response = post(client, f"/api/payment-plans/{plan.pk}/cancel/", {"reason": "Moved away"})
    assert response.json()["status"] == "cancelled"
    response = post(client, f"/api/payment-plans/{plan.pk}/payments/", {"amount": "10.00", "method": "cash"})
    assert response.status_code == 400
    assert "is cancelled: no payment can be recorded on it" in response.json()["error"]["message"]
    assert PlanPayment.objects.count() == 1


def test_the_reminder_log_is_scoped_and_filtered(debtor, practice, collections_user, outsider):
    plan = make_plan(debtor)
    Reminder.objects.create(
        practice=practice,
        patient=debtor,
        plan=plan,
        kind="upcoming",
        key_date=datetime.date(2026, 5, 1),
        key="k1",
        channel="sms",
        status="sent",
        body="Hi",
    )
    rows = login(collections_user).get("/api/payment-plans/reminders/?status=sent").json()
    results = rows["results"] if isinstance(rows, dict) else rows
    assert [(r["key"], r["channel"], r["status"]) for r in results] == [("k1", "sms", "sent")]
    other = login(outsider).get("/api/payment-plans/reminders/").json()
    assert (other["results"] if isinstance(other, dict) else other) == []
    assert login(outsider).get(f"/api/payment-plans/{plan.pk}/").status_code == 404


def test_the_biller_cannot_create_plans(debtor, biller):
    response = post(
        login(biller),
        "/api/payment-plans/",
        {"patient": debtor.pk, "frequency": "monthly", "start_date": START, "term": 2},
    )
    assert response.status_code == 403
    assert PaymentPlan.objects.count() == 0


def test_the_schema_describes_the_plan_operations(manager):
    schema = yaml.safe_load(login(manager).get("/api/schema/").content)
    expected = {
        "/api/payment-plans/": {"get", "post"},
        "/api/payment-plans/{id}/": {"get"},
        "/api/payment-plans/affordability/": {"post"},
        "/api/payment-plans/{id}/schedule/": {"get"},
        "/api/payment-plans/{id}/payments/": {"get", "post"},
        "/api/payment-plans/{id}/modify/": {"post"},
        "/api/payment-plans/{id}/cancel/": {"post"},
        "/api/payment-plans/reminders/": {"get"},
        "/api/payment-plans/reminders/{id}/": {"get"},
    }
    for path, methods in expected.items():
        assert set(schema["paths"][path]) & {"get", "post", "put", "delete"} == methods, path


def test_a_new_balance_joins_through_the_api(debtor, practice, collections_user, outsider):
    plan = make_plan(debtor, term=4)
    new_claim = self_pay_claim(practice, debtor, "500.00", datetime.date(2026, 3, 20))
    client = login(collections_user)
    response = post(client, f"/api/payment-plans/{plan.pk}/add-balance/", {"claims": [new_claim.pk]})
    assert response.status_code == 200, response.json()
    assert (response.json()["total_amount"], response.json()["term"]) == ("1500.00", 6)
    again = post(client, f"/api/payment-plans/{plan.pk}/add-balance/", {"claims": [new_claim.pk]})
    assert again.status_code == 400
    assert "another open plan already covers it" in again.json()["error"]["message"]
