"""Denial pages: the claim page's denials panel, the work queue (filters, order, take next, bulk assign,
CSV, query count), a denial's page, letters (draft, final PDF download, sent), the manager's rules page,
permissions and tenancy."""

import csv
import io
import re

import pytest
from pypdf import PdfReader

from denials.models import AppealLetter, Denial, RootCauseRule
from tests.conftest import login
from tests.denials.conftest import post_era, two_line_claim

# session, user, memberships (middleware) + count, page rows, their remittance claims (and their assignees
# when any is assigned), rules (what to do), payers, providers, assignees
QUEUE_PAGE_QUERIES = 3 + 3 + 1 + 3


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_the_denied_claim_page_shows_each_denial_in_words_with_cause_owner_deadline_era_and_actions(
    denied, biller
):
    response = login(biller).get(f"/claims/{denied.pk}/")
    text = _text(response)
    assert response.status_code == 200
    assert "CO-50" in text
    assert "the payer does not consider the service medically necessary" in text
    assert text.count("medical necessity / coverage") == 3  # two rows and the "what to do"
    assert text.count("<td>provider</td>") == 2
    assert text.count("09/16/2026") == 2
    remittance_id = Denial.objects.filter(claim=denied).first().remittance_claim.remittance_id
    assert f'href="/claims/remittances/{remittance_id}/"' in text or f"/remittances/{remittance_id}/" in text
    assert "Send corrected claim" in text
    assert "Write off" in text
    assert "Void claim" in text


def test_queue_lists_open_denials_by_recoverable_amount_with_a_fixed_query_count(
    billing, denied, biller, django_assert_num_queries
):
    other = two_line_claim(billing)
    post_era(
        billing,
        other,
        [
            dict(code="99214", charge="185", paid="80", cas=[("CO", "45", "85"), ("PR", "2", "20")]),
            dict(code="36415", charge="18", paid="0", cas=[("CO", "97", "18")]),
        ],
        "1",
        trace="EFT2",
        control="000000102",
    )
    client = login(biller)
    with django_assert_num_queries(QUEUE_PAGE_QUERIES):
        response = client.get("/denials/")
    rows = [(d.reason_code, d.recoverable) for d in response.context["page"].object_list]
    assert [(code, str(amount)) for code, amount in rows] == [
        ("50", "185.00"),
        ("50", "18.00"),
        ("97", "18.00"),
    ]
    # Filters: by CARC, by category.
    response = client.get("/denials/?carc=97")
    assert [d.reason_code for d in response.context["page"].object_list] == ["97"]
    response = client.get("/denials/?category=bundling")
    assert [d.reason_code for d in response.context["page"].object_list] == ["97"]
    response = client.get("/denials/?owner=front_desk")
    assert "No denial to work with these filters." in _text(response)
    assert "attach the auth number" not in _text(response)  # guidance shown per category
    assert "Find the authorization or referral number, attach it to the claim" in _text(response)


def test_take_next_then_empty_queue_says_so(denied, biller):
    client = login(biller)
    first = client.post("/denials/take-next/")
    denial = Denial.objects.get(assignee=biller)
    assert first.url == f"/denials/{denial.pk}/"
    client.post("/denials/take-next/")
    response = client.post("/denials/take-next/", follow=True)
    assert "Nothing left to take" in _text(response)


def test_bulk_assign_from_the_queue(denied, biller):
    ids = [str(pk) for pk in Denial.objects.values_list("pk", flat=True)]
    response = login(biller).post(
        "/denials/assign/", {"denial": ids, "assignee": str(biller.pk)}, follow=True
    )
    assert "2 denials assigned to" in _text(response)
    assert Denial.objects.filter(assignee=biller).count() == 2


def test_csv_export_has_one_row_per_denial(denied, biller):
    response = login(biller).get("/denials/?format=csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:4] == ["Denial", "PCN", "Payer", "Provider"]
    assert [(r[5], r[7], r[10], r[14], r[18]) for r in rows[1:]] == [
        ("99214", "50", "medical necessity / coverage", "185.00", "2026-09-16"),
        ("36415", "50", "medical necessity / coverage", "18.00", "2026-09-16"),
    ]


def test_letter_from_the_denial_page_to_pdf_download(denied, biller):
    client = login(biller)
    denial = Denial.objects.filter(claim=denied, line__procedure_code="99214").get()
    page = client.get(f"/denials/{denial.pk}/")
    assert "Draft appeal letter" in _text(page)
    response = client.post(f"/denials/{denial.pk}/letters/new/", {"template": "medical_necessity"})
    letter = AppealLetter.objects.get()
    assert response.url == f"/denials/letters/{letter.pk}/"
    body = letter.body.replace("Dear Appeals Reviewer,", "Dear Reviewer,")
    client.post(f"/denials/letters/{letter.pk}/", {"action": "final", "body": body})
    download = client.get(f"/denials/letters/{letter.pk}/pdf/")
    assert download["Content-Type"] == "application/pdf"
    text = PdfReader(io.BytesIO(download.content)).pages[0].extract_text()
    assert "Dear Reviewer," in text
    client.post(
        f"/denials/letters/{letter.pk}/", {"action": "sent", "sent_on": "2026-04-01", "channel": "fax"}
    )
    denied.refresh_from_db()
    assert denied.status == "appealed"


def test_manager_edits_a_rule_and_applies_it(denied, manager, biller):
    client = login(manager)
    assert client.get("/denials/rules/").status_code == 200
    client.post(
        "/denials/rules/",
        {
            "reason_code": "50",
            "category": "documentation",
            "owner": "coding",
            "preventable": "on",
            "what_to_do": "x",
        },
    )
    assert RootCauseRule.objects.get().category == "documentation"
    response = client.post("/denials/rules/", {"action": "apply"}, follow=True)
    assert "2 open denials re-read" in _text(response)
    assert login(biller).get("/denials/rules/").status_code == 403


@pytest.mark.parametrize("path", ["/denials/", "/denials/rules/"])
def test_collections_cannot_see_denials(persona, path, denied):
    assert persona("collections").get(path).status_code == 403


def test_another_practices_denial_is_a_404(denied, outsider):
    denial = Denial.objects.first()
    assert login(outsider).get(f"/denials/{denial.pk}/").status_code == 404
    assert login(outsider).post(f"/denials/claims/{denied.pk}/write-off/", {"reason": "x"}).status_code == 404


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example/"])
def test_an_action_never_sends_the_biller_off_site(denied, biller, target):
    response = login(biller).post(f"/denials/claims/{denied.pk}/write-off/", {"reason": "", "next": target})
    assert response.url == f"/claims/{denied.pk}/"
