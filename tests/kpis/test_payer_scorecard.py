"""The payer scorecard of March 2026 on the hand-worked practice (tests/kpis/dataset.py), worked out by hand:
precomputed per payer and month with the KPI snapshots, read by the page, exports, API and PDF."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from kpis.models import PayerScorecardMonth
from kpis.scorecard import payer_scorecard, payer_trend, percentile_90
from kpis.services import kpi_snapshots_compute
from tests.conftest import login
from tests.kpis.dataset import MARCH_END, MARCH_START, HandWorked

D = Decimal


@pytest.fixture
def scored(practice):
    """The hand-worked practice with an Acme contract allowing 99213 at $75.00: C1's line, allowed $70.00,
    is $5.00 short (recovered on 03-29)."""
    data = HandWorked(practice)
    kpi_snapshots_compute(practice=practice, start=datetime.date(2026, 1, 1), end=MARCH_END)
    return data


def test_percentile_90_is_the_nearest_rank():
    assert percentile_90([]) is None
    assert percentile_90([10, 17, 23]) == 23  # rank ceil(2.7) = 3
    assert percentile_90(list(range(1, 21))) == 18  # rank 18 of 20


def test_march_per_payer_worked_by_hand(scored, practice):
    acme, beta = payer_scorecard(practice, start=MARCH_START, end=MARCH_END)
    # Acme: submitted in March C1, C2, C7 (all clean); first adjudicated C1 paid, C2 denied, C7 paid;
    # first paid C1 17 days, C2 23, C7 10; C2's appeal won; charges 100 + 200 + 80; payments C1 60 + 10,
    # C2 150, C7 80 + 20, C6's reversal -50.
    assert (acme.payer_name, acme.claims, acme.clean_claim_rate, acme.charges, acme.payments) == (
        "Acme Health",
        3,
        D("100.0"),
        D("380.00"),
        D("270.00"),
    )
    assert (acme.days_to_pay, acme.days_to_pay_p90, acme.initial_denial_rate) == (D("16.7"), 23, D("33.3"))
    assert (acme.top_carcs, acme.appeal_overturn_rate) == ([("197", 1)], D("100.0"))
    # C1: expected 75.00, allowed 70.00 -> 5.00 short, 6.7% of expected; recovered 03-29
    assert (acme.expected, acme.underpaid, acme.underpaid_percent, acme.recovered) == (
        D("75.00"),
        D("5.00"),
        D("6.7"),
        D("5.00"),
    )
    # Beta: C3 (edited) and C4 (rejected) submitted, neither clean; C3 partly paid with CARC 50 after 12 days.
    assert (beta.claims, beta.clean_claim_rate, beta.initial_denial_rate, beta.top_carcs) == (
        2,
        D("0.0"),
        D("100.0"),
        [("50", 1)],
    )
    assert (beta.days_to_pay, beta.days_to_pay_p90, beta.appeal_overturn_rate, beta.underpaid_percent) == (
        D("12.0"),
        12,
        None,
        None,
    )


def test_months_add_up_and_a_trend_has_every_month(scored, practice):
    (acme, _beta) = payer_scorecard(practice, start=datetime.date(2026, 1, 1), end=MARCH_END)
    # February adds C5's payment (100.00, 41 days) and C6's (50.00, 116 days)
    assert (acme.payments, acme.paid_claims, acme.days_to_pay_p90) == (D("420.00"), 5, 116)
    trend = payer_trend(practice, payer=scored.acme, end=MARCH_END)
    assert [month for month, _card in trend][-3:] == [
        datetime.date(2026, 1, 1),
        datetime.date(2026, 2, 1),
        datetime.date(2026, 3, 1),
    ]
    assert len(trend) == 12
    assert [card.payments for _month, card in trend[-3:]] == [D("0"), D("150.00"), D("270.00")]
    # computing again replaces the rows
    count = PayerScorecardMonth.objects.count()
    kpi_snapshots_compute(practice=practice, start=MARCH_START, end=MARCH_END)
    assert PayerScorecardMonth.objects.count() == count


def test_the_page_costs_a_fixed_number_of_queries(scored, manager, django_assert_num_queries):
    client = login(manager)
    client.get("/kpis/payers/?months=3&end=2026-03")
    with django_assert_num_queries(5):  # session, user, membership, snapshot status, figures
        response = client.get("/kpis/payers/?months=3&end=2026-03")
    page = response.content.decode()
    assert "Acme Health" in page and "Beta Insurance" in page
    # January to March: C5 (submitted 01-12, paid 02-20 after 39 days) and C6's payment (02-27) join March
    assert "197 (1)" in page and "41.0 days" in page


def test_exports_csv_and_xlsx(scored, manager):
    client = login(manager)
    response = client.get("/kpis/payers/?months=3&end=2026-03&format=csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:4] == ["Payer", "Claims", "Charges", "Payments"]
    # January to March: Acme adds C5 (submitted in January: 500.00, paid 100.00 in February) and C6's
    # payment of 02-27; days to pay 17, 23, 10, 39 and 116 -> 205 / 5; the worst month's 90th percentile 116
    assert rows[1] == [
        "Acme Health",
        "4",
        "880.00",
        "420.00",
        "41.00",
        "116",
        "33.30",
        "197 (1)",
        "100.00",
        "5.00",
        "6.70",
        "5.00",
        "100.00",
    ]  # fmt: skip (csv_cell writes every decimal to two places)
    xlsx = client.get("/kpis/payers/?months=3&end=2026-03&format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert [cell.value for cell in sheet[3]][:4] == ["Beta Insurance", 2, 700, 120]


def test_payer_page_charts_have_tables_and_the_pdf_is_one_page(scored, manager):
    client = login(manager)
    page = client.get(f"/kpis/payers/{scored.acme.pk}/?end=2026-03").content.decode()
    assert page.count('role="img"') == 4 and page.count("Values as a table") == 4
    assert "vendor/chartjs/chart.umd.min.js" in page
    response = client.get(f"/kpis/payers/{scored.acme.pk}/scorecard.pdf?end=2026-03")
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1
    text = " ".join(reader.pages[0].extract_text().split())
    assert "Acme Health: payer scorecard" in text
    assert "Apr 2025 – Mar 2026" in text
    assert "Mar 2026 3 $380.00 $270.00 16.7 days 23 days 33.3% 197 (1) 100.0% $5.00 6.7% $5.00 100.0%" in text


def test_api_and_roles(scored, manager, biller, outsider):
    data = login(manager).get("/api/payer-scorecard/?months=3&end=2026-03-31").json()
    assert [(row["payer_name"], row["claims"], row["underpaid"], row["days_to_pay_p90"]) for row in data] == [
        ("Acme Health", 4, "5.00", 116),
        ("Beta Insurance", 2, "0.00", 12),
    ]
    assert login(biller).get("/kpis/payers/").status_code == 403
    assert login(biller).get("/api/payer-scorecard/").status_code == 403
    assert login(outsider).get(f"/kpis/payers/{scored.acme.pk}/").status_code == 404
