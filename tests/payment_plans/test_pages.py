"""The patient account page and its actions, the patient list's sorts and filters, the collections
worklist (reasons, take next, follow-ups, counts, the agency hand-off) and the statement run page."""

import csv
import datetime
import io
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from claims.models import Claim
from payment_plans.collections import account_note_add, collections_worklist
from payment_plans.models import (
    AccountHold,
    AccountNote,
    CollectionAccount,
    PatientPayment,
    Statement,
    StatementKind,
)
from payment_plans.services import patient_payment_record
from payment_plans.statements import statement_send
from rcm.models import AuditEvent
from tests.conftest import login
from tests.payment_plans.helpers import insured_claim_with_patient_part, new_patient, self_pay_claim

ACCOUNT_QUERIES = 20
WORKLIST_QUERIES = 14
PATIENT_LIST_QUERIES = 6  # as in tests/rcm/test_pages_patients.py: the list view writes its audit event


def today():
    return timezone.localdate()


def days_ago(n):
    return today() - datetime.timedelta(days=n)


@pytest.fixture
def owing(practice):
    patient = new_patient(practice, first_name="Elena", last_name="Garcia", account_number="A0000777")
    insured_claim_with_patient_part(
        practice, patient, deductible="50.00", copay="20.00", paid="100.00", day=days_ago(100)
    )
    self_pay_claim(practice, patient, "75.00", day=days_ago(40))
    return patient


def account_url(patient, action=""):
    return f"/patients/{patient.pk}/account/" + (f"{action}/" if action else "")


# --- account page ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_account_shows_what_is_owed_and_why_and_logs_the_view(owing, collections_user):
    response = login(collections_user).get(account_url(owing))
    assert response.status_code == 200
    body = response.content.decode()
    assert re.search(r'data-testid="owed">\$145.00<', body)
    assert (
        "Deductible $50.00" in body
        and "Copay $20.00" in body
        and "Self-pay (no insurance billed) $75.00" in body
    )
    assert (
        AuditEvent.objects.filter(action="view", object_type="rcm.patient", object_id=str(owing.pk)).count()
        == 1
    )


@pytest.mark.django_db
def test_account_page_query_count_does_not_grow(practice, owing, collections_user, django_assert_num_queries):
    client = login(collections_user)
    patient_payment_record(
        practice=practice, patient=owing, amount="10.00", method="cash", received_on=today(), user=None
    )
    with CaptureQueriesContext(connection) as one:
        assert client.get(account_url(owing)).status_code == 200
    for n in range(5):
        self_pay_claim(practice, owing, "30.00", "12.00", day=days_ago(10 + n))
        patient_payment_record(
            practice=practice, patient=owing, amount="5.00", method="cash", received_on=today(), user=None
        )
    statement_send(practice=practice, patient=owing)
    account_note_add(practice=practice, patient=owing, user=collections_user, text="Called")
    with django_assert_num_queries(len(one)):
        client.get(account_url(owing))
    assert len(one) == ACCOUNT_QUERIES


@pytest.mark.django_db
def test_record_payment_from_the_page(owing, collections_user):
    response = login(collections_user).post(
        account_url(owing, "payment"),
        {"amount": "200.00", "method": "check", "reference": "1042", "received_on": today().isoformat()},
        follow=True,
    )
    assert response.redirect_chain == [(account_url(owing), 302)]
    assert (
        "Payment R-000001 of $200.00 recorded: $145.00 applied, $55.00 kept as credit."
        in response.content.decode()
    )
    assert re.search(r'data-testid="credit">\$55.00<', response.content.decode())


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"amount": "0"}, "The amount must be more than zero (got 0)."),
        ({"amount": "-3"}, "The amount must be more than zero (got -3)."),
        ({"amount": "10.001"}, "10.001 has more decimals than cents; use at most two decimals."),
        ({"amount": "10", "method": "card", "reference": "4111-1111-1111-1111"}, "looks like a card number"),
    ],
)
@pytest.mark.django_db
def test_bad_payment_on_the_page_shows_the_problem_and_saves_nothing(owing, collections_user, data, message):
    post = {"amount": "", "method": "cash", "reference": "", "received_on": today().isoformat(), **data}
    response = login(collections_user).post(account_url(owing, "payment"), post)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert PatientPayment.objects.count() == 0


@pytest.mark.django_db
def test_refund_above_credit_on_the_page(practice, owing, collections_user):
    patient_payment_record(
        practice=practice, patient=owing, amount="150.00", method="cash", received_on=today(), user=None
    )
    client = login(collections_user)
    response = client.post(
        account_url(owing, "refund"), {"amount": "6.00", "method": "check", "reference": "", "reason": ""}
    )
    assert response.status_code == 400
    assert "The refund (6.00) is more than the patient&#x27;s credit (5.00)." in response.content.decode()
    response = client.post(
        account_url(owing, "refund"),
        {"amount": "5.00", "method": "check", "reference": "77", "reason": ""},
        follow=True,
    )
    assert "Refund of $5.00 recorded." in response.content.decode()


@pytest.mark.django_db
def test_statement_note_hold_actions(practice, owing, collections_user):
    client = login(collections_user)
    client.post(account_url(owing, "statement"))
    client.post(account_url(owing, "final_notice"))
    assert sorted(Statement.objects.values_list("kind", flat=True)) == ["final_notice", "statement"]
    statement = Statement.objects.get(kind=StatementKind.STATEMENT)
    pdf = client.get(f"/patients/{owing.pk}/account/statements/{statement.pk}.pdf")
    assert pdf["Content-Type"] == "application/pdf" and bytes(pdf.content[:4]) == b"%PDF"
    promise = days_ago(-5).isoformat()
    client.post(
        account_url(owing, "note"),
        {
            "outcome": "promised",
            "text": "Will pay Friday",
            "promise_amount": "40.00",
            "promise_date": promise,
            "follow_up_on": promise,
        },
    )
    note = AccountNote.objects.get()
    assert (note.outcome, note.promise_amount, note.promise_date.isoformat(), note.by) == (
        "promised",
        Decimal("40.00"),
        promise,
        collections_user,
    )
    response = client.post(account_url(owing, "note"), {"outcome": "promised", "text": "x"})
    assert response.status_code == 400 and "A promise to pay needs the date" in response.content.decode()
    client.post(account_url(owing, "hold"), {"kind": "dispute", "reason": "Says insurance should pay"})
    assert AccountHold.objects.get().released_at is None
    client.post(account_url(owing, "release"))
    assert AccountHold.objects.get().released_at is not None


@pytest.mark.django_db
def test_account_permissions_and_tenancy(owing, persona, outsider, manager):
    biller = persona("biller")
    assert biller.get(account_url(owing)).status_code == 200
    assert biller.post(account_url(owing, "statement")).status_code == 403
    assert login(manager).post(account_url(owing, "statement")).status_code == 403
    assert login(outsider).get(account_url(owing)).status_code == 404
    assert Statement.objects.count() == 0


@pytest.mark.django_db
def test_patient_page_links_to_the_account(owing, collections_user):
    body = login(collections_user).get(f"/patients/{owing.pk}/").content.decode()
    assert f'href="/patients/{owing.pk}/account/"' in body


# --- patient list: sort and filter -------------------------------------------------------------


@pytest.mark.django_db
def test_patient_list_sorts_and_filters_by_balance_and_age(practice, biller, django_assert_num_queries):
    big_new = new_patient(practice, last_name="Adams")
    self_pay_claim(practice, big_new, "600.00", day=days_ago(10))
    small_old = new_patient(practice, last_name="Baker")
    self_pay_claim(practice, small_old, "50.00", day=days_ago(95))
    mid = new_patient(practice, last_name="Clark")
    self_pay_claim(practice, mid, "150.00", day=days_ago(45))
    credit = new_patient(practice, last_name="Diaz")
    self_pay_claim(practice, credit, "20.00", day=days_ago(5))
    patient_payment_record(
        practice=practice, patient=credit, amount="30.00", method="cash", received_on=today(), user=None
    )
    new_patient(practice, last_name="Evans")  # owes nothing
    client = login(biller)

    def listed(query):
        with django_assert_num_queries(PATIENT_LIST_QUERIES):
            response = client.get("/patients/?" + query)
        return [p.last_name for p in response.context["page"].object_list]

    assert listed("sort=balance") == ["Adams", "Clark", "Baker", "Evans", "Diaz"]
    assert listed("sort=age") == ["Baker", "Clark", "Adams", "Diaz", "Evans"]
    assert listed("balance=owing") == ["Adams", "Baker", "Clark"]
    assert listed("balance=over100&sort=balance") == ["Adams", "Clark"]
    assert listed("balance=over500") == ["Adams"]
    assert listed("balance=credit") == ["Diaz"]
    assert listed("age=91%2B") == ["Baker"]
    assert listed("age=31-60") == ["Clark"]
    assert listed("age=0-30&balance=owing") == ["Adams"]
    assert listed("sort=bogus&balance=nonsense") == ["Adams", "Baker", "Clark", "Diaz", "Evans"]


# --- worklist ----------------------------------------------------------------------------------


@pytest.fixture
def worklist_patients(practice, owing, collections_user):
    promised = new_patient(practice, last_name="Promise", account_number="A0000888")
    self_pay_claim(practice, promised, "300.00", day=days_ago(20))
    # Promised ten days ago to pay three days ago (the note is dated now; no payment since).
    account_note_add(
        practice=practice,
        patient=promised,
        user=collections_user,
        outcome="promised",
        promise_date=days_ago(3),
        today=days_ago(10),
    )
    recent = new_patient(practice, last_name="Recent")
    self_pay_claim(practice, recent, "90.00", day=days_ago(5))
    return {"owing": owing, "promised": promised, "recent": recent}


@pytest.mark.django_db
def test_worklist_rows_reasons_and_sort(practice, worklist_patients):
    rows = collections_worklist(practice)
    assert [(r.patient.last_name, r.owed) for r in rows] == [
        ("Promise", Decimal("300.00")),
        ("Garcia", Decimal("145.00")),
    ]
    assert rows[0].reasons == [f"Broke a promise to pay by {days_ago(3):%m/%d/%Y}"]
    assert rows[1].reasons == ["Balance over 60 days old, no payment plan"]
    assert [r.patient.last_name for r in collections_worklist(practice, sort="age")] == ["Garcia", "Promise"]
    # A payment after the promise takes the broken promise off.
    patient_payment_record(
        practice=practice,
        patient=worklist_patients["promised"],
        amount="10.00",
        method="cash",
        received_on=today(),
        user=None,
    )
    assert [r.patient.last_name for r in collections_worklist(practice)] == ["Garcia"]


@pytest.mark.django_db
def test_worklist_page_take_next_and_counts(
    practice, worklist_patients, collections_user, django_assert_num_queries
):
    client = login(collections_user)
    with CaptureQueriesContext(connection) as first:
        response = client.get("/collections/")
    assert response.status_code == 200
    assert len(first) == WORKLIST_QUERIES  # read now: the next request resets the query log
    assert [i.patient.last_name for i in response.context["items"]] == ["Promise", "Garcia"]
    take = client.post("/collections/take-next/")
    assert take["Location"] == f"/patients/{worklist_patients['promised'].pk}/account/"
    assert CollectionAccount.objects.get().assigned_to == collections_user
    more = new_patient(practice, last_name="Zed")
    self_pay_claim(practice, more, "20.00", day=days_ago(200))
    with django_assert_num_queries(WORKLIST_QUERIES):
        response = client.get("/collections/?sort=age")
    assert [i.patient.last_name for i in response.context["items"]] == ["Zed", "Garcia", "Promise"]
    assert response.context["counts"] == [
        {"username": "cora", "assigned": 1, "notes_today": 1, "follow_ups": 0}
    ]


@pytest.mark.django_db
def test_worklist_permissions_and_nav(persona, worklist_patients):
    assert persona("biller").get("/collections/").status_code == 403
    manager = persona("manager")
    assert manager.get("/collections/").status_code == 200
    assert manager.post("/collections/take-next/").status_code == 403
    assert "Collections" in [i["label"] for i in manager.get("/").context["nav_items"]]


@pytest.mark.django_db
def test_agency_handoff_only_after_the_required_notices(practice, worklist_patients, collections_user):
    owing = worklist_patients["owing"]
    client = login(collections_user)
    response = client.post(
        "/collections/agency-export/", {"patient": [owing.pk], "agency_name": "Acme Recovery"}, follow=True
    )
    assert (
        "Required notices not sent yet — A0000777: 0 of 3 notices sent, no final notice sent"
        in response.content.decode()
    )
    assert CollectionAccount.objects.filter(sent_to_agency_at__isnull=False).count() == 0
    for n, kind in ((60, "statement"), (30, "statement"), (1, "final_notice")):
        statement_send(practice=practice, patient=owing, today=days_ago(n), kind=kind)
    response = client.post(
        "/collections/agency-export/", {"patient": [owing.pk], "agency_name": "Acme Recovery"}
    )
    assert response["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["Account", "Last name", "First name"]
    assert rows[1][:3] == ["A0000777", "Garcia", "Elena"] and rows[1][9] == "145.00"
    assert rows[1][12] == days_ago(1).isoformat()
    account = CollectionAccount.objects.get(patient=owing)
    assert account.agency_name == "Acme Recovery" and account.sent_to_agency_at is not None
    assert owing.pk not in [r.patient.pk for r in collections_worklist(practice)]
    assert AuditEvent.objects.filter(action="export", object_type="payment_plans.agency_handoff").count() == 1


@pytest.mark.django_db
def test_statement_run_page_dry_run_then_send(
    practice, owing, collections_user, manager, settings, django_capture_on_commit_callbacks
):
    response = login(manager).get("/collections/statements/")
    assert [p.pk for p in response.context["result"].selected] == [owing.pk]
    assert login(manager).post("/collections/statements/").status_code == 403
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the run's one chunk renders as soon as the run commits
    with django_capture_on_commit_callbacks(execute=True):
        started = login(collections_user).post("/collections/statements/")
    page = login(collections_user).get(started["Location"]).content.decode()
    assert "100% · 1 sent · 0 not sent · 0 failed" in page
    assert set(Claim.objects.filter(patient=owing).values_list("status", flat=True)) == {"patient_billed"}


@pytest.mark.django_db
def test_a_plain_note_from_the_page_with_the_promise_fields_left_empty(owing, collections_user):
    response = login(collections_user).post(
        account_url(owing, "note"),
        {
            "outcome": "note",
            "text": "Asked for an itemised bill.",
            "promise_amount": "",
            "promise_date": "",
            "follow_up_on": "",
        },
    )
    assert response.status_code == 302
    note = AccountNote.objects.get()
    assert (note.outcome, note.text, note.promise_amount, note.promise_date) == (
        "note",
        "Asked for an itemised bill.",
        None,
        None,
    )
