"""The practice manager chasing underpayments in a real browser: the underpaid claims with their evidence
(contract, fee schedule row, expected, allowed, paid, CAS codes), one appealed with its letter downloaded,
the drift finding, and the payer's scorecard downloaded as a one-page PDF. axe-core checks every page.

The data: Acme's contract allows 99214 at $130.00 and 36415 at $18.00; ten claims of 03/02/2026 are paid
by one 835 with 99214 allowed at $120.00 ($100.00 paid + $20.00 coinsurance): ten claims $10.00 short, and
one drift finding."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from pypdf import PdfReader

from claims.scrubber.ncci import ncci_load_samples
from claims.services import LineInput
from claims.state_machine import claim_transition
from kpis.services import kpi_snapshots_compute
from rcm.models import FeeScheduleRow
from tests.browser.harness import axe_check, screenshot, sign_in
from tests.claims.conftest import DOS, Billing
from tests.claims.era_builder import era
from tests.claims.test_era_posting import post

pytestmark = pytest.mark.browser
D = datetime.date
SUBMITTED = datetime.datetime(2026, 3, 5, 12, tzinfo=datetime.UTC)  # paid 03/20: 15 days


@pytest.fixture
def short_paid(practice):
    ncci_load_samples()
    billing = Billing(practice)
    for code, amount in (("99214", "130.00"), ("36415", "18.00")):
        FeeScheduleRow.objects.create(
            practice=practice, contract=billing.contract, procedure_code=code, allowed_amount=amount
        )
    claims = []
    for _ in range(10):
        claim = billing.claim(
            lines=[
                LineInput(
                    procedure_code="99214",
                    charge=Decimal("185.00"),
                    service_date_from=DOS,
                    diagnosis_pointers=[1],
                ),
                LineInput(procedure_code="36415", charge=Decimal("18.00"), service_date_from=DOS),
            ]
        )
        for status in ("ready", "submitted", "accepted"):
            claim_transition(claim=claim, to_status=status, at=SUBMITTED)
        claims.append(claim)
    payments = [
        dict(
            pcn=claim.patient_control_number,
            charge="203",
            paid="118",
            pr="20",
            services=[
                dict(code="99214", charge="185", paid="100", cas=[("CO", "45", "65"), ("PR", "2", "20")]),
                dict(code="36415", charge="18", paid="18"),
            ],
        )
        for claim in claims
    ]
    assert post(billing, era(claims=payments)).applied
    kpi_snapshots_compute(practice=practice, start=D(2026, 3, 1), end=timezone.localdate())
    return billing, claims


def visit(page, name: str) -> None:
    axe_check(page)
    screenshot(page, name)


def test_the_manager_finds_appeals_and_brings_the_numbers_to_the_payer(app, page, short_paid, manager):
    billing, claims = short_paid
    sign_in(page, app, manager)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Underpayments", exact=True).click()

    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("Underpayments")
    expect(page.get_by_role("link", name="Open 10")).to_be_visible()
    evidence = page.locator("table.underpayments > tbody > tr")
    expect(evidence).to_have_count(10)
    first = evidence.first
    expect(first.locator("table.evidence tbody tr td")).to_have_text(
        ["99214", "Acme PPO 2026", "row 99214 non-facility $130.00", "$130.00", "$120.00", "$100.00",
         "CO-45 65.00, PR-2 20.00", "$10.00"]
    )  # fmt: skip
    visit(page, "underpayments-01-open-with-evidence")

    # One claim: its lines against the contract, then appealed, and the letter downloaded.
    number = first.locator("td").first.inner_text()
    first.get_by_role("link", name=number).click()
    expect(heading).to_contain_text(f"Claim {number}")
    visit(page, "underpayments-02-claim")
    page.get_by_role("button", name="Appeal the underpayment").click()
    expect(page.get_by_text("Appealed: the letter is ready to download.")).to_be_visible()
    expect(page.locator(".headline .badge")).to_have_text("Appealed")
    expect(page.get_by_role("button", name="Appeal the underpayment")).to_have_count(0)
    visit(page, "underpayments-03-appealed")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the appeal letter (PDF)").click()
    letter = download_info.value
    assert letter.suggested_filename == f"underpayment-appeal-{number}.pdf"
    text = " ".join(PdfReader(letter.path()).pages[0].extract_text().split())
    assert f"Claim {number}" in text and "Total underpaid $10.00" in text

    # The drift behind the ten claims: one finding.
    page.locator(".crumbs").get_by_role("link", name="Underpayments").click()
    page.get_by_role("link", name="Drift findings (1)").click()
    expect(page.locator("section.finding h2")).to_have_text(
        "Acme Health allows 99214 at $120.00 since March 2026; contract says $130.00: 10 lines, $100.00 short"
    )
    visit(page, "underpayments-04-drift")

    # The payer's scorecard, and its one-page PDF.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Payer scorecard").click()
    row = page.locator("table.scorecard tbody tr", has_text="Acme Health")
    expect(row.locator("td").nth(8)).to_have_text("$100.00")  # underpaid $
    expect(row.locator("td").nth(9)).to_have_text("6.8%")  # 100.00 of 10 x (130 + 18) = 1,480.00 expected
    visit(page, "underpayments-05-scorecard")
    row.get_by_role("link", name="Acme Health").click()
    expect(heading).to_contain_text("Acme Health")
    page.wait_for_function("document.querySelectorAll('canvas[data-trend]').length === 4")
    visit(page, "underpayments-06-payer-trend")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the scorecard (PDF)").click()
    pdf = PdfReader(download_info.value.path())
    assert len(pdf.pages) == 1
    text = " ".join(pdf.pages[0].extract_text().split())
    assert "Acme Health: payer scorecard" in text and "$100.00 6.8%" in text
