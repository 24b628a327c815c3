"""Saved views: a manager names the dashboard's filters, opens them again, deletes them; a duplicate or
bad name or bad filters are refused with a clear message and change nothing; each user sees only theirs."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from kpis.models import KpiSavedView
from kpis.services import kpi_saved_view_create, kpi_saved_view_delete
from rcm.roles import Role
from tests.conftest import login
from tests.rcm.factories import PayerFactory

MARCH = {"start": "2026-03-01", "end": "2026-03-31"}


@pytest.fixture
def acme(practice):
    return PayerFactory(practice=practice, name="Acme Health")


def test_saving_the_filters_stores_them_and_lists_them_on_the_dashboard(manager, acme):
    client = login(manager)
    response = client.post(
        reverse("kpis:saved_view_create"), {"name": "Acme  in March", **MARCH, "scope": f"payer:{acme.pk}"}
    )
    query = f"start=2026-03-01&end=2026-03-31&scope=payer%3A{acme.pk}"
    assert response.status_code == 302
    assert response["Location"] == f"/kpis/?{query}"
    saved = KpiSavedView.objects.get()
    assert (saved.practice, saved.user, saved.name, saved.start, saved.end, saved.scope) == (
        manager.memberships.get().practice,
        manager,
        "Acme in March",
        datetime.date(2026, 3, 1),
        datetime.date(2026, 3, 31),
        f"payer:{acme.pk}",
    )
    page = client.get(response["Location"]).content.decode()
    assert "Saved the view “Acme in March”." in page
    assert f'<a href="/kpis/?{query.replace("&", "&amp;")}">Acme in March</a>' in page


def test_a_duplicate_name_is_refused_with_a_clear_message_and_nothing_changes(manager):
    client = login(manager)
    client.post(reverse("kpis:saved_view_create"), {"name": "Quarter", **MARCH})
    response = client.post(
        reverse("kpis:saved_view_create"),
        {"name": "quarter", "start": "2026-01-01", "end": "2026-03-31"},
        follow=True,
    )
    assert "You already have a saved view named “quarter”: choose another name." in response.content.decode()
    assert list(KpiSavedView.objects.values_list("name", "start")) == [("Quarter", datetime.date(2026, 3, 1))]


def test_the_same_name_is_fine_for_another_user(manager, persona):
    login(manager).post(reverse("kpis:saved_view_create"), {"name": "Quarter", **MARCH})
    persona(Role.ADMIN).post(reverse("kpis:saved_view_create"), {"name": "Quarter", **MARCH})
    assert KpiSavedView.objects.filter(name="Quarter").count() == 2


@pytest.mark.parametrize(
    ("name", "start", "end", "scope", "problem"),
    [
        ("   ", "2026-03-01", "2026-03-31", "", "Give the view a name."),
        ("x" * 61, "2026-03-01", "2026-03-31", "", "Keep the name to 60 characters."),
        ("Backwards", "2026-03-31", "2026-03-01", "", "The range starts after it ends."),
        ("Too long", "2020-01-01", "2026-03-31", "", "Choose a range of at most three years."),
        ("Strange", "2026-03-01", "2026-03-31", "payer:999999", "Select a valid choice."),
    ],
)
def test_bad_names_and_filters_are_refused_by_the_service(
    practice, manager, name, start, end, scope, problem
):
    with pytest.raises(ValidationError) as refused:
        kpi_saved_view_create(
            practice=practice,
            user=manager,
            name=name,
            start=datetime.date.fromisoformat(start),
            end=datetime.date.fromisoformat(end),
            scope=scope,
        )
    assert problem in " ".join(refused.value.messages)
    assert not KpiSavedView.objects.exists()


def test_a_user_deletes_their_own_view_only(practice, manager, persona):
    mine = kpi_saved_view_create(
        practice=practice,
        user=manager,
        name="Mine",
        start=datetime.date(2026, 3, 1),
        end=datetime.date(2026, 3, 31),
    )
    admin = persona(Role.ADMIN)
    assert admin.post(reverse("kpis:saved_view_delete", args=[mine.pk])).status_code == 404
    assert KpiSavedView.objects.filter(pk=mine.pk).exists()
    response = login(manager).post(reverse("kpis:saved_view_delete", args=[mine.pk]))
    assert response.status_code == 302
    assert not KpiSavedView.objects.exists()


def test_another_practices_view_is_not_found(practice, other_practice, manager, outsider):
    theirs = kpi_saved_view_create(
        practice=other_practice,
        user=outsider,
        name="Theirs",
        start=datetime.date(2026, 3, 1),
        end=datetime.date(2026, 3, 31),
    )
    with pytest.raises(KpiSavedView.DoesNotExist):
        kpi_saved_view_delete(practice=practice, user=manager, view_id=theirs.pk)
    assert KpiSavedView.objects.filter(pk=theirs.pk).exists()


def test_billers_cannot_save_views(persona):
    assert (
        persona(Role.BILLER).post(reverse("kpis:saved_view_create"), {"name": "x", **MARCH}).status_code
        == 403
    )
    assert not KpiSavedView.objects.exists()
