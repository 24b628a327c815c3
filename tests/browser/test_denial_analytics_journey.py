"""The practice manager's look at denials in a real browser: the analytics for March and April 2026, the
Pareto of root causes (chart and its table), a root cause followed to the denials behind it, and on to the
claim. axe-core checks every page on the way.

The data is the hand-built history of ``tests/denials/analytics_dataset.py`` (every number worked out in
``tests/denials/test_analytics.py``)."""

import pytest
from playwright.sync_api import expect

from claims.scrubber.ncci import ncci_load_samples
from tests.browser.harness import axe_check, screenshot, sign_in
from tests.claims.conftest import Billing
from tests.denials.analytics_dataset import analytics_history

pytestmark = pytest.mark.browser


@pytest.fixture
def history(practice):
    ncci_load_samples()
    return analytics_history(Billing(practice))


def visit(page, name: str) -> None:
    axe_check(page)
    screenshot(page, name)


def test_the_manager_sees_the_pareto_and_drills_to_the_claims(app, page, history, manager):
    sign_in(page, app, manager)
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Denial analytics", exact=True
    ).click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("Denial analytics")

    page.get_by_label("From", exact=True).fill("2026-03-01")
    page.get_by_label("To", exact=True).fill("2026-04-30")
    page.get_by_role("button", name="Apply").click()
    expect(heading).to_have_text("Denial analytics paid 03/01/2026 – 04/30/2026")
    tiles = page.locator(".tile.kpi a.value")
    expect(tiles).to_have_text(["40.0%", "21.8%", "8.1%", "100.0%", "30.0 d"])

    # The Pareto: the chart is drawn, and its table gives the same numbers with the cumulative share.
    expect(page.locator("#pareto-chart")).to_be_visible()
    page.wait_for_function("() => window.Chart && Chart.getChart('pareto-chart') !== undefined")
    pareto = page.locator("#table-category table tbody tr")
    expect(pareto).to_have_count(2)
    expect(pareto.nth(0)).to_contain_text("medical necessity / coverage")
    expect(pareto.nth(0).locator("td").last).to_have_text("91.9%")
    expect(pareto.nth(1).locator("td").last).to_have_text("100.0%")
    visit(page, "denial-analytics-01-march-april")

    # The biggest root cause opens the denials behind it, and one of them its claim.
    pareto.nth(0).get_by_role("link", name="medical necessity / coverage").click()
    expect(heading).to_contain_text("category medical necessity / coverage")
    rows = page.locator("table.grid tbody tr")
    expect(rows).to_have_count(2)
    claim = history.claims["A"]
    expect(rows.locator("td:nth-child(2)")).to_have_text([claim.patient_control_number] * 2)
    visit(page, "denial-analytics-02-medical-necessity")

    rows.first.get_by_role("link", name=claim.patient_control_number).click()
    expect(heading).to_contain_text(claim.patient_control_number)
    visit(page, "denial-analytics-03-claim")
