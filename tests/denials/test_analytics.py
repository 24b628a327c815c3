"""Denial analytics on a hand-built history posted through real 835s: exact rates, Pareto, preventable
share, overturn rate and days to resolve; the drill-down to the denials behind a number; CSV of every view;
a fixed number of queries; the API's numbers; and tenant isolation."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.test import Client

from denials.analytics.selectors import AnalyticsFilters, denial_analytics
from rcm.models import AuditEvent
from tests.conftest import login
from tests.denials.analytics_dataset import MARCH_APRIL, analytics_history, post_on
from tests.denials.conftest import BOTH_DENIED, two_line_claim

D = Decimal


@pytest.fixture
def history(billing):
    return analytics_history(billing)


def _analytics(practice, **kwargs):
    filters = AnalyticsFilters(start=datetime.date(2026, 3, 1), end=datetime.date(2026, 4, 30), **kwargs)
    return denial_analytics(practice, filters)


def test_the_headline_numbers(history):
    s = _analytics(history.practice).summary
    assert (s.adjudicated, s.charges, s.denied_claims, s.denials, s.amount) == (
        5,
        D("1015.00"),
        2,
        3,
        D("221.00"),
    )
    assert (s.rate, s.rate_amount) == (D("40.0"), D("21.8"))  # 2 of 5; $221 of $1,015
    assert (s.preventable_count, s.preventable_amount, s.preventable_share) == (1, D("18.00"), D("8.1"))
    assert (s.appeals_decided, s.appeals_won, s.overturn_rate) == (2, 2, D("100.0"))
    # A's two: 03/20 → 04/24 = 35 days; C's: 04/10 → 04/30 = 20 days
    assert (s.resolved, s.days_to_resolve) == (3, D("30.0"))


def _rows(rows, *fields):
    return [tuple(getattr(row, f) for f in fields) for row in rows]


def test_the_breakdowns(history):
    a = _analytics(history.practice)
    fields = ("label", "denials", "denied_claims", "amount", "adjudicated", "charges", "rate", "rate_amount")
    assert _rows(a.month, *fields) == [
        ("Mar 2026", 2, 1, D("203.00"), 2, D("406.00"), D("50.0"), D("50.0")),
        ("Apr 2026", 1, 1, D("18.00"), 3, D("609.00"), D("33.3"), D("3.0")),
    ]
    assert _rows(a.payer, *fields) == [
        ("Acme Health", 3, 2, D("221.00"), 5, D("1015.00"), D("40.0"), D("21.8"))
    ]
    assert _rows(a.provider, *fields) == [
        ("Dana Rivera, MD", 3, 2, D("221.00"), 5, D("1015.00"), D("40.0"), D("21.8"))
    ]
    assert _rows(a.procedure, "label", "denials", "amount", "adjudicated", "charges", "rate") == [
        ("99214", 1, D("185.00"), 5, D("925.00"), D("20.0")),
        ("36415", 2, D("36.00"), 5, D("90.00"), D("40.0")),
    ]
    assert _rows(a.category, "key", "denials", "amount", "share", "cumulative") == [
        ("medical_necessity", 2, D("203.00"), D("91.9"), D("91.9")),
        ("bundling", 1, D("18.00"), D("8.1"), D("100.0")),
    ]
    assert _rows(a.carc, "key", "denials", "amount") == [("50", 2, D("203.00")), ("97", 1, D("18.00"))]
    assert _rows(a.owner, "label", "denials", "amount") == [
        ("provider", 2, D("203.00")),
        ("coding", 1, D("18.00")),
    ]


def test_payer_and_provider_filters(history):
    assert _analytics(history.practice, payer=history.medicare.pk).summary.adjudicated == 0
    assert _analytics(history.practice, payer=history.payer.pk).summary.denials == 3
    assert _analytics(history.practice, provider=history.doctor.pk + 1000).summary.denials == 0


def test_the_page_shows_the_numbers_with_charts_and_a_fixed_number_of_queries(
    history, manager, django_assert_num_queries
):
    client = login(manager)
    with django_assert_num_queries(ANALYTICS_PAGE_QUERIES):
        response = client.get(f"/denials/analytics/?{MARCH_APRIL}")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="pareto-chart"' in html and "vendor/chartjs/chart.umd.min.js" in html
    assert "40.0%" in html and "21.8%" in html and "8.1%" in html and "30.0 d" in html
    assert (
        '<a href="/denials/analytics/denials/?from=2026-03-01&amp;to=2026-04-30&amp;'
        'category=medical_necessity">medical necessity / coverage</a>' in html
    )
    chart = response.context["chart_data"]["pareto"]
    assert [(p["label"], p["amount"], p["cumulative"]) for p in chart] == [
        ("medical necessity / coverage", "203.00", "91.9"),
        ("bundling / NCCI", "18.00", "100.0"),
    ]
    # more data, same queries
    for index in range(3):
        claim = two_line_claim(history)
        post_on(history, claim, BOTH_DENIED, "4", "2026-04-15", f"X{index}")
    with django_assert_num_queries(ANALYTICS_PAGE_QUERIES):
        assert client.get(f"/denials/analytics/?{MARCH_APRIL}").context["summary"].denials == 9
    # seen again with no claim changed: the numbers come from the cache
    with django_assert_num_queries(3 + 2):
        assert client.get(f"/denials/analytics/?{MARCH_APRIL}").context["summary"].denials == 9


# session, user, memberships (middleware) + payers, providers + 4 summary + 2 by month + 2 by payer
# + 2 by provider + 2 by procedure + category + CARC + owner
ANALYTICS_PAGE_QUERIES = 3 + 2 + 4 + 2 + 2 + 2 + 2 + 3


def test_drilling_into_a_number_lists_exactly_the_denials_behind_it(history, manager):
    client = login(manager)
    claims = history.claims

    def listed(query):
        response = client.get(f"/denials/analytics/denials/?{MARCH_APRIL}&{query}")
        assert response.status_code == 200
        return [(d.claim_id, d.reason_code, d.amount) for d in response.context["page"]]

    a, c = claims["A"].pk, claims["C"].pk
    assert listed("category=medical_necessity") == [(a, "50", D("185.00")), (a, "50", D("18.00"))]
    assert listed("month=2026-04") == [(c, "97", D("18.00"))]
    # the largest first, then the most recent
    assert listed("procedure=36415") == [(c, "97", D("18.00")), (a, "50", D("18.00"))]
    assert listed("preventable=1") == [(c, "97", D("18.00"))]
    assert listed("appeal=won") == [(a, "50", D("185.00")), (a, "50", D("18.00"))]
    assert listed("carc=97&owner=coding") == [(c, "97", D("18.00"))]
    assert listed("resolved=1") == [(a, "50", D("185.00")), (c, "97", D("18.00")), (a, "50", D("18.00"))]
    html = client.get(f"/denials/analytics/denials/?{MARCH_APRIL}&preventable=1").content.decode()
    assert f'<a href="/claims/{c}/">{claims["C"].patient_control_number}</a>' in html


def test_every_view_exports_csv_and_the_export_is_audited(history, manager):
    client = login(manager)
    response = client.get(f"/denials/analytics/?{MARCH_APRIL}&view=category&format=csv")
    assert response["Content-Type"] == "text/csv"
    assert list(csv.reader(io.StringIO(response.content.decode()))) == [
        [
            "Category",
            "Denials",
            "Adjudications with a denial",
            "Denied amount",
            "Share of denied dollars (%)",
            "Cumulative share (%)",
        ],
        ["medical necessity / coverage", "2", "1", "203.00", "91.9", "91.9"],
        ["bundling / NCCI", "1", "1", "18.00", "8.1", "100.0"],
    ]
    summary = dict(
        csv.reader(
            io.StringIO(
                client.get(f"/denials/analytics/?{MARCH_APRIL}&view=summary&format=csv").content.decode()
            )
        )
    )
    assert summary["Denial rate by count (%)"] == "40.0" and summary["Mean days to resolve"] == "30.0"
    for view in ("month", "payer", "provider", "procedure", "carc", "owner"):
        rows = list(
            csv.reader(
                io.StringIO(
                    client.get(f"/denials/analytics/?{MARCH_APRIL}&view={view}&format=csv").content.decode()
                )
            )
        )
        assert (
            len(rows)
            == 1 + {"month": 2, "payer": 1, "provider": 1, "procedure": 2, "carc": 2, "owner": 2}[view]
        )
    drill = client.get(f"/denials/analytics/denials/?{MARCH_APRIL}&preventable=1&format=csv").content.decode()
    pcn = history.claims["C"].patient_control_number
    expected = f"2026-04-10,{pcn},Acme Health,36415,CO,97,bundling / NCCI,coding,yes,Written off,18.00"
    assert drill.splitlines()[1] == expected
    assert (
        AuditEvent.objects.filter(
            action="export", object_type__in=["denials.analytics", "denials.denial"]
        ).count()
        == 9
    )


def test_bad_dates_say_so_and_fall_back(history, manager):
    response = login(manager).get("/denials/analytics/?from=2026-13-01&to=2026-04-30")
    assert response.status_code == 200
    default_start = response.context["filters"].start
    assert response.context["errors"] == [
        f"From date '2026-13-01' is not a date (YYYY-MM-DD): using {default_start:%m/%d/%Y}."
    ]
    assert (default_start.day, response.context["filters"].end) == (1, datetime.date(2026, 4, 30))
    response = login(manager).get("/denials/analytics/?from=2026-04-30&to=2026-03-01")
    assert response.context["errors"] == [
        "From (04/30/2026) is after To (03/01/2026): showing the last 12 months."
    ]


def test_roles_and_tenants(history, persona, outsider):
    assert persona("collections").get("/denials/analytics/").status_code == 403
    assert persona("biller").get("/denials/analytics/").status_code == 200
    response = login(outsider).get(f"/denials/analytics/?{MARCH_APRIL}")
    assert response.context["summary"].denials == 0
    assert (
        login(outsider).get(f"/denials/analytics/denials/?{MARCH_APRIL}").context["page"].paginator.count == 0
    )


def test_the_api_gives_the_same_numbers(history, manager):
    client = Client()
    client.force_login(manager)
    response = client.get(
        f"/api/denials/analytics/?{MARCH_APRIL.replace('from', 'start').replace('to=', 'end=')}"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["summary"]["denial_rate"] == "40.0"
    assert body["summary"]["denied_amount"] == "221.00"
    assert body["summary"]["appeal_overturn_rate"] == "100.0"
    assert body["summary"]["days_to_resolve"] == "30.0"
    assert [(r["label"], r["amount"], r["cumulative"]) for r in body["category"]] == [
        ("medical necessity / coverage", "203.00", "91.9"),
        ("bundling / NCCI", "18.00", "100.0"),
    ]
    assert body["category"][0]["denials_url"].endswith("category=medical_necessity")
