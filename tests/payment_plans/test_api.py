"""The patient account API: account, payments (list, record, bad input), statements (list, PDF) and the
worklist; scoped to the practice and to the role."""

import datetime

import pytest
from django.utils import timezone

from payment_plans.models import PatientPayment, StatementRun
from payment_plans.statements import statement_run_chunk, statement_send
from rcm.models import AuditEvent
from tests.api import api
from tests.payment_plans.helpers import insured_claim_with_patient_part, new_patient, self_pay_claim


@pytest.fixture
def owing(practice):
    patient = new_patient(practice, account_number="A0000777")
    insured_claim_with_patient_part(
        practice,
        patient,
        deductible="50.00",
        copay="20.00",
        paid="100.00",
        day=timezone.localdate() - datetime.timedelta(days=100),
    )
    self_pay_claim(practice, patient, "75.00", day=timezone.localdate() - datetime.timedelta(days=40))
    return patient


@pytest.mark.django_db
def test_account_says_what_is_owed_and_why(owing, collections_user):
    response = api(collections_user).get(f"/api/patients/{owing.pk}/account/")
    assert response.status_code == 200
    data = response.json()
    assert data["totals"] == {"owed": "145.00", "credit": "0.00", "net": "145.00"}
    assert [c["balance"] for c in data["claims"]] == ["70.00", "75.00"]
    assert data["claims"][0]["lines"][0]["reasons"] == {"deductible": "50.00", "copay": "20.00"}
    assert data["claims"][1]["lines"][0]["reasons"] == {"self_pay": "75.00"}
    assert data["on_hold"] is False
    assert AuditEvent.objects.filter(action="view", object_type="rcm.patient", source="api").count() == 1


@pytest.mark.django_db
def test_record_and_list_payments(owing, collections_user):
    client = api(collections_user)
    response = client.post(
        f"/api/patients/{owing.pk}/payments/",
        {
            "amount": "100.00",
            "method": "card",
            "reference": "AUTH 8812",
            "received_on": timezone.localdate().isoformat(),
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["receipt_number"] == "R-000001"
    assert [(a["kind"], a["amount"]) for a in body["allocations"]] == [
        ("applied", "70.00"),
        ("applied", "30.00"),
    ]
    listed = client.get(f"/api/patients/{owing.pk}/payments/").json()
    assert [p["amount"] for p in listed] == ["100.00"]
    assert client.get(f"/api/patients/{owing.pk}/account/").json()["totals"]["owed"] == "45.00"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"amount": "0.00"}, "amount", "The amount must be more than zero (got 0.00)."),
        ({"amount": "1.234"}, "amount", "1.234 has more decimals than cents; use at most two decimals."),
        (
            {"amount": "5", "reference": "5555555555554444"},
            "reference",
            "The reference looks like a card number.",
        ),
    ],
)
@pytest.mark.django_db
def test_bad_payment_is_a_400_naming_the_field(owing, collections_user, body, field, message):
    payload = {"method": "card", "received_on": timezone.localdate().isoformat(), **body}
    response = api(collections_user).post(f"/api/patients/{owing.pk}/payments/", payload, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["fields"][field][0].startswith(message)
    assert PatientPayment.objects.count() == 0


@pytest.mark.django_db
def test_statements_list_and_pdf(practice, owing, collections_user):
    statement = statement_send(practice=practice, patient=owing)
    client = api(collections_user)
    assert [s["id"] for s in client.get(f"/api/patients/{owing.pk}/statements/").json()] == [statement.pk]
    pdf = client.get(f"/api/patients/{owing.pk}/statements/{statement.pk}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content[:4] == b"%PDF"


@pytest.mark.django_db
def test_worklist_and_scoping(owing, collections_user, outsider, persona):
    rows = api(collections_user).get("/api/collections/worklist/").json()
    assert [(r["account_number"], r["owed"], r["reasons"]) for r in rows] == [
        ("A0000777", "145.00", ["Balance over 60 days old, no payment plan"])
    ]
    assert api(outsider).get(f"/api/patients/{owing.pk}/account/").status_code == 404
    biller = persona("biller").user
    assert api(biller).get("/api/collections/worklist/").status_code == 403
    response = api(biller).post(
        f"/api/patients/{owing.pk}/payments/",
        {"amount": "5.00", "method": "cash", "received_on": timezone.localdate().isoformat()},
        format="json",
    )
    assert response.status_code == 403 and PatientPayment.objects.count() == 0


@pytest.mark.django_db
def test_statement_runs_started_and_followed_through_the_api(
    practice, owing, collections_user, manager, outsider
):
    client = api(collections_user)
    assert api(manager).post("/api/statement-runs/").status_code == 403  # a manager looks, does not send
    started = client.post("/api/statement-runs/")
    assert started.status_code == 201
    body = started.json()
    assert {k: body[k] for k in ("source", "started_by", "done", "selected", "sent", "chunk_count")} == {
        "source": "api",
        "started_by": collections_user.username,
        "done": False,
        "selected": 1,
        "sent": 0,
        "chunk_count": 1,
    }
    refused = client.post("/api/statement-runs/")
    assert refused.status_code == 400 and "is still going" in str(refused.json())

    statement_run_chunk(StatementRun.objects.get(pk=body["id"]).chunks.get().pk)  # a worker's turn
    run = api(manager).get(f"/api/statement-runs/{body['id']}/").json()
    assert (run["done"], run["sent"], run["not_sent"], run["failed"], run["chunks_done"]) == (
        True,
        1,
        0,
        0,
        1,
    )
    assert [r["id"] for r in client.get("/api/statement-runs/").json()] == [body["id"]]
    assert api(outsider).get(f"/api/statement-runs/{body['id']}/").status_code == 404
    assert api(outsider).get("/api/statement-runs/").json() == []
