"""The KPIs API: the dashboard's numbers with the same filters, monthly series, and the claims behind them."""

import pytest
import yaml

from kpis.services import kpi_snapshots_compute
from rcm.roles import Role
from tests.conftest import login
from tests.kpis.dataset import MARCH_END, MARCH_START, HandWorked
from tests.kpis.test_kpi_computation import EXPECTED_MARCH

MARCH = {"start": "2026-03-01", "end": "2026-03-31"}


@pytest.fixture
def computed(practice):
    data = HandWorked(practice)
    kpi_snapshots_compute(practice=practice, start=MARCH_START, end=MARCH_END)
    return data


def test_it_lists_every_kpi_with_the_hand_worked_values(computed, manager):
    body = login(manager).get("/api/kpis/", MARCH).json()
    values = {row["slug"]: row["value"] for row in body["results"]}
    assert {slug: values[slug] for slug in EXPECTED_MARCH} == {
        slug: f"{value:.2f}" for slug, value in EXPECTED_MARCH.items()
    }
    assert (body["start"], body["end"], body["last_computed_day"]) == (
        "2026-03-01",
        "2026-03-31",
        "2026-03-31",
    )
    cost = next(row for row in body["results"] if row["slug"] == "cost_to_collect")
    assert (cost["kind"], cost["numerator"], cost["denominator"], cost["needs"], cost["missing"]) == (
        "monthly",
        "12.45",
        "415.00",
        "",
        "",
    )
    assert (cost["previous"], cost["band"]) == (None, "ok")  # February: no cost entered


def test_one_kpi_by_payer_and_its_claims(computed, manager):
    client = login(manager)
    scope = f"payer:{computed.acme.pk}"
    one = client.get("/api/kpis/initial_denial_rate/", {**MARCH, "scope": scope}).json()
    assert (one["value"], one["numerator"], one["denominator"], one["band"]) == (
        "33.30",
        "1.00",
        "3.00",
        "bad",
    )
    claims = client.get(
        "/api/kpis/initial_denial_rate/claims/", {**MARCH, "scope": scope, "part": "numerator"}
    ).json()
    assert [row["patient_control_number"] for row in claims["results"]] == [
        computed.c2.patient_control_number
    ]
    assert (claims["count"], claims["results"][0]["counts_for"]) == (1, "1.00")


def test_a_series_has_a_point_per_month(computed, manager):
    points = login(manager).get("/api/kpis/clean_claim_rate/series/", MARCH).json()
    assert len(points) == 12
    assert points[-1] == {"month": "2026-03-01", "computed": True, "value": "60.00"}
    assert points[-2] == {"month": "2026-02-01", "computed": False, "value": None}


def test_bad_filters_and_unknown_kpis_are_refused_in_the_error_format(computed, manager, other_practice):
    client = login(manager)
    response = client.get("/api/kpis/", {"start": "2026-04-01", "end": "2026-03-01"})
    assert (response.status_code, response.json()["error"]["fields"]) == (
        400,
        {"start": ["The range starts after it ends."]},
    )
    other = HandWorked(other_practice)
    response = client.get("/api/kpis/", {"scope": f"payer:{other.acme.pk}"})
    assert (response.status_code, response.json()["error"]["fields"]) == (
        400,
        {"scope": ["No such payer or provider in this practice."]},
    )
    assert client.get("/api/kpis/nope/").status_code == 404
    assert client.get("/api/kpis/nope/claims/").status_code == 404


@pytest.mark.parametrize(
    ("role", "status"), [(Role.MANAGER, 200), (Role.ADMIN, 200), (Role.BILLER, 403), (Role.COLLECTIONS, 403)]
)
def test_only_managers_and_admins_read_kpis(persona, role, status):
    assert persona(role).get("/api/kpis/").status_code == status


def test_the_schema_lists_the_kpi_endpoints(manager):
    schema = yaml.safe_load(login(manager).get("/api/schema/").content)
    assert {"/api/kpis/", "/api/kpis/{slug}/", "/api/kpis/{slug}/series/", "/api/kpis/{slug}/claims/"} <= set(
        schema["paths"]
    )
