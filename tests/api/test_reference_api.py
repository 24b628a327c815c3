import datetime
import itertools

import pytest

from rcm.models import AuditEvent, Coverage, Patient
from rcm.services import consent_record
from rcm.validators import npi_is_valid
from tests.api import api
from tests.rcm.factories import CoverageFactory, PatientFactory, PayerFactory, ProviderFactory

NEW_PATIENT = {
    "first_name": "Maria",
    "last_name": "Lopez",
    "date_of_birth": "1984-02-29",
    "sex": "F",
    "address_line1": "5 Oak Ave",
    "city": "Peoria",
    "state": "IL",
    "postal_code": "61602",
}


def _error(response, status):
    assert response.status_code == status, response.content
    return response.json()["error"]


# --- Patients ----------------------------------------------------------------------------------


def test_patient_list_shows_this_practice_only(biller, practice, other_practice):
    ours = PatientFactory(practice=practice, account_number="A0000042", first_name="Ann", last_name="Baker")
    PatientFactory(practice=other_practice)
    body = api(biller).get("/api/patients/").json()
    assert body["count"] == 1
    assert body["results"] == [
        {
            "id": ours.pk,
            "account_number": "A0000042",
            "first_name": "Ann",
            "middle_name": "",
            "last_name": "Baker",
            "date_of_birth": "1970-05-17",
            "sex": "F",
        }
    ]


def test_patient_detail_has_coverages_and_consents_and_the_view_is_audited(biller, practice):
    patient = PatientFactory(practice=practice, account_number="A0000007", last_name="Baker")
    coverage = CoverageFactory(
        practice=practice,
        patient=patient,
        member_id="XJ1234567",
        payer=PayerFactory(practice=practice, name="Acme Health", payer_id="60054"),
    )
    consent_record(patient=patient, channel="sms", granted=True, method="written form")
    consent_record(patient=patient, channel="email", granted=True, method="written form")
    consent_record(patient=patient, channel="email", granted=False, method="STOP reply")

    response = api(biller).get(f"/api/patients/{patient.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body["account_number"] == "A0000007"
    assert body["postal_code"] == "62701"
    assert body["guarantor"] is None
    assert body["consents"] == {"email": False, "sms": True, "mail": False, "phone": False}
    assert body["coverages"] == [
        {
            "id": coverage.pk,
            "patient": patient.pk,
            "payer": {"id": coverage.payer_id, "name": "Acme Health", "payer_id": "60054"},
            "priority": 1,
            "member_id": "XJ1234567",
            "group_number": "G100",
            "relationship": "18",
            "subscriber_first_name": "",
            "subscriber_last_name": "",
            "subscriber_date_of_birth": None,
            "subscriber_sex": "",
            "effective_date": "2024-01-01",
            "end_date": None,
        }
    ]
    event = AuditEvent.objects.get(action="view")
    assert (event.object_type, event.object_id, event.username, event.practice_id, event.source) == (
        "rcm.patient",
        str(patient.pk),
        "bill",
        practice.pk,
        "api",
    )


def test_another_practices_patient_is_a_404_in_the_error_format(biller, other_practice):
    theirs = PatientFactory(practice=other_practice)
    error = _error(api(biller).get(f"/api/patients/{theirs.pk}/"), 404)
    assert error == {"status": 404, "code": "not_found", "message": "Not found.", "fields": {}}
    assert not AuditEvent.objects.filter(action="view").exists()


def test_outsider_gets_404_for_our_patient_and_403_when_naming_our_practice(outsider, practice):
    ours = PatientFactory(practice=practice)
    assert api(outsider).get(f"/api/patients/{ours.pk}/").status_code == 404
    client = api(outsider)
    client.credentials(HTTP_X_PRACTICE="riverside")
    error = _error(client.get("/api/patients/"), 403)
    assert error["message"] == "You are not a member of this practice."


def test_creating_a_patient_gives_the_next_account_number(biller, practice):
    response = api(biller).post("/api/patients/", NEW_PATIENT, format="json")
    assert response.status_code == 201, response.content
    patient = Patient.objects.get()
    assert (patient.practice_id, patient.account_number, patient.last_name) == (
        practice.pk,
        "A0000001",
        "Lopez",
    )
    body = response.json()
    assert body["id"] == patient.pk
    assert body["account_number"] == "A0000001"
    assert body["date_of_birth"] == "1984-02-29"
    assert body["coverages"] == []
    assert body["consents"] == {"email": False, "sms": False, "mail": False, "phone": False}


@pytest.mark.parametrize(
    ("change", "field", "messages"),
    [
        (
            {"state": "Illinois"},
            "state",
            ["Use the two-letter state code.", "Ensure this field has no more than 2 characters."],
        ),
        ({"state": "il"}, "state", ["Use the two-letter state code."]),
        ({"postal_code": "6160"}, "postal_code", ["A ZIP code is 5 or 9 digits."]),
        ({"sex": "X"}, "sex", ['"X" is not a valid choice.']),
        (
            {"date_of_birth": "1984-02-30"},
            "date_of_birth",
            ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."],
        ),
        ({"last_name": ""}, "last_name", ["This field may not be blank."]),
    ],
)
def test_a_bad_patient_is_refused_naming_the_field_and_nothing_is_saved(biller, change, field, messages):
    error = _error(api(biller).post("/api/patients/", {**NEW_PATIENT, **change}, format="json"), 400)
    assert error["fields"] == {field: messages}
    assert error["message"] == f"{field}: {messages[0]}"
    assert Patient.objects.count() == 0


def test_a_guarantor_from_another_practice_is_refused(biller, other_practice):
    theirs = PatientFactory(practice=other_practice)
    error = _error(
        api(biller).post("/api/patients/", {**NEW_PATIENT, "guarantor": theirs.pk}, format="json"), 400
    )
    assert error["fields"] == {"guarantor": [f"No patient with id {theirs.pk} in this practice."]}
    assert Patient.objects.count() == 1


def test_manager_may_read_patients_but_not_create_them(manager, practice):
    PatientFactory(practice=practice)
    client = api(manager)
    assert client.get("/api/patients/").status_code == 200
    error = _error(client.post("/api/patients/", NEW_PATIENT, format="json"), 403)
    assert error["message"] == "Your role in this practice does not allow this."
    assert Patient.objects.count() == 1


def test_patient_search_takes_its_criteria_in_the_body(manager, practice, other_practice):
    baker = PatientFactory(practice=practice, first_name="Ann", last_name="Baker")
    PatientFactory(practice=practice, first_name="Ann", last_name="Smith")
    PatientFactory(
        practice=practice, first_name="Bob", last_name="Baker", date_of_birth=datetime.date(1990, 1, 2)
    )
    PatientFactory(practice=other_practice, first_name="Ann", last_name="Baker")

    response = api(manager).post(
        "/api/patients/search/", {"last_name": "bak", "first_name": "AN"}, format="json"
    )

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [baker.pk]


def test_patient_search_needs_a_criterion(biller):
    error = _error(api(biller).post("/api/patients/search/", {}, format="json"), 400)
    assert error["fields"] == {
        "non_field_errors": ["Give at least one of last_name, first_name, date_of_birth, account_number."]
    }


def test_patient_search_is_not_offered_by_query_string(biller, practice):
    PatientFactory(practice=practice, last_name="Baker")
    PatientFactory(practice=practice, last_name="Smith")
    assert api(biller).get("/api/patients/search/", {"last_name": "Baker"}).status_code == 405
    assert api(biller).get("/api/patients/", {"last_name": "Baker"}).json()["count"] == 2


# --- Coverages ---------------------------------------------------------------------------------


def test_coverage_list_filters_by_patient_and_payer(biller, practice, other_practice):
    first = CoverageFactory(practice=practice)
    second = CoverageFactory(practice=practice, payer=first.payer)
    third = CoverageFactory(practice=practice, patient=first.patient)
    CoverageFactory(practice=other_practice)
    client = api(biller)
    assert {row["id"] for row in client.get("/api/coverages/").json()["results"]} == {
        first.pk,
        second.pk,
        third.pk,
    }
    assert {
        row["id"] for row in client.get("/api/coverages/", {"patient": first.patient_id}).json()["results"]
    } == {first.pk, third.pk}
    assert {
        row["id"] for row in client.get("/api/coverages/", {"payer": first.payer_id}).json()["results"]
    } == {first.pk, second.pk}
    error = _error(client.get("/api/coverages/", {"patient": "Baker"}), 400)
    assert error["fields"] == {"patient": ["A valid integer is required."]}


def test_coverage_detail_is_audited_and_another_practices_is_404(biller, practice, other_practice):
    ours = CoverageFactory(practice=practice)
    theirs = CoverageFactory(practice=other_practice)
    client = api(biller)
    assert client.get(f"/api/coverages/{ours.pk}/").json()["member_id"] == ours.member_id
    assert _error(client.get(f"/api/coverages/{theirs.pk}/"), 404)["code"] == "not_found"
    assert list(AuditEvent.objects.filter(action="view").values_list("object_type", "object_id")) == [
        ("rcm.coverage", str(ours.pk))
    ]


def _new_coverage(patient, payer, **change):
    return {
        "patient": patient.pk,
        "payer": payer.pk,
        "member_id": "W123456789",
        "effective_date": "2026-01-01",
        **change,
    }


def test_creating_a_coverage(collections_user, practice):
    patient, payer = (
        PatientFactory(practice=practice),
        PayerFactory(practice=practice, name="Blue", payer_id="00621"),
    )
    body = _new_coverage(
        patient,
        payer,
        priority=2,
        relationship="01",
        subscriber_first_name="Luis",
        subscriber_last_name="Lopez",
        subscriber_date_of_birth="1980-07-04",
        subscriber_sex="M",
    )

    response = api(collections_user).post("/api/coverages/", body, format="json")

    assert response.status_code == 201, response.content
    coverage = Coverage.objects.get()
    assert response.json() == {
        "id": coverage.pk,
        "patient": patient.pk,
        "payer": {"id": payer.pk, "name": "Blue", "payer_id": "00621"},
        "priority": 2,
        "member_id": "W123456789",
        "group_number": "",
        "relationship": "01",
        "subscriber_first_name": "Luis",
        "subscriber_last_name": "Lopez",
        "subscriber_date_of_birth": "1980-07-04",
        "subscriber_sex": "M",
        "effective_date": "2026-01-01",
        "end_date": None,
    }
    assert (coverage.practice_id, coverage.subscriber_date_of_birth) == (
        practice.pk,
        datetime.date(1980, 7, 4),
    )


@pytest.mark.parametrize("field", ["patient", "payer"])
def test_a_coverage_naming_another_practices_patient_or_payer_is_refused(
    biller, practice, other_practice, field
):
    ours = {"patient": PatientFactory(practice=practice), "payer": PayerFactory(practice=practice)}
    theirs = {
        "patient": PatientFactory(practice=other_practice),
        "payer": PayerFactory(practice=other_practice),
    }
    body = _new_coverage(**{**ours, field: theirs[field]})
    error = _error(api(biller).post("/api/coverages/", body, format="json"), 400)
    expected = f"No {field} with id {theirs[field].pk} in this practice."
    assert error["fields"] == {field: [expected]}
    assert error["message"] == f"{field}: {expected}"
    assert Coverage.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"end_date": "2025-12-31"}, "end_date", "The end date is before the effective date."),
        (
            {"relationship": "19"},
            "subscriber_last_name",
            "When the patient is not the subscriber, the subscriber's name and date of birth are required.",
        ),
        ({"member_id": ""}, "member_id", "This field may not be blank."),
    ],
)
def test_a_bad_coverage_is_refused_by_the_model_rules(biller, practice, change, field, message):
    body = _new_coverage(PatientFactory(practice=practice), PayerFactory(practice=practice), **change)
    error = _error(api(biller).post("/api/coverages/", body, format="json"), 400)
    assert error["fields"] == {field: [message]}
    assert Coverage.objects.count() == 0


def test_manager_cannot_create_a_coverage(manager, practice):
    body = _new_coverage(PatientFactory(practice=practice), PayerFactory(practice=practice))
    assert (
        _error(api(manager).post("/api/coverages/", body, format="json"), 403)["code"] == "permission_denied"
    )
    assert Coverage.objects.count() == 0


# --- Payers and providers ----------------------------------------------------------------------


def test_payer_list_and_detail(biller, practice, other_practice):
    payer = PayerFactory(practice=practice, name="Medicare Part B", payer_id="12202", kind="medicare")
    theirs = PayerFactory(practice=other_practice)
    client = api(biller)
    expected = {
        "id": payer.pk,
        "name": "Medicare Part B",
        "payer_id": "12202",
        "kind": "medicare",
        "address_line1": "",
        "city": "",
        "state": "",
        "postal_code": "",
        "phone": "",
        "no_response_days": 30,
        "is_active": True,
    }
    assert client.get("/api/payers/").json()["results"] == [expected]
    assert client.get(f"/api/payers/{payer.pk}/").json() == expected
    assert _error(client.get(f"/api/payers/{theirs.pk}/"), 404)["code"] == "not_found"


def test_collections_cannot_read_payers(collections_user, practice):
    payer = PayerFactory(practice=practice)
    client = api(collections_user)
    assert _error(client.get("/api/payers/"), 403)["code"] == "permission_denied"
    assert _error(client.get(f"/api/payers/{payer.pk}/"), 403)["code"] == "permission_denied"


def test_provider_list_and_another_practices_provider(biller, practice, other_practice):
    provider = ProviderFactory(practice=practice, first_name="Dana", last_name="Rivera", npi="1234567893")
    theirs = ProviderFactory(practice=other_practice)
    client = api(biller)
    assert client.get("/api/providers/").json()["results"] == [
        {
            "id": provider.pk,
            "first_name": "Dana",
            "last_name": "Rivera",
            "credentials": "MD",
            "is_organization": False,
            "npi": "1234567893",
            "taxonomy_code": "207Q00000X",
            "role": "both",
            "is_active": True,
        }
    ]
    assert _error(client.get(f"/api/providers/{theirs.pk}/"), 404)["code"] == "not_found"


# --- Query counts --------------------------------------------------------------------------------


_npi_stems = itertools.count(123456000)


def _provider(practice):
    """A provider with an NPI of its own (NPIs are unique in a practice)."""
    stem = str(next(_npi_stems))
    npi = next(f"{stem}{digit}" for digit in "0123456789" if npi_is_valid(f"{stem}{digit}"))
    return ProviderFactory(practice=practice, npi=npi)


# membership + count + page
LIST_QUERIES = 3


@pytest.mark.parametrize("rows", [1, 5])
@pytest.mark.parametrize(
    ("path", "make"),
    [
        ("/api/patients/", lambda practice: PatientFactory(practice=practice)),
        ("/api/coverages/", lambda practice: CoverageFactory(practice=practice)),
        ("/api/payers/", lambda practice: PayerFactory(practice=practice)),
        ("/api/providers/", _provider),
    ],
)
def test_list_endpoints_take_a_fixed_number_of_queries(
    admin_user, practice, django_assert_num_queries, rows, path, make
):
    for _ in range(rows):
        make(practice)
    client = api(admin_user)
    # A page of patients is PHI read: its audit row is one more query.
    with django_assert_num_queries(LIST_QUERIES + (path == "/api/patients/")):
        response = client.get(path)
    assert response.json()["count"] == rows


@pytest.mark.parametrize("coverages", [1, 3])
def test_patient_detail_takes_a_fixed_number_of_queries(
    biller, practice, django_assert_num_queries, coverages
):
    patient = PatientFactory(practice=practice)
    for priority in range(1, coverages + 1):
        CoverageFactory(practice=practice, patient=patient, priority=priority)
    client = api(biller)
    # membership + patient + coverages (payer joined) + consents + the audit row
    with django_assert_num_queries(5):
        body = client.get(f"/api/patients/{patient.pk}/").json()
    assert [row["priority"] for row in body["coverages"]] == list(range(1, coverages + 1))
