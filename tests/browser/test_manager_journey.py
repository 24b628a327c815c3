"""The practice manager's look at the numbers in a real browser: the KPI dashboard, a date range chosen,
the initial denial rate's tile followed to the denied claims behind it, those claims exported to CSV, and
the month's PDF report downloaded. axe-core checks every page on the way.

The practice is the hand-worked one of ``tests/kpis/dataset.py`` (every March 2026 number worked out by
hand), with its snapshots computed for January to March."""

import csv
import datetime
import io

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from kpis.services import kpi_snapshots_compute
from tests.browser.harness import axe_check, screenshot, sign_in
from tests.kpis.dataset import MARCH_END, HandWorked

pytestmark = pytest.mark.browser


@pytest.fixture
def numbers(practice):
    data = HandWorked(practice)
    kpi_snapshots_compute(practice=practice, start=datetime.date(2026, 1, 1), end=MARCH_END)
    return data


def visit(page, name: str) -> None:
    axe_check(page)
    screenshot(page, name)


def test_the_managers_look_at_the_numbers(app, page, numbers, manager):
    sign_in(page, app, manager)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="KPIs", exact=True).click()

    # The dashboard opens on the 30 days up to the last computed day.
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("Revenue cycle KPIs 03/02/2026 – 03/31/2026 (30 days)")
    visit(page, "kpis-01-dashboard-30-days")

    # The whole of March.
    page.get_by_label("From").fill("2026-03-01")
    page.get_by_role("button", name="Apply").click()
    expect(heading).to_have_text("Revenue cycle KPIs 03/01/2026 – 03/31/2026 (31 days)")
    tile = page.locator(".tile.kpi", has_text="Initial denial rate")
    expect(tile.locator("a.value")).to_have_text("50.0%")
    expect(page.locator(".tile.kpi", has_text="Clean claim rate").locator("a.value")).to_have_text("60.0%")
    visit(page, "kpis-02-dashboard-march")

    # The tile opens the claims adjudicated in March; the numerator's link narrows to those denied.
    tile.locator("a.value").click()
    expect(heading).to_contain_text("Initial denial rate")
    page.get_by_role("link", name="Show only the numerator’s claims").click()
    rows = page.locator("table.grid tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.locator("td:first-child")).to_have_text(
        [numbers.c3.patient_control_number, numbers.c2.patient_control_number]
    )
    visit(page, "kpis-03-denied-claims")

    # Exported: the same two claims, with their charges.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    download = download_info.value
    assert download.suggested_filename == "kpi-initial_denial_rate-2026-03-31.csv"
    exported = list(csv.reader(io.StringIO(open(download.path(), encoding="utf-8").read())))
    assert [(row[0], row[2], row[5], row[7]) for row in exported[1:]] == [
        (numbers.c3.patient_control_number, "Beta Insurance", "300.00", "1.00"),
        (numbers.c2.patient_control_number, "Acme Health", "200.00", "1.00"),
    ]

    # Back on the dashboard, March's PDF report.
    page.locator(".crumbs").get_by_role("link", name="KPIs").click()  # keeps the range
    expect(heading).to_contain_text("03/01/2026 – 03/31/2026")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Mar 2026").click()
    report = download_info.value
    assert report.suggested_filename == "kpi-report-2026-03.pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(report.path()).pages)
    assert "Riverside Family Medicine: revenue cycle report" in text
    assert "Initial denial rate 50.0%" in text
