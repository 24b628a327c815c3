"""The KPI dashboard and the claims behind each number: who may see them, what they show, the CSV export."""

import csv
import io
from decimal import Decimal
from unittest import mock

import pytest
from django.urls import reverse

from claims.models import Claim
from kpis import tasks
from kpis.services import kpi_snapshots_compute, kpi_targets_set, revenue_cycle_cost_set
from rcm.contracts.services import payer_update
from rcm.exports import csv_cell
from rcm.models import AuditEvent
from rcm.roles import Role
from tests.conftest import login
from tests.kpis.dataset import MARCH_END, MARCH_START, HandWorked

MARCH = {"start": "2026-03-01", "end": "2026-03-31"}


@pytest.fixture
def computed(practice):
    data = HandWorked(practice)
    kpi_snapshots_compute(practice=practice, start=MARCH_START, end=MARCH_END)
    return data


@pytest.mark.parametrize(
    ("role", "status"), [(Role.MANAGER, 200), (Role.ADMIN, 200), (Role.BILLER, 403), (Role.COLLECTIONS, 403)]
)
def test_only_managers_and_admins_see_the_dashboard(persona, role, status):
    assert persona(role).get(reverse("kpis:dashboard")).status_code == status
    assert persona(role, f"{role}-2").get(reverse("kpis:claims"), {"kpi": "ar_total"}).status_code == status


def test_the_nav_links_the_dashboard_for_managers_only(persona):
    assert b'href="/kpis/"' in persona(Role.MANAGER).get("/").content
    assert b'href="/kpis/"' not in persona(Role.BILLER).get("/").content


def test_the_dashboard_shows_tiles_targets_notes_and_needs(computed, manager):
    response = login(manager).get(reverse("kpis:dashboard"), MARCH)
    page = response.content.decode()
    assert response.status_code == 200
    assert '<div class="tile kpi bad">' in page  # clean claim rate 60.0% against 95
    assert "60.0%" in page and "78.7 days" in page and "$1,425.00" in page
    assert page.count("How is this computed?") == 26
    assert "needs payment plans" not in page
    others = {item.definition.slug: item.value for item in response.context["others"]}
    assert (others["payment_plan_completion_rate"], others["payment_plan_default_rate"]) == (25, 50)
    assert others["cost_to_collect"] == 3  # March: 12.45 / 415
    assert "needs the monthly revenue-cycle cost" not in page
    assert 'href="/kpis/costs/">enter monthly costs</a>' in page
    assert 'id="kpi-chart-data"' in page and "/static/vendor/chartjs/chart.umd.min.js" in page
    assert "Values as a table" in page  # the charts' text alternative
    assert "CO-197" in page and "CO-50" in page


def test_the_dashboard_costs_a_fixed_number_of_queries(computed, manager, django_assert_num_queries):
    client = login(manager)
    client.get(reverse("kpis:dashboard"), MARCH)  # warm the session and the practice cache
    # Figures cached: session, user, membership, snapshot status, the filter's payers and providers, the
    # denial Pareto (rows and total), the user's saved views.
    with django_assert_num_queries(9):
        client.get(reverse("kpis:dashboard"), MARCH)
    kpi_snapshots_compute(practice=computed.practice, start=MARCH_START, end=MARCH_END)
    with django_assert_num_queries(25):  # figures read again: 9 + 16 (the months' entered costs among them)
        client.get(reverse("kpis:dashboard"), MARCH)
    with django_assert_num_queries(24):  # a payer has no cost of its own: no cost query
        client.get(reverse("kpis:dashboard"), {**MARCH, "scope": f"payer:{computed.acme.pk}"})


def tile_band(page: str, slug: str) -> str:
    """The band class of a headline tile (``ok``, ``warn``, ``bad`` or empty)."""
    head, _, _ = page.partition(f"?kpi={slug}&amp;")
    return head.rsplit('<div class="tile kpi', 1)[1].split('">', 1)[0].strip()


def test_the_cached_figures_follow_targets_costs_payers_and_computations(computed, manager):
    client = login(manager)
    page = client.get(reverse("kpis:dashboard"), MARCH).content.decode()
    assert tile_band(page, "clean_claim_rate") == "bad"  # 60.0% against 95
    assert "12.45" in page and "Acme Health" in page
    kpi_targets_set(practice=computed.practice, bands={"clean_claim_rate": (Decimal("50"), Decimal("40"))})
    page = client.get(reverse("kpis:dashboard"), MARCH).content.decode()
    assert tile_band(page, "clean_claim_rate") == "ok"
    revenue_cycle_cost_set(
        practice=computed.practice, month=MARCH_START, amount=Decimal("20.75"), today=MARCH_END
    )
    payer_update(payer=computed.acme, name="Acme Health Plans")
    page = client.get(reverse("kpis:dashboard"), MARCH).content.decode()
    assert "12.45" not in page and "20.75" in page
    assert "Acme Health Plans" in page


def test_the_drill_down_lists_the_claims_behind_a_number(computed, manager):
    client = login(manager)
    response = client.get(
        reverse("kpis:claims"), {"kpi": "initial_denial_rate", "part": "numerator", **MARCH}
    )
    listed = [claim.pk for claim in response.context["page"]]
    assert sorted(listed) == sorted([computed.c2.pk, computed.c3.pk])
    response = client.get(
        reverse("kpis:claims"), {"kpi": "ar_total", **MARCH, "scope": f"payer:{computed.acme.pk}"}
    )
    assert sorted(c.pk for c in response.context["page"]) == sorted([computed.c5.pk, computed.c6.pk])
    response = client.get(reverse("kpis:claims"), {"carc": "197", **MARCH})
    assert [c.pk for c in response.context["page"]] == [computed.c2.pk]


def test_a_plan_kpis_drill_down_lists_one_claim_per_plan(computed, manager):
    client = login(manager)
    response = client.get(reverse("kpis:claims"), {"kpi": "payment_plan_default_rate", **MARCH})
    assert response.status_code == 200
    # plans counted in March: P1 (C1), P2 (C8), P3 (C2 and C4: its lowest-numbered claim, C2), P5 (C7)
    denominator = {claim.pk: claim.counts_for for claim in response.context["page"]}
    assert denominator == {pk: 1 for pk in (computed.c1.pk, computed.c8.pk, computed.c2.pk, computed.c7.pk)}
    response = client.get(
        reverse("kpis:claims"), {"kpi": "payment_plan_default_rate", "part": "numerator", **MARCH}
    )
    assert sorted(c.pk for c in response.context["page"]) == sorted([computed.c8.pk, computed.c7.pk])
    response = client.get(
        reverse("kpis:claims"), {"kpi": "payment_plan_completion_rate", "part": "numerator", **MARCH}
    )
    assert [c.pk for c in response.context["page"]] == [computed.c1.pk]
    response = client.get(
        reverse("kpis:claims"), {"kpi": "payment_plan_completion_rate", **MARCH, "format": "csv"}
    )
    assert len(list(csv.reader(io.StringIO(response.content.decode())))) == 1 + 4


def test_another_practices_claims_and_payers_stay_out(computed, other_practice, outsider, manager):
    other = HandWorked(other_practice)
    kpi_snapshots_compute(practice=other_practice, start=MARCH_START, end=MARCH_END)
    response = login(manager).get(
        reverse("kpis:claims"), {"kpi": "ar_total", **MARCH, "scope": f"payer:{other.acme.pk}"}
    )
    # The other practice's payer is not a valid scope here: the whole practice's own claims are listed.
    assert {claim.practice_id for claim in response.context["page"]} == {computed.practice.pk}
    assert response.context["scope"].dimension == "practice"


def test_the_export_lists_the_claims_neutralises_formulas_and_is_audited(computed, manager):
    Claim.objects.filter(pk=computed.c5.pk).update(patient_control_number="=HYPERLINK(1)")
    response = login(manager).get(reverse("kpis:claims"), {"kpi": "ar_total", **MARCH, "format": "csv"})
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert response["Content-Disposition"] == 'attachment; filename="kpi-ar_total-2026-03-31.csv"'
    assert rows[0] == [
        "PCN",
        "Patient account",
        "Payer",
        "Status",
        "Date of service",
        "Charge",
        "Balance",
        "Counts for",
    ]
    assert sorted(row[7] for row in rows[1:]) == ["25.00", "400.00", "400.00", "600.00"]
    assert "'=HYPERLINK(1)" in [row[0] for row in rows[1:]]
    assert AuditEvent.objects.filter(action="export", practice=computed.practice).count() == 1


def test_csv_cells_that_start_a_formula_are_neutralised():
    assert [csv_cell(v) for v in ("=1+2", "+1", "-2", "@SUM(A1)", "\tx", "plain", None)] == [
        "'=1+2",
        "'+1",
        "'-2",
        "'@SUM(A1)",
        "'\tx",
        "plain",
        "",
    ]


def test_a_manager_queues_a_recompute(practice, manager, django_capture_on_commit_callbacks):
    with (
        mock.patch("rcm.outbox._publish") as publish,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = login(manager).post(reverse("kpis:recompute"))
    assert response.status_code == 302
    assert publish.call_count == 1
    row = publish.call_args.args[0]
    assert (row.task, row.args[0]) == (tasks.compute_practice.name, practice.pk)


def test_an_unknown_kpi_is_404(manager):
    assert login(manager).get(reverse("kpis:claims"), {"kpi": "nope"}).status_code == 404
