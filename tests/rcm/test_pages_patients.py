"""The patient list (POSTed search, CSV export) and the patient's page: access, tenancy, audit, PHI kept
out of URLs, exact values and query counts."""

import csv
import datetime
import io
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from claims.ledger import Entry, ledger_post
from claims.models import TransactionKind as K
from claims.services import LineInput
from claims.state_machine import claim_transition
from rcm.models import AuditEvent, Provider
from rcm.roles import Role, role_can
from rcm.services import consent_record
from tests.claims import factories
from tests.conftest import login
from tests.rcm.factories import CoverageFactory, PatientFactory, PayerFactory, ProviderFactory, UserFactory

# Pinned query counts: session, user, memberships (middleware) + what the page itself reads.
PATIENT_LIST_QUERIES = 6  # + page count, page rows (payer and balances are subqueries), audit insert
PATIENT_DETAIL_QUERIES = 10  # + patient, audit insert, coverages, ledger, consents, claims, balance summary


def make_claim(practice, **kwargs):
    """``factories.make_claim`` with the practice's one provider (the factory's NPI is unique per
    practice)."""
    kwargs.setdefault(
        "provider", Provider.objects.filter(practice=practice).first() or ProviderFactory(practice=practice)
    )
    return factories.make_claim(practice, **kwargs)


def _patient_with_claim(practice, **patient_fields):
    patient = PatientFactory(practice=practice, **patient_fields)
    coverage = CoverageFactory(practice=practice, patient=patient)
    claim = make_claim(practice, coverage=coverage)
    return patient, claim


def _listed(response) -> list[int]:
    return [patient.pk for patient in response.context["page"].object_list]


def _urls(response) -> list[str]:
    return re.findall(r'(?:href|action|src)="([^"]*)"', response.content.decode())


def _search(client, term, **extra):
    response = client.post("/patients/", {"q": term, **extra})
    assert response.status_code == 200
    assert response.request["REQUEST_METHOD"] == "POST"
    return response


# --- access ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", Role.values)
def test_patient_pages_follow_the_patients_view_permission(role, practice, persona):
    patient, _claim = _patient_with_claim(practice)
    client = persona(role)
    expected = 200 if role_can(role, "patients.view") else 403
    assert client.get("/patients/").status_code == expected
    assert client.post("/patients/", {"q": patient.last_name}).status_code == expected
    assert client.get(f"/patients/{patient.pk}/").status_code == expected
    assert client.post("/patients/export/", {"q": ""}).status_code == expected


def test_a_user_without_a_practice_is_refused(practice, db):
    patient = PatientFactory(practice=practice)
    client = login(UserFactory(username="nomad"))
    assert client.get("/patients/").status_code == 403
    assert client.get(f"/patients/{patient.pk}/").status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(practice):
    patient = PatientFactory(practice=practice)
    for url in ("/patients/", f"/patients/{patient.pk}/"):
        response = Client().get(url)
        assert response.status_code == 302
        assert response.url == f"/login/?next={url}"
    assert Client().post("/patients/export/").status_code == 302


def test_another_practices_patient_is_a_404_and_never_listed(practice, outsider, other_practice):
    outsider_practice_id = other_practice.pk
    ours = PatientFactory(practice=practice, last_name="Ourpatient")
    client = login(outsider)
    assert client.get(f"/patients/{ours.pk}/").status_code == 404
    assert _listed(client.get("/patients/")) == []
    assert _listed(_search(client, "Ourpatient")) == []
    # The outsider's two list reads are recorded, in their own practice, naming none of ours.
    views = AuditEvent.objects.filter(action="view", object_type="rcm.patient")
    assert [(e.object_id, e.changes["ids"], e.practice_id) for e in views] == [
        ("", [], outsider_practice_id)
    ] * 2


# --- search ---------------------------------------------------------------------------------


@pytest.fixture
def three_patients(practice):
    return {
        "smith": PatientFactory(
            practice=practice,
            account_number="A0000101",
            first_name="Jordan",
            last_name="Smith",
            date_of_birth=datetime.date(1970, 5, 17),
        ),
        "smithers": PatientFactory(
            practice=practice,
            account_number="A0000102",
            first_name="Waylon",
            last_name="Smithers",
            date_of_birth=datetime.date(1965, 1, 2),
        ),
        "jones": PatientFactory(
            practice=practice,
            account_number="A0000103",
            first_name="Smith",
            last_name="Jones",
            date_of_birth=datetime.date(1980, 12, 31),
        ),
    }


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("A0000102", ["smithers"]),
        ("a0000102", ["smithers"]),
        ("Smith", ["jones", "smith", "smithers"]),  # last-name prefix, and Jones whose first name is Smith
        ("smithe", ["smithers"]),
        ("Smith, Jo", ["smith"]),
        ("Jordan Smith", ["smith"]),
        ("1970-05-17", ["smith"]),
        ("12/31/1980", ["jones"]),
        ("Nobody", []),
    ],
)
def test_search_finds_exactly_the_expected_patients(term, expected, three_patients, biller):
    response = _search(login(biller), term)
    assert sorted(_listed(response)) == sorted(three_patients[name].pk for name in expected)


def test_the_search_term_never_appears_in_a_url(three_patients, biller):
    response = _search(login(biller), "Smithers")
    assert _listed(response) == [three_patients["smithers"].pk]
    assert "?q=" not in response.content.decode()
    assert all("Smithers" not in url and "q=" not in url for url in _urls(response))
    # the search box is a POST form with a CSRF token, and the term is echoed only in its value
    html = response.content.decode()
    form = re.search(r'<form method="post" action="/patients/"[^>]*>(.*?)</form>', html, re.S).group(1)
    assert 'name="csrfmiddlewaretoken"' in form and 'value="Smithers"' in form


def test_a_search_in_the_query_string_is_ignored(three_patients, biller):
    response = login(biller).get("/patients/?q=Smithers")
    assert len(_listed(response)) == 3
    assert response.context["q"] == ""


def test_search_results_page_through_posts(practice, biller):
    for n in range(51):
        PatientFactory(practice=practice, last_name=f"Garcia{n:02d}")
    PatientFactory(practice=practice, last_name="Other")
    client = login(biller)
    first = _search(client, "Garcia")
    assert first.context["page"].paginator.count == 51
    assert len(_listed(first)) == 50
    html = first.content.decode()
    assert 'name="page" value="2"' in html and "page=2" not in html
    second = _search(client, "Garcia", page="2")
    assert len(_listed(second)) == 1
    assert len(_listed(client.get("/patients/?page=2"))) == 2  # the unfiltered list, 52 patients


def test_patient_list_shows_payer_and_exact_balances(practice, biller):
    acme = PayerFactory(practice=practice, name="Acme Health")
    patient = PatientFactory(practice=practice, account_number="A0000555", last_name="Okafor")
    coverage = CoverageFactory(practice=practice, patient=patient, payer=acme)
    CoverageFactory(practice=practice, patient=patient, priority=2)
    claim = make_claim(
        practice,
        coverage=coverage,
        lines=[
            LineInput(
                procedure_code="99214", charge=Decimal("1250.00"), service_date_from=datetime.date(2026, 3, 2)
            )
        ],
    )
    ledger_post(
        claim=claim,
        source="remittance",
        entries=[
            Entry(
                line=claim.lines.get(),
                kind=K.TRANSFER_TO_PATIENT,
                amount=Decimal("40.25"),
                responsibility="copay",
            )
        ],
    )
    response = _search(login(biller), "A0000555")
    row = re.search(r">A0000555</a>.*?</tr>", response.content.decode(), re.S).group(0)
    assert "Acme Health" in row
    assert re.findall(r'<td class="num[^"]*">([^<]*)</td>', row) == ["$40.25", "$1,209.75"]


def test_patient_list_query_count_is_the_same_for_1_and_10_patients(
    practice, biller, django_assert_num_queries
):
    client = login(biller)
    _patient_with_claim(practice)
    with CaptureQueriesContext(connection) as one:
        assert client.get("/patients/").status_code == 200
    for _ in range(9):
        _patient_with_claim(practice)
    with django_assert_num_queries(PATIENT_LIST_QUERIES):
        response = client.get("/patients/")
    assert len(_listed(response)) == 10
    assert len(one) == PATIENT_LIST_QUERIES
    with django_assert_num_queries(PATIENT_LIST_QUERIES):  # a search costs the same
        _search(client, "Smith")


# --- export ---------------------------------------------------------------------------------


def test_csv_export_has_exactly_the_searched_rows_and_is_post_only(three_patients, biller, practice):
    client = login(biller)
    assert client.get("/patients/export/").status_code == 405
    response = client.post("/patients/export/", {"q": "Smith"})
    assert response["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["Account", "Last name", "First name"]
    assert sorted(row[0] for row in rows[1:]) == ["A0000101", "A0000102", "A0000103"]
    rows = list(
        csv.reader(io.StringIO(client.post("/patients/export/", {"q": "12/31/1980"}).content.decode()))
    )
    assert rows[1:] == [["A0000103", "Jones", "Smith", "1980-12-31", "F", "217-555-0142", "", "0.00", "0.00"]]
    event = AuditEvent.objects.filter(action="export", object_type="rcm.patient").latest("id")
    assert (event.user, event.practice_id, event.changes) == (biller, practice.pk, {"searched": True})


def test_csv_export_neutralises_cells_a_spreadsheet_would_run_as_formulas(practice, biller):
    PatientFactory(practice=practice, last_name="=HYPERLINK(1)", first_name="@Ann", phone="=1+1")
    rows = list(csv.reader(io.StringIO(login(biller).post("/patients/export/", {}).content.decode())))
    assert rows[1][1:3] == ["'=HYPERLINK(1)", "'@Ann"]
    assert rows[1][5] == "'=1+1"


# --- patient detail -------------------------------------------------------------------------


def test_opening_a_patient_writes_exactly_one_view_event(practice, collections_user):
    patient = PatientFactory(practice=practice)
    client = login(collections_user)
    before = AuditEvent.objects.count()
    assert client.get(f"/patients/{patient.pk}/").status_code == 200
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.get(action="view", object_type="rcm.patient")
    assert (event.object_id, event.user, event.practice_id) == (
        str(patient.pk),
        collections_user,
        practice.pk,
    )


def test_patient_detail_shows_coverage_consents_claims_and_exact_balances(practice, biller):
    guarantor = PatientFactory(practice=practice, last_name="Parent", first_name="Pat")
    patient = PatientFactory(practice=practice, guarantor=guarantor, guarantor_relationship="mother")
    acme = PayerFactory(practice=practice, name="Acme Health")
    current = CoverageFactory(practice=practice, patient=patient, payer=acme, member_id="MEM-NOW")
    CoverageFactory(
        practice=practice,
        patient=patient,
        member_id="MEM-OLD",
        effective_date=datetime.date(2020, 1, 1),
        end_date=datetime.date(2023, 12, 31),
    )
    consent_record(patient=patient, channel="sms", granted=True, method="written form")
    consent_record(patient=patient, channel="email", granted=True, method="written form")
    consent_record(patient=patient, channel="email", granted=False, method="STOP reply")
    claim = make_claim(
        practice,
        coverage=current,
        lines=[
            LineInput(
                procedure_code="99215", charge=Decimal("2100.00"), service_date_from=datetime.date(2026, 3, 2)
            )
        ],
    )
    claim_transition(claim=claim, to_status="ready")
    claim_transition(claim=claim, to_status="submitted")
    line = claim.lines.get()
    ledger_post(
        claim=claim,
        source="remittance",
        entries=[
            Entry(line=line, kind=K.INSURANCE_PAYMENT, amount=Decimal("1500.00")),
            Entry(
                line=line,
                kind=K.CONTRACTUAL_ADJUSTMENT,
                amount=Decimal("487.66"),
                group_code="CO",
                reason_code="45",
            ),
            Entry(
                line=line, kind=K.TRANSFER_TO_PATIENT, amount=Decimal("112.34"), responsibility="deductible"
            ),
        ],
    )
    response = login(biller).get(f"/patients/{patient.pk}/")
    html = re.sub(r"\s+", " ", response.content.decode())
    assert dict(response.context["consents"]) == {
        "Email": False,
        "Text message": True,
        "Mail": False,
        "Phone": False,
    }
    assert [(c.member_id, c.active_today) for c in response.context["coverages"]] == [
        ("MEM-NOW", True),
        ("MEM-OLD", False),
    ]
    assert list(response.context["claims"]) == [claim]
    summary = response.context["summary"]
    assert (
        summary["charges"],
        summary["insurance_paid"],
        summary["patient_balance"],
        summary["balance"],
    ) == (Decimal("2100.00"), Decimal("1500.00"), Decimal("112.34"), Decimal("112.34"))
    for shown in ("$2,100.00", "$1,500.00", "$487.66", "$112.34"):
        assert shown in html
    assert f'href="/claims/{claim.pk}/"' in html and claim.patient_control_number in html
    assert f'href="/patients/{guarantor.pk}/"' in html and "mother" in html
    assert [t.kind for t in response.context["ledger"]] == [
        "transfer_to_patient",
        "contractual_adjustment",
        "insurance_payment",
        "charge",
    ]
    assert response.context["ledger_truncated"] is False


def test_patient_ledger_shows_the_latest_200_with_a_note(practice, biller):
    patient, claim = _patient_with_claim(practice)
    line = claim.lines.get()
    ledger_post(
        claim=claim,
        source="remittance",
        entries=[Entry(line=line, kind=K.INSURANCE_PAYMENT, amount=Decimal("0.10")) for _ in range(200)],
    )
    response = login(biller).get(f"/patients/{patient.pk}/")
    assert len(response.context["ledger"]) == 200
    assert response.context["ledger_truncated"] is True
    assert "Showing the latest 200 transactions" in response.content.decode()


def test_patient_detail_query_count_does_not_grow_with_claims(practice, biller, django_assert_num_queries):
    client = login(biller)
    patient, _claim = _patient_with_claim(practice)
    consent_record(patient=patient, channel="sms", granted=True, method="portal")
    with CaptureQueriesContext(connection) as one:
        assert client.get(f"/patients/{patient.pk}/").status_code == 200
    coverage = patient.coverages.get()
    for _ in range(9):
        claim = make_claim(practice, coverage=coverage)
        ledger_post(
            claim=claim,
            source="remittance",
            entries=[Entry(line=claim.lines.get(), kind=K.INSURANCE_PAYMENT, amount=Decimal("10.00"))],
        )
    CoverageFactory(practice=practice, patient=patient, priority=2)
    with django_assert_num_queries(PATIENT_DETAIL_QUERIES):
        response = client.get(f"/patients/{patient.pk}/")
    assert len(response.context["claims"]) == 10
    assert len(one) == PATIENT_DETAIL_QUERIES
