"""The cost to collect: the manager's monthly revenue-cycle cost ÷ the month's cash, worked by hand; the costs
page and its API; what the dashboard, the drill-down, the KPI table and the monthly report show of it."""

import csv
import datetime
import io
from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.urls import reverse

from claims.models import Party, TransactionKind
from kpis.models import RevenueCycleCost
from kpis.report import monthly_report
from kpis.selectors import Scope, kpi_claims, kpi_series, kpi_values
from kpis.services import kpi_snapshots_compute, revenue_cycle_cost_set
from rcm.models import AuditEvent
from rcm.roles import Role
from tests.conftest import login
from tests.kpis.dataset import PracticeBuilder

D, K = Decimal, TransactionKind
APRIL, MARCH, MAY = datetime.date(2026, 4, 1), datetime.date(2026, 3, 1), datetime.date(2026, 5, 1)
APRIL_END, MAY_END = datetime.date(2026, 4, 30), datetime.date(2026, 5, 31)
TODAY = datetime.date(2026, 5, 15)


class CashMonths(PracticeBuilder):
    """April's cash is $50,000.00: Acme pays 45,000.00 (04-10), the patient 5,500.00 (04-20), and 500.00 of
    that is refunded (04-25). March's is $1,000.00 (Beta, 03-15). May has none."""

    def __init__(self, practice):
        super().__init__(practice)
        self.big = self.claim("60000.00", "2026-04-01", "2026-04-01", self.acme)
        self.post(
            self.big,
            "2026-04-10",
            (K.INSURANCE_PAYMENT, "45000.00"),
            (K.CONTRACTUAL_ADJUSTMENT, "5000.00"),
            (K.TRANSFER_TO_PATIENT, "10000.00"),
        )
        self.post(self.big, "2026-04-20", (K.PATIENT_PAYMENT, "5500.00"), party=Party.PATIENT)
        self.post(self.big, "2026-04-25", (K.REFUND, "500.00"), party=Party.PATIENT)
        self.small = self.claim("1200.00", "2026-03-02", "2026-03-02", self.beta)
        self.post(self.small, "2026-03-15", (K.INSURANCE_PAYMENT, "1000.00"))


@pytest.fixture
def months(practice):
    data = CashMonths(practice)
    kpi_snapshots_compute(practice=practice, start=MARCH, end=MAY_END)
    return data


@pytest.fixture
def today():
    with mock.patch("django.utils.timezone.localdate", return_value=TODAY):
        yield TODAY


def cost_set(practice, month, amount, **kwargs):
    return revenue_cycle_cost_set(practice=practice, month=month, amount=D(amount), today=TODAY, **kwargs)


def cost_of(practice, start, end, scope=None):
    return kpi_values(practice, start=start, end=end, scope=scope or Scope())["cost_to_collect"]


def test_1500_of_cost_on_50000_of_cash_is_3_percent(months, practice):
    cost_set(practice, APRIL, "1500.00")
    item = cost_of(practice, APRIL, APRIL_END)
    assert (item.numerator, item.denominator, item.value, item.band, item.missing) == (
        D("1500.00"),
        D("50000.00"),
        D("3.0"),
        "ok",
        "",
    )


def test_a_range_counts_every_month_it_touches_whole(months, practice):
    cost_set(practice, APRIL, "1500.00")
    # 04-10..04-20 is April whole: the cost of the month over the cash of the month
    inside = cost_of(practice, datetime.date(2026, 4, 10), datetime.date(2026, 4, 20))
    assert (inside.numerator, inside.denominator, inside.value) == (D("1500.00"), D("50000.00"), D("3.0"))
    # 03-20..04-05 touches March too, whose cost is not entered yet: no number, and the words say which
    across = (datetime.date(2026, 3, 20), datetime.date(2026, 4, 5))
    item = cost_of(practice, *across)
    assert (item.value, item.band, item.missing) == (None, "", "enter the month's cost: Mar 2026")
    cost_set(practice, MARCH, "530.00")
    # (1,500 + 530) / (50,000 + 1,000) = 3.98%
    item = cost_of(practice, *across)
    assert (item.numerator, item.denominator, item.value, item.band) == (
        D("2030.00"),
        D("51000.00"),
        D("4.0"),
        "ok",
    )
    # the 17 days before (03-03..03-19) touch March only: 530 / 1,000
    assert item.previous == D("53.0")


def test_a_month_without_cash_has_no_number(months, practice):
    cost_set(practice, MAY, "1000.00")
    item = cost_of(practice, MAY, MAY_END)
    assert (item.numerator, item.denominator, item.value, item.missing) == (D("1000.00"), D("0"), None, "")


def test_a_payer_or_provider_has_no_cost_of_its_own(months, practice):
    cost_set(practice, APRIL, "1500.00")
    item = cost_of(practice, APRIL, APRIL_END, Scope("payer", str(months.acme.pk)))
    assert (item.value, item.missing) == (None, "whole practice only")


def test_a_correction_replaces_the_month_and_is_audited(months, practice, manager):
    first, created = cost_set(practice, APRIL, "1500.00", note="two billers", user=manager)
    corrected, changed = cost_set(
        practice, datetime.date(2026, 4, 17), "2000.00", note="two billers", user=manager
    )
    again, changed_again = cost_set(practice, APRIL, "2000", note="two  billers", user=manager)
    assert (created, changed, changed_again) == (True, True, False)
    assert first.pk == corrected.pk == again.pk
    assert list(RevenueCycleCost.objects.values_list("month", "amount", "note")) == [
        (APRIL, D("2000.00"), "two billers")
    ]
    assert cost_of(practice, APRIL, APRIL_END).value == D("4.0")  # 2,000 / 50,000, read as entered
    events = AuditEvent.objects.filter(object_type="kpis.revenuecyclecost").order_by("id")
    assert [e.action for e in events] == ["create", "update"]
    assert events[1].changes["amount"] == ["1500.00", "2000.00"]


@pytest.mark.parametrize(
    ("month", "amount", "field", "message"),
    [
        (APRIL, "-0.01", "amount", "A cost cannot be negative."),
        (APRIL, "10.005", "amount", "Enter dollars and cents: at most 2 decimal places."),
        (
            datetime.date(2026, 6, 1),
            "10.00",
            "month",
            "June 2026 has not started yet: enter the cost of a month that has.",
        ),
    ],
)
def test_the_service_refuses_bad_figures_and_writes_nothing(practice, month, amount, field, message):
    with pytest.raises(ValidationError) as refused:
        cost_set(practice, month, amount)
    assert refused.value.message_dict == {field: [message]}
    assert not RevenueCycleCost.objects.exists()
    assert not AuditEvent.objects.filter(object_type="kpis.revenuecyclecost").exists()


def test_the_drill_down_lists_the_claims_with_cash_in_those_months(months, practice):
    # 04-10..04-20 is the whole of April; March's claim stays out. The cost has no claims: both parts list
    # the cash.
    for part in ("denominator", "numerator"):
        drilldown = kpi_claims(
            practice,
            "cost_to_collect",
            start=datetime.date(2026, 4, 10),
            end=datetime.date(2026, 4, 20),
            part=part,
        )
        assert [(c.pk, c.counts_for) for c in drilldown.label(drilldown.claims)] == [
            (months.big.pk, D("50000.00"))
        ]
        assert (drilldown.count, drilldown.total) == (1, D("50000.00"))


def test_the_series_has_a_number_for_each_month_with_a_cost(months, practice):
    cost_set(practice, APRIL, "1500.00")
    points = kpi_series(practice, slugs=["cost_to_collect"], end=APRIL_END)["cost_to_collect"]
    assert [(p["month"], p["computed"], p["value"]) for p in points[-2:]] == [
        (MARCH, True, None),
        (APRIL, True, D("3.0")),
    ]


def test_the_dashboard_and_the_monthly_report_show_it(months, practice, manager):
    cost_set(practice, APRIL, "1500.00")
    page = login(manager).get(reverse("kpis:dashboard"), {"start": "2026-04-01", "end": "2026-04-30"})
    others = {item.definition.slug: item for item in page.context["others"]}
    assert others["cost_to_collect"].value == D("3.0")
    assert "1500.00 ÷ 50000.00" in page.content.decode()  # the "how is this computed" note
    before = login(manager).get(reverse("kpis:dashboard"), {"start": "2026-03-20", "end": "2026-04-05"})
    assert 'href="/kpis/costs/">enter the month&#x27;s cost: Mar 2026</a>' in before.content.decode()
    html = render_to_string("kpis/report.html", monthly_report(practice, month=APRIL))
    assert '<td>Cost to collect</td><td class="num">3.0% ($1,500.00 ÷ $50,000.00)</td>' in html
    html = render_to_string("kpis/report.html", monthly_report(practice, month=MARCH))
    assert '<td>Cost to collect</td><td class="num">enter the month&#x27;s cost: Mar 2026</td>' in html


# --- the costs page ---------------------------------------------------------------------------------------


def test_the_page_lists_24_months_with_cost_cash_and_percent(
    months, practice, manager, today, django_assert_num_queries
):
    cost_set(practice, APRIL, "1500.00", note="billing staff", user=manager)
    client = login(manager)
    client.get(reverse("kpis:costs"))  # warm the session and the practice cache
    with django_assert_num_queries(5):  # the session, the user, their membership + the costs + the cash
        response = client.get(reverse("kpis:costs"))
    rows = response.context["months"]
    assert (len(rows), rows[0].month, rows[-1].month) == (24, MAY, datetime.date(2024, 6, 1))
    assert [(r.month, r.cost and r.cost.amount, r.cash, r.percent) for r in rows[:3]] == [
        (MAY, None, D("0.00"), None),
        (APRIL, D("1500.00"), D("50000.00"), D("3.0")),
        (MARCH, None, D("1000.00"), None),
    ]
    page = response.content.decode()
    assert "$1,500.00" in page and "$50,000.00" in page and "3.0%" in page and "billing staff" in page
    assert page.count('<span class="needs">enter the month\'s cost</span>') == 23
    assert response.context["form"]["month"].value() == APRIL  # last month, the one usually entered


def test_a_manager_enters_a_month_and_corrects_it(months, practice, manager, today):
    client = login(manager)
    response = client.post(
        reverse("kpis:costs"), {"month": "2026-04", "amount": "1500", "note": "staff"}, follow=True
    )
    assert "Saved the cost of April 2026: $1,500.00." in response.content.decode()
    response = client.post(reverse("kpis:costs"), {"month": "2026-04", "amount": "1750.50"}, follow=True)
    assert "Saved the cost of April 2026: $1,750.50." in response.content.decode()
    response = client.post(reverse("kpis:costs"), {"month": "2026-04", "amount": "1750.50"}, follow=True)
    assert "No change to April 2026." in response.content.decode()
    assert list(RevenueCycleCost.objects.values_list("month", "amount", "note", "entered_by")) == [
        (APRIL, D("1750.50"), "", manager.pk)
    ]
    assert AuditEvent.objects.filter(object_type="kpis.revenuecyclecost", user=manager).count() == 2


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"amount": "-5"}, "A cost cannot be negative."),
        ({"amount": "12.345"}, "Enter dollars and cents: at most 2 decimal places."),
        ({"amount": "twelve"}, "Enter the cost as a number of dollars, such as 1500.00."),
        ({"amount": ""}, "Enter the month&#x27;s cost."),
        ({"month": "2026-06"}, "June 2026 has not started yet: enter the cost of a month that has."),
        ({"month": "2026-13"}, "Enter the month as YYYY-MM."),
        ({"note": "x" * 201}, "Ensure this value has at most 200 characters (it has 201)."),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_nothing_is_saved(
    practice, manager, today, fields, message
):
    cost_set(practice, MARCH, "900.00")
    before = AuditEvent.objects.filter(object_type="kpis.revenuecyclecost").count()
    response = login(manager).post(reverse("kpis:costs"), {"month": "2026-04", "amount": "1500.00", **fields})
    page = response.content.decode()
    assert response.status_code == 400
    assert "Nothing was saved" in page and message in page
    assert list(RevenueCycleCost.objects.values_list("month", "amount")) == [(MARCH, D("900.00"))]
    assert AuditEvent.objects.filter(object_type="kpis.revenuecyclecost").count() == before


@pytest.mark.parametrize(("role", "status"), [(Role.ADMIN, 200), (Role.BILLER, 403), (Role.COLLECTIONS, 403)])
def test_only_managers_and_admins_enter_costs(persona, role, status, today):
    assert persona(role).get(reverse("kpis:costs")).status_code == status
    posted = persona(role, f"{role}-2").post(reverse("kpis:costs"), {"month": "2026-04", "amount": "10.00"})
    assert posted.status_code == (302 if status == 200 else 403)
    assert RevenueCycleCost.objects.count() == (1 if status == 200 else 0)


def test_the_targets_page_links_the_costs(manager):
    assert 'href="/kpis/costs/"' in login(manager).get(reverse("kpis:targets")).content.decode()


# --- the API ----------------------------------------------------------------------------------------------


def test_the_api_lists_the_months_and_upserts_one(months, practice, manager, today):
    client = login(manager)
    put = client.put(
        "/api/kpi-costs/2026-04/", {"amount": "1500.00", "note": "staff"}, content_type="application/json"
    )
    assert put.status_code == 200
    assert {k: put.json()[k] for k in ("month", "cost", "note", "entered_by", "cash", "cost_to_collect")} == {
        "month": "2026-04-01",
        "cost": "1500.00",
        "note": "staff",
        "entered_by": manager.get_username(),
        "cash": "50000.00",
        "cost_to_collect": "3.00",
    }
    client.put("/api/kpi-costs/2026-04/", {"amount": "2000.00"}, content_type="application/json")
    listed = client.get("/api/kpi-costs/").json()
    assert len(listed) == 24
    assert [(r["month"], r["cost"], r["cash"], r["cost_to_collect"]) for r in listed[:3]] == [
        ("2026-05-01", None, "0.00", None),
        ("2026-04-01", "2000.00", "50000.00", "4.00"),
        ("2026-03-01", None, "1000.00", None),
    ]
    one = client.get("/api/kpis/cost_to_collect/", {"start": "2026-04-01", "end": "2026-04-30"}).json()
    assert (one["value"], one["numerator"], one["denominator"], one["missing"]) == (
        "4.00",
        "2000.00",
        "50000.00",
        "",
    )
    claims = client.get(
        "/api/kpis/cost_to_collect/claims/", {"start": "2026-04-01", "end": "2026-04-30"}
    ).json()
    assert [(r["id"], r["counts_for"]) for r in claims["results"]] == [(months.big.pk, "50000.00")]


@pytest.mark.parametrize(
    ("month", "body", "fields"),
    [
        ("2026-04", {"amount": "-1.00"}, {"amount": ["Ensure this value is greater than or equal to 0."]}),
        (
            "2026-04",
            {"amount": "1.001"},
            {"amount": ["Ensure that there are no more than 2 decimal places."]},
        ),
        ("2026-04", {"amount": "abc"}, {"amount": ["A valid number is required."]}),
        (
            "2026-06",
            {"amount": "1.00"},
            {"month": ["June 2026 has not started yet: enter the cost of a month that has."]},
        ),
    ],
)
def test_the_api_refuses_bad_input_in_the_error_format(practice, manager, today, month, body, fields):
    response = login(manager).put(f"/api/kpi-costs/{month}/", body, content_type="application/json")
    assert (response.status_code, response.json()["error"]["fields"]) == (400, fields)
    assert not RevenueCycleCost.objects.exists()


def test_the_api_is_for_managers_and_stays_in_the_practice(practice, other_practice, biller, outsider, today):
    revenue_cycle_cost_set(practice=other_practice, month=APRIL, amount=D("99.00"), today=TODAY)
    assert login(biller).get("/api/kpi-costs/").status_code == 403
    put = login(biller).put("/api/kpi-costs/2026-04/", {"amount": "1.00"}, content_type="application/json")
    assert put.status_code == 403
    assert not RevenueCycleCost.objects.filter(practice=practice).exists()
    mine = [r["cost"] for r in login(outsider).get("/api/kpi-costs/").json()]
    assert mine.count("99.00") == 1
    assert login(outsider).get("/api/kpi-costs/2026-13/").status_code == 404


def test_the_drill_down_exports_the_claims_behind_the_cash(months, practice, manager):
    cost_set(practice, APRIL, "1500.00")
    response = login(manager).get(
        reverse("kpis:claims"),
        {"kpi": "cost_to_collect", "start": "2026-04-10", "end": "2026-04-20", "format": "csv"},
    )
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][-1] == "Counts for"
    assert [(row[0], row[-1]) for row in rows[1:]] == [(months.big.patient_control_number, "50000.00")]
    page = login(manager).get(
        reverse("kpis:claims"), {"kpi": "cost_to_collect", "start": "2026-04-10", "end": "2026-04-20"}
    )
    assert (page.context["page"].paginator.count, page.context["total"]) == (1, D("50000.00"))
