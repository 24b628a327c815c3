"""The denied claim made workable, in a real browser: an 835 denies a claim (CO-50 on both lines); the biller
finds it in the denial queue with its cause and owner, opens it, drafts the medical-necessity appeal letter,
makes it final and downloads the PDF, marks it sent; the payer's next 835 pays the claim and the claim page
shows the denials overturned with the money recovered. axe-core checks every page on the way."""

import io

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from claims.scrubber.ncci import ncci_load_samples
from denials.models import Denial
from tests.browser.harness import axe_check, screenshot, sign_in
from tests.claims.conftest import Billing
from tests.claims.era_builder import era
from tests.denials.conftest import BOTH_DENIED, BOTH_PAID, two_line_claim

pytestmark = pytest.mark.browser


@pytest.fixture
def accepted(practice):
    ncci_load_samples()
    billing = Billing(practice)
    # A year to appeal from the remit date: the letter goes out in time whatever today's date.
    billing.contract.appeal_limit_days = 365
    billing.contract.save()
    return two_line_claim(billing)


def menu(page, label: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=label, exact=True).click()


def visit(page, name: str) -> None:
    axe_check(page)
    screenshot(page, name)


def upload(page, name: str, content: str) -> None:
    menu(page, "X12 files")
    page.get_by_label("Files").set_input_files(
        files=[{"name": name, "mimeType": "text/plain", "buffer": content.encode()}]
    )
    page.get_by_role("button", name="Import").click()
    expect(page.locator("ul.messages")).to_contain_text(f"{name} (835 remittance advice) imported")


def test_a_denial_appealed_with_a_letter_and_overturned_by_the_next_835(app, page, accepted, biller):
    claim = accepted
    pcn = claim.patient_control_number
    sign_in(page, app, biller)

    upload(
        page,
        "acme-0320.835",
        era(claims=[dict(pcn=pcn, status="4", charge="203", paid="0", services=BOTH_DENIED)]),
    )

    # The queue: both lines, the biggest first, with the reason in words, the cause and the owner.
    menu(page, "Denials")
    rows = page.locator("table.grid tbody tr")
    expect(rows).to_have_count(2)
    first = rows.nth(0).locator("td").all_inner_texts()
    assert first[1:9] == [
        pcn,
        "Acme Health",
        "1 99214",
        "CO-50",
        "the payer does not consider the service medically necessary",
        "medical necessity / coverage",
        "provider",
        "$185.00",
    ]
    assert first[9].startswith("03/20/2027")
    expect(page.locator("#what-to-do")).to_contain_text("Find the authorization or referral number")
    visit(page, "denials-01-queue")

    # Take the next denial: the 99214's opens, now the biller's.
    page.get_by_role("button", name="Take the next denial").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Denial CO-50 on claim {pcn}")
    expect(page.locator(".actions-bar")).to_contain_text("Assigned to")
    expect(page.locator("body")).to_contain_text("What to do: Appeal with the clinical notes")
    visit(page, "denials-02-denial")

    # The appeal letter: drafted from the medical necessity template, edited, made final, downloaded.
    expect(page.get_by_label("Appeal letter")).to_have_value("medical_necessity")
    page.get_by_role("button", name="Draft appeal letter").click()
    body = page.get_by_label("Letter text (edit before making it final)")
    expect(body).to_contain_text("Re: Appeal of a medical necessity denial")
    visit(page, "denials-03-letter-draft")
    body.fill(body.input_value().replace("Dear Appeals Reviewer,", "Dear Dr. Whitfield,"))
    page.get_by_role("button", name="Make final (PDF)").click()
    expect(page.locator("ul.messages")).to_contain_text("The letter is final")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF").click()
    pdf = download_info.value
    assert pdf.suggested_filename.startswith(f"appeal-{pcn}-")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(open(pdf.path(), "rb").read())).pages)
    assert "Dear Dr. Whitfield," in text
    assert (
        "- CO-50 (the payer does not consider the service medically necessary) on line 1 (99214):"
        in " ".join(text.split())
    )
    page.get_by_label("by").select_option("fax")
    page.get_by_role("button", name="Mark sent (files the appeal)").click()
    expect(page.locator("ul.messages")).to_contain_text("Marked sent: the claim is appealed.")
    visit(page, "denials-04-letter-sent")

    # The payer's next 835 pays the claim: the denials are overturned on their own.
    upload(
        page,
        "acme-0501.835",
        era(
            trace="EFT20260501",
            control="000000102",
            payment_date="20260501",
            claims=[dict(pcn=pcn, status="1", charge="203", paid="90", pr="20", services=BOTH_PAID)],
        ),
    )
    page.goto(f"{app.url}/claims/{claim.pk}/")
    panel = page.locator("#denials")
    expect(panel.locator("tbody tr")).to_have_count(2)
    expect(panel.locator("[data-status]")).to_have_text(["Overturned", "Overturned"])
    expect(panel).to_contain_text("recovered $80.00")
    expect(panel).to_contain_text("recovered $10.00")
    visit(page, "denials-05-claim-overturned")
    assert sorted(Denial.objects.values_list("status", flat=True)) == ["overturned", "overturned"]
