"""The practice's team page (issue 16 item 1: day-to-day administration without the Django admin): add a
person, change a role, deactivate; administrators only, own practice only, each change audited."""

import pytest

from rcm.models import AuditEvent, Membership, User
from rcm.roles import Role
from tests.conftest import login
from tests.rcm.factories import MembershipFactory, UserFactory


def _messages(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.mark.parametrize("role", [Role.BILLER, Role.COLLECTIONS, Role.MANAGER])
def test_only_administrators_reach_the_team_page(persona, role):
    assert persona(role).get("/settings/team/").status_code == 403


def test_an_admin_adds_a_new_user_with_a_role(admin_user, practice):
    response = login(admin_user).post(
        "/settings/team/",
        {
            "action": "add",
            "username": "nina",
            "first_name": "Nina",
            "last_name": "Ng",
            "role": "collections",
            "password": "a-long-first-passphrase",
        },
        follow=True,
    )
    assert _messages(response) == ["nina joined as Collections specialist."]
    nina = User.objects.get(username="nina")
    assert nina.check_password("a-long-first-passphrase") and not nina.is_staff
    assert Membership.objects.get(user=nina).practice == practice
    created = AuditEvent.objects.get(object_type="rcm.user", object_id=str(nina.pk), action="create")
    assert created.changes == {"username": [None, "nina"], "added_by": "adam"}
    assert AuditEvent.objects.get(object_type="rcm.membership", action="create", user=admin_user).changes[
        "role"
    ] == [None, "collections"]


def test_a_weak_first_password_is_refused_and_nothing_is_saved(admin_user):
    response = login(admin_user).post(
        "/settings/team/", {"action": "add", "username": "nina", "role": "biller", "password": "short"}
    )
    assert response.status_code == 400
    assert _messages(response)[0].startswith("Password: This password is too short.")
    assert not User.objects.filter(username="nina").exists()


def test_an_existing_user_joins_a_second_practice(admin_user, outsider, practice):
    login(admin_user).post("/settings/team/", {"action": "add", "username": "otto", "role": "biller"})
    assert Membership.objects.get(user=outsider, practice=practice).role == "biller"


def test_an_admin_changes_a_role_and_deactivates_a_member(admin_user, biller, practice):
    client = login(admin_user)
    membership = Membership.objects.get(user=biller, practice=practice)
    client.post("/settings/team/", {"action": "role", "membership": membership.pk, "role": "manager"})
    client.post("/settings/team/", {"action": "deactivate", "membership": membership.pk})
    membership.refresh_from_db()
    assert (membership.role, membership.is_active) == ("manager", False)
    updates = AuditEvent.objects.filter(
        object_type="rcm.membership", object_id=str(membership.pk), action="update"
    )
    assert [e.changes for e in updates.order_by("id")] == [
        {"role": ["biller", "manager"]},
        {"is_active": [True, False]},
    ]
    assert login(biller).get("/claims/").status_code == 403  # no active membership any more


def test_the_only_administrator_cannot_demote_or_deactivate_themselves(admin_user, practice):
    client = login(admin_user)
    membership = Membership.objects.get(user=admin_user, practice=practice)
    response = client.post(
        "/settings/team/", {"action": "deactivate", "membership": membership.pk}, follow=True
    )
    assert _messages(response) == ["adam is the practice's only administrator: they cannot be deactivated."]
    client.post("/settings/team/", {"action": "role", "membership": membership.pk, "role": "biller"})
    membership.refresh_from_db()
    assert (membership.role, membership.is_active) == ("admin", True)


def test_another_practices_membership_is_a_404(admin_user, other_practice):
    theirs = MembershipFactory(practice=other_practice, role="biller", user=UserFactory(username="lena"))
    response = login(admin_user).post("/settings/team/", {"action": "deactivate", "membership": theirs.pk})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_active


def test_the_team_page_lists_only_this_practices_members(admin_user, biller, outsider):
    response = login(admin_user).get("/settings/team/")
    assert [m.user.username for m in response.context["members"]] == ["adam", "bill"]


def test_an_admin_sets_the_practices_sign_in_and_data_policy(admin_user, practice):
    client = login(admin_user)
    saved = client.post(
        "/settings/team/",
        {
            "action": "policy",
            "idle_timeout_minutes": "30",
            "require_two_factor": "on",
            "viewers_download_batches": "on",
        },
        follow=True,
    )
    assert _messages(saved) == ["The practice's sign-in and data policy is saved."]
    practice.refresh_from_db()
    assert (
        practice.idle_timeout_minutes,
        practice.require_two_factor,
        practice.viewers_download_batches,
    ) == (30, True, True)
    event = AuditEvent.objects.filter(object_type="rcm.practice", action="update").latest("id")
    assert event.changes == {
        "idle_timeout_minutes": [15, 30],
        "require_two_factor": [False, True],
        "viewers_download_batches": [False, True],
    }
    refused = client.post("/settings/team/", {"action": "policy", "idle_timeout_minutes": "0"}, follow=True)
    assert _messages(refused) == ["Idle timeout minutes: Ensure this value is greater than or equal to 1."]
    practice.refresh_from_db()
    assert (practice.idle_timeout_minutes, practice.require_two_factor) == (30, True)
