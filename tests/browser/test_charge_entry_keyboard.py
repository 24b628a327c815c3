"""Charge entry by keyboard alone: Tab reaches a line's remove button and Enter removes the line."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from claims.services import LineInput
from tests.browser.harness import axe_check, sign_in
from tests.claims.conftest import DOS, Billing

pytestmark = pytest.mark.browser


def test_a_line_is_removed_with_tab_and_enter_and_the_focus_stays_in_the_lines(app, page, practice, biller):
    claim = Billing(practice).claim(
        lines=[
            LineInput(procedure_code="99214", charge=Decimal("185.00"), service_date_from=DOS),
            LineInput(procedure_code="36415", charge=Decimal("18.00"), service_date_from=DOS),
        ]
    )
    sign_in(page, app, biller)
    page.goto(f"{app.url}/claims/{claim.pk}/edit/")
    axe_check(page)
    lines = page.locator("#lines tbody.line")

    lines.nth(1).get_by_label("Diagnosis pointers, up to 4 (1-12)").focus()
    page.keyboard.press("Tab")
    expect(lines.nth(1).get_by_role("button", name="Remove this line")).to_be_focused()
    page.keyboard.press("Enter")
    expect(lines).to_have_count(1)
    expect(lines.get_by_label("Procedure code (CPT/HCPCS)")).to_have_value("99214")
    expect(lines.get_by_role("button", name="Remove this line")).to_be_focused()

    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("dl.headline dd").first).to_have_text("$185.00")
    expect(page.locator("table.grid tr.dim td").nth(0)).to_have_text("2 removed")
    expect(page.locator("table.grid tr.dim td").nth(2)).to_have_text("36415")
