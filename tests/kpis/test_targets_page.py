"""The targets page: a manager sets the practice's target bands; bad bands are refused with a message
naming the problem and nothing changes; each change is an audit event; the dashboard colours by them."""

from decimal import Decimal as D

import pytest
from django.urls import reverse

from kpis.forms import targeted_definitions
from kpis.models import KpiTarget
from kpis.services import kpi_targets_set
from rcm.models import AuditEvent
from rcm.roles import Role
from tests.conftest import login


def blank() -> dict:
    return {f"{d.slug}-{part}": "" for d in targeted_definitions() for part in ("good", "warn")}


def test_the_page_lists_every_kpi_with_a_target_and_its_default(manager):
    response = login(manager).get(reverse("kpis:targets"))
    page = response.content.decode()
    assert response.status_code == 200
    assert [row["definition"].slug for row in response.context["form"].rows] == [
        d.slug for d in targeted_definitions()
    ]
    assert "≥ 95%, warning to 90%" in page  # clean claim rate's default
    assert "≤ 35 days, warning to 45 days" in page  # days in A/R's default


def test_a_manager_sets_targets_and_each_change_is_audited(practice, manager):
    data = {
        **blank(),
        "clean_claim_rate-good": "97",
        "clean_claim_rate-warn": "93.5",
        "days_in_ar-good": "30",
    }
    response = login(manager).post(reverse("kpis:targets"), data, follow=True)
    assert "Saved 2 targets." in response.content.decode()
    assert sorted(KpiTarget.objects.values_list("kpi", "good", "warn")) == [
        ("clean_claim_rate", D("97.00"), D("93.50")),
        ("days_in_ar", D("30.00"), None),
    ]
    events = AuditEvent.objects.filter(object_type="kpis.kpitarget", action="create", user=manager)
    assert events.count() == 2
    # The form shows the saved values; posting them again changes nothing and writes no event.
    page = response.content.decode()
    assert 'name="clean_claim_rate-good" value="97.00"' in page
    again = login(manager).post(reverse("kpis:targets"), {**data}, follow=True)
    assert "No change." in again.content.decode()
    assert AuditEvent.objects.filter(object_type="kpis.kpitarget").count() == 2


def test_clearing_a_target_goes_back_to_the_default(practice, manager):
    kpi_targets_set(practice=practice, bands={"clean_claim_rate": (D("97"), D("93"))})
    login(manager).post(reverse("kpis:targets"), blank())
    assert not KpiTarget.objects.exists()
    assert AuditEvent.objects.filter(object_type="kpis.kpitarget", action="delete").count() == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"clean_claim_rate-good": "90", "clean_claim_rate-warn": "95"},
            "the warning line (95) must be at or below the target (90)",
        ),
        (
            {"days_in_ar-good": "40", "days_in_ar-warn": "35"},
            "the warning line (35) must be at or above the target (40)",
        ),
        ({"clean_claim_rate-good": "ninety"}, "Enter a number."),
        ({"clean_claim_rate-good": "120"}, "A percentage is between 0 and 100."),
        ({"days_in_ar-good": "-1"}, "Ensure this value is greater than or equal to 0."),
        ({"days_in_ar-warn": "45"}, "Give a target before a warning line."),
    ],
)
def test_bad_bands_are_refused_with_a_clear_message_and_nothing_changes(practice, manager, fields, message):
    kpi_targets_set(practice=practice, bands={"charge_lag": (D("1"), D("3"))})
    before = AuditEvent.objects.filter(object_type="kpis.kpitarget").count()
    data = {
        **blank(),
        "charge_lag-good": "1",
        "charge_lag-warn": "3",
        "net_collection_rate-good": "97",
        **fields,
    }
    response = login(manager).post(reverse("kpis:targets"), data)
    page = response.content.decode()
    assert response.status_code == 400
    assert "Nothing was saved" in page and message in page
    assert list(KpiTarget.objects.values_list("kpi", "good", "warn")) == [
        ("charge_lag", D("1.00"), D("3.00"))
    ]
    assert AuditEvent.objects.filter(object_type="kpis.kpitarget").count() == before


@pytest.mark.parametrize(("role", "status"), [(Role.ADMIN, 200), (Role.BILLER, 403), (Role.COLLECTIONS, 403)])
def test_only_managers_and_admins_edit_targets(persona, role, status):
    assert persona(role).get(reverse("kpis:targets")).status_code == status
    assert persona(role, f"{role}-2").post(reverse("kpis:targets"), blank()).status_code in (status, 302)
