"""The practice manager loads a payer's fee schedule from a spreadsheet in a real browser: the payers page,
the payer, its contract, the XLSX file checked (a bad one first: every problem listed, nothing saved), the
preview, the confirmation, then a claim of that payer showing each line's expected allowed amount with the
contract and row it came from. axe-core checks every page; screenshots on the way."""

import pytest
from openpyxl import Workbook
from playwright.sync_api import expect

from rcm.models import FeeScheduleImport, FeeScheduleRow
from tests.browser.harness import axe_check, screenshot, sign_in
from tests.claims.conftest import Billing

pytestmark = pytest.mark.browser


def _workbook(path, rows):
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def visit(page, name: str) -> None:
    axe_check(page)
    screenshot(page, name)


def test_the_manager_loads_a_fee_schedule_and_sees_a_claims_expected_amount(
    app, page, practice, manager, tmp_path
):
    billing = Billing(practice)
    claim = billing.claim()  # one 99214 at $185.00 for Acme Health, under "Acme PPO 2026"
    header = ["code", "modifier", "setting", "allowed_amount"]
    bad_rows = [header, ["99214", "", "inpatient", 130], ["9921", "", "", -4]]
    bad = _workbook(tmp_path / "acme-bad.xlsx", bad_rows)
    good = _workbook(
        tmp_path / "acme-2026.xlsx",
        [header, ["99214", "", "non-facility", 130], ["99214", "", "facility", 104.5], ["36415", "", "", 9]],
    )

    sign_in(page, app, manager)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Payers", exact=True).click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("Payers")
    visit(page, "contracts-01-payers")

    page.get_by_role("link", name="Acme Health").click()
    expect(heading).to_contain_text("Acme Health")
    visit(page, "contracts-02-payer")
    page.get_by_role("link", name="Acme PPO 2026").click()
    expect(heading).to_have_text("Acme PPO 2026")
    expect(page.locator("#fee-schedule")).to_contain_text("No fee rows")
    visit(page, "contracts-03-contract-empty")

    # A bad spreadsheet: every problem with its row, nothing saved.
    page.get_by_label("Fee schedule file (.csv or .xlsx)").set_input_files(str(bad))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("alert")).to_have_text(
        "3 problems in 2 rows: the file was refused and nothing was saved."
    )
    problems = page.locator("#problems tbody tr")
    expect(problems).to_have_count(3)
    expect(problems.nth(0)).to_contain_text("Unknown setting “inpatient”: write facility or non-facility.")
    visit(page, "contracts-04-file-refused")
    assert (FeeScheduleImport.objects.count(), FeeScheduleRow.objects.count()) == (0, 0)

    # The good one: a preview, then the confirmation.
    page.get_by_role("link", name="Back to the contract").click()
    page.get_by_label("Fee schedule file (.csv or .xlsx)").set_input_files(str(good))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", name="Preview: 3 rows, no problem found")).to_be_visible()
    expect(page.locator("#changes dd")).to_have_text(["3", "0", "0", "0"])  # new, changed, removed, unchanged
    visit(page, "contracts-05-preview")
    assert FeeScheduleRow.objects.count() == 0
    page.get_by_role("button", name="Load these 3 rows into Acme PPO 2026").click()
    expect(page.locator(".messages")).to_contain_text(
        "Fee schedule loaded from acme-2026.xlsx: 3 added, 0 changed, 0 removed, 0 unchanged."
    )
    rows = page.locator("#fee-schedule tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(1)).to_contain_text("99214")
    expect(rows.nth(1)).to_contain_text("non-facility$130.00")
    visit(page, "contracts-06-contract-loaded")

    # The claim shows what the contract expects for its line, and where it came from.
    page.goto(f"{app.url}/claims/{claim.pk}/")
    cell = page.locator("td.expected-allowed")
    expect(cell).to_contain_text("$130.00")
    expect(cell.get_by_role("link")).to_have_text("Acme PPO 2026")
    expect(cell).to_contain_text("row 99214 non-facility $130.00")
    visit(page, "contracts-07-claim-expected")
