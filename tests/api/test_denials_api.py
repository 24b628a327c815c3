"""The denials API: list with filters, detail with history, status changes, assignment, corrected claim,
write-off, void, letters (create, edit, final, PDF, sent, outcome); errors in the one format; tenancy;
the schema generates cleanly."""

import io

import yaml
from django.core.management import call_command
from pypdf import PdfReader

from denials.models import AppealLetter, Denial
from tests.api import api
from tests.denials.conftest import billing, denied  # noqa: F401 (fixtures)


def _error(response, status):
    assert response.status_code == status, response.content
    return response.json()["error"]


def test_list_shows_claim_line_codes_category_and_amount_and_filters(denied, biller):  # noqa: F811
    client = api(biller)
    body = client.get("/api/denials/").json()
    assert body["count"] == 2
    first = body["results"][0]
    assert {
        k: first[k] for k in ("claim", "claim_number", "line_number", "procedure_code", "group_code")
    } == {
        "claim": denied.pk,
        "claim_number": denied.patient_control_number,
        "line_number": 1,
        "procedure_code": "99214",
        "group_code": "CO",
    }
    assert first["carc"] == {
        "code": "50",
        "words": "the payer does not consider the service medically necessary",
    }
    assert (first["rarcs"], first["category"], first["owner"], first["amount"], first["appeal_deadline"]) == (
        [],
        "medical_necessity",
        "provider",
        "185.00",
        "2026-09-16",
    )
    assert client.get("/api/denials/?carc=97").json()["count"] == 0
    assert _error(client.get("/api/denials/?status=nope"), 400)["fields"] == {
        "status": ['"nope" is not a valid choice.']
    }


def test_status_assignment_and_detail_history(denied, biller):  # noqa: F811
    client = api(biller)
    denial = Denial.objects.order_by("pk").first()
    body = client.post(f"/api/denials/{denial.pk}/status/", {"to_status": "in_review"}, format="json").json()
    assert body["status"] == "in_review"
    assert [(h["from_status"], h["to_status"], h["by"]) for h in body["history"]] == [
        ("new", "in_review", "bill")
    ]
    assigned = client.post(
        "/api/denials/assign/", {"denial_ids": [denial.pk], "assignee": None}, format="json"
    ).json()
    assert [row["assignee"] for row in assigned] == [None]


def test_write_off_then_again_is_a_400_naming_it(denied, biller):  # noqa: F811
    client = api(biller)
    denial = Denial.objects.first()
    body = client.post(
        f"/api/denials/{denial.pk}/write-off/", {"reason": "small balance"}, format="json"
    ).json()
    assert body["status"] == "written_off"
    error = _error(client.post(f"/api/denials/{denial.pk}/write-off/", {"reason": "x"}, format="json"), 400)
    assert error["message"] == f"Claim {denied.patient_control_number} is already written off."


def test_corrected_claim_and_void(denied, biller):  # noqa: F811
    client = api(biller)
    denial = Denial.objects.first()
    body = client.post(f"/api/denials/{denial.pk}/corrected-claim/", {}, format="json").json()
    assert body["status"] == "corrected"
    denied.refresh_from_db()
    assert (denied.frequency_code, denied.status) == ("7", "ready")
    error = _error(
        client.post(f"/api/denials/{denial.pk}/void/", {"reason": "wrong patient"}, format="json"), 400
    )
    assert "cannot be voided" in error["message"]


def test_letter_create_edit_final_pdf_sent_outcome(denied, biller):  # noqa: F811
    client = api(biller)
    denial = Denial.objects.order_by("pk").first()
    letter = client.post(f"/api/denials/{denial.pk}/letters/", {}, format="json").json()
    assert (letter["template"], letter["is_final"]) == ("medical_necessity", False)
    edited = client.patch(
        f"/api/denials/letters/{letter['id']}/", {"body": "Dear payer,\n\nPay."}, format="json"
    )
    assert edited.json()["body"] == "Dear payer,\n\nPay."
    assert client.post(f"/api/denials/letters/{letter['id']}/final/").json()["is_final"] is True
    pdf = client.get(f"/api/denials/letters/{letter['id']}/pdf/")
    assert pdf["Content-Type"] == "application/pdf"
    assert PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text().splitlines()[:2] == [
        "Dear payer,",
        "Pay.",
    ]
    sent = client.post(
        f"/api/denials/letters/{letter['id']}/sent/",
        {"sent_on": "2026-04-02", "channel": "portal"},
        format="json",
    ).json()
    assert (sent["sent_on"], sent["channel"]) == ("2026-04-02", "portal")
    outcome = client.post(
        f"/api/denials/letters/{letter['id']}/outcome/", {"outcome": "upheld"}, format="json"
    )
    assert outcome.json()["outcome"] == "upheld"
    assert AppealLetter.objects.get().outcome == "upheld"


def test_collections_and_outsiders_are_kept_out(denied, persona, outsider):  # noqa: F811
    denial = Denial.objects.first()
    collections = persona("collections").user
    assert api(collections).get("/api/denials/").status_code == 403
    assert api(outsider).get(f"/api/denials/{denial.pk}/").status_code == 404
    assert api(outsider).post(f"/api/denials/{denial.pk}/write-off/", {"reason": "x"}).status_code == 404


def test_the_denials_operations_are_in_the_schema(db, tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    paths = yaml.safe_load((tmp_path / "schema.yml").read_text())["paths"]
    assert {p for p in paths if p.startswith("/api/denials/")} == {
        "/api/denials/",
        "/api/denials/{id}/",
        "/api/denials/{id}/status/",
        "/api/denials/assign/",
        "/api/denials/{id}/corrected-claim/",
        "/api/denials/{id}/void/",
        "/api/denials/{id}/write-off/",
        "/api/denials/{id}/letters/",
        "/api/denials/letters/{id}/",
        "/api/denials/letters/{id}/final/",
        "/api/denials/letters/{id}/sent/",
        "/api/denials/letters/{id}/outcome/",
        "/api/denials/letters/{id}/pdf/",
        "/api/denials/analytics/",
    }


def test_the_list_query_count_does_not_grow_with_the_rows(billing, denied, biller, django_assert_num_queries):  # noqa: F811
    from tests.denials.conftest import BOTH_DENIED, post_era, two_line_claim

    client = api(biller)
    with django_assert_num_queries(API_LIST_QUERIES):
        assert client.get("/api/denials/").json()["count"] == 2
    other = two_line_claim(billing)
    post_era(billing, other, BOTH_DENIED, "4", trace="EFT2", control="000000102")
    with django_assert_num_queries(API_LIST_QUERIES):
        assert client.get("/api/denials/").json()["count"] == 4


# memberships (practice) + count + page rows + their remittance claims (each denial's ERA)
API_LIST_QUERIES = 4
