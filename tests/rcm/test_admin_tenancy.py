"""The Django admin inside tenancy (issue 16 item 1): a practice administrator on staff (even a superuser, as
the demo's ``admin``) reaches only their practices, through every list, form, choice and filter; the named
platform operators reach everything; admin reads of practice rows and admin changes are audited."""

import datetime
import re

import pytest
from django.contrib.admin.sites import site
from django_celery_beat.models import IntervalSchedule

from rcm.models import AuditEvent, Membership, Patient, Payer, PayerContract
from tests.conftest import login
from tests.rcm.factories import MembershipFactory, PatientFactory, PayerFactory, UserFactory


@pytest.fixture
def staff_admin(admin_user):
    """Like the demo ``admin``: a member of one practice, on staff and superuser, but no platform operator."""
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    return admin_user


@pytest.fixture
def theirs(other_practice):
    patient = PatientFactory(practice=other_practice, last_name="Elsewhere")
    payer = PayerFactory(practice=other_practice, name="Lakeview Payer")
    contract = PayerContract.objects.create(
        practice=other_practice, payer=payer, name="Lakeview 2026", effective_date=datetime.date(2026, 1, 1)
    )
    member = MembershipFactory(practice=other_practice, role="biller", user=UserFactory(username="lena")).user
    return {"patient": patient, "payer": payer, "contract": contract, "user": member}


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_another_practices_rows_are_not_found_in_the_admin(staff_admin, theirs):
    client = login(staff_admin)
    for url in (
        f"/admin/rcm/patient/{theirs['patient'].pk}/change/",
        f"/admin/rcm/payer/{theirs['payer'].pk}/change/",
        f"/admin/rcm/payercontract/{theirs['contract'].pk}/change/",
        f"/admin/rcm/user/{theirs['user'].pk}/change/",
    ):
        response = client.get(url)
        assert response.status_code == 302 and response.url == "/admin/", url
    assert not AuditEvent.objects.filter(
        source="admin", action="view", object_id=str(theirs["patient"].pk)
    ).exists()


def test_the_practice_filter_trick_lists_nothing_and_offers_only_own_practices(staff_admin, practice, theirs):
    ours = PatientFactory(practice=practice, last_name="Ourown")
    client = login(staff_admin)
    response = client.get("/admin/rcm/patient/", {"practice__id__exact": theirs["patient"].practice_id})
    assert list(response.context["cl"].result_list) == []
    assert "Elsewhere" not in _text(response)
    listing = client.get("/admin/rcm/patient/")
    assert [p.pk for p in listing.context["cl"].result_list] == [ours.pk]
    assert "Lakeview Pediatrics" not in _text(listing)  # not even as a filter choice


def test_another_practices_contract_and_membership_cannot_be_changed(staff_admin, theirs, other_practice):
    client = login(staff_admin)
    contract = theirs["contract"]
    client.post(
        f"/admin/rcm/payercontract/{contract.pk}/change/",
        {"name": "Hijacked", "payer": theirs["payer"].pk, "practice": other_practice.pk},
    )
    contract.refresh_from_db()
    assert contract.name == "Lakeview 2026"
    membership = Membership.objects.get(user=theirs["user"])
    response = client.post(f"/admin/rcm/user/{theirs['user'].pk}/change/", {"username": "lena"})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert (membership.role, membership.is_active) == ("biller", True)


def test_form_choices_offer_only_own_practice_rows(staff_admin, practice, theirs):
    ours = PayerFactory(practice=practice, name="Riverside Payer")
    form = login(staff_admin).get("/admin/rcm/payercontract/add/").context["adminform"].form
    assert list(form.fields["payer"].queryset) == [ours]
    assert list(form.fields["practice"].queryset) == [practice]


def test_opening_a_patient_and_the_patient_list_in_the_admin_is_audited(staff_admin, practice):
    patient = PatientFactory(practice=practice)
    client = login(staff_admin)
    assert client.get(f"/admin/rcm/patient/{patient.pk}/change/").status_code == 200
    assert client.get("/admin/rcm/patient/").status_code == 200
    events = AuditEvent.objects.filter(action="view", source="admin").order_by("id")
    assert [(e.object_type, e.object_id, e.changes, e.practice_id, e.user_id) for e in events] == [
        ("rcm.patient", str(patient.pk), {"admin": "change form"}, practice.pk, staff_admin.pk),
        ("rcm.patient", "", {"admin": "list", "ids": [patient.pk]}, practice.pk, staff_admin.pk),
    ]


def test_an_admin_change_is_audited_with_source_admin(staff_admin, practice):
    payer = PayerFactory(practice=practice, name="Old Name")
    response = login(staff_admin).post(
        f"/admin/rcm/payer/{payer.pk}/change/",
        {
            "practice": practice.pk,
            "name": "New Name",
            "payer_id": payer.payer_id,
            "kind": "commercial",
            "no_response_days": 30,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="update", object_type="rcm.payer")
    assert (event.source, event.user_id, event.changes) == (
        "admin",
        staff_admin.pk,
        {"name": ["Old Name", "New Name"]},
    )


def test_a_user_change_in_the_admin_is_audited(staff_admin, biller):
    response = login(staff_admin).post(
        f"/admin/rcm/user/{biller.pk}/change/",
        {
            "username": "bill",
            "first_name": "Billy",
            "last_name": biller.last_name,
            "email": "",
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    biller.refresh_from_db()
    assert biller.first_name == "Billy" and not biller.is_superuser
    event = AuditEvent.objects.get(action="update", object_type="rcm.user", source="admin")
    assert event.object_id == str(biller.pk) and "First name" in event.changes["admin"]


def test_staff_cannot_grant_staff_or_superuser(staff_admin, biller):
    form = login(staff_admin).get(f"/admin/rcm/user/{biller.pk}/change/").context["adminform"].form
    assert "is_superuser" not in form.fields and "is_staff" not in form.fields


def test_models_of_no_practice_are_for_platform_operators_only(staff_admin):
    IntervalSchedule.objects.create(every=1, period="days")
    assert login(staff_admin).get("/admin/django_celery_beat/intervalschedule/").status_code == 403


def test_a_named_platform_operator_reaches_every_practice(settings, theirs, db):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    settings.RCM_PLATFORM_OPERATORS = ["root"]
    client = login(root)
    assert client.get(f"/admin/rcm/patient/{theirs['patient'].pk}/change/").status_code == 200
    assert client.get("/admin/django_celery_beat/intervalschedule/").status_code == 200


def test_every_registered_admin_is_tenant_scoped():
    from rcm.admin_site import TenantScopedAdmin, TenantScopedInline

    for model, model_admin in site._registry.items():
        assert isinstance(model_admin, TenantScopedAdmin), model
        for inline in model_admin.inlines:
            assert issubclass(inline, TenantScopedInline), (model, inline)


def test_a_patient_of_another_practice_cannot_be_picked_as_guarantor(staff_admin, practice, theirs):
    patient = PatientFactory(practice=practice)
    form = login(staff_admin).get(f"/admin/rcm/patient/{patient.pk}/change/").context["adminform"].form
    assert not form.fields["guarantor"].queryset.filter(pk=theirs["patient"].pk).exists()
    assert Patient.objects.filter(pk=theirs["patient"].pk).exists()
    assert Payer.objects.count() == 1


def test_a_user_who_also_works_elsewhere_cannot_be_changed_from_one_practice(
    staff_admin, practice, other_practice
):
    shared = MembershipFactory(practice=practice, role="biller", user=UserFactory(username="sam")).user
    MembershipFactory(practice=other_practice, role="admin", user=shared)
    client = login(staff_admin)
    page = client.get(f"/admin/rcm/user/{shared.pk}/change/")
    assert page.status_code == 200 and "username" not in page.context["adminform"].form.fields  # view only
    response = client.post(
        f"/admin/rcm/user/{shared.pk}/password/",
        {"password1": "a-new-long-password", "password2": "a-new-long-password"},
    )
    assert response.status_code == 403
    shared.refresh_from_db()
    assert shared.check_password("correct-horse-battery")


def test_practice_administrators_add_people_on_the_team_page_not_in_the_admin(staff_admin):
    assert login(staff_admin).get("/admin/rcm/user/add/").status_code == 403
