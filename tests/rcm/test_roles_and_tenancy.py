import pytest

from rcm.models import AuditEvent
from rcm.navigation import NAV_ITEMS
from rcm.roles import PERMISSIONS, Role, role_can
from rcm.services import api_token_issue
from tests.conftest import login


def _nav_labels(response):
    return [item["label"] for item in response.context["nav_items"]]


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_each_role_sees_only_the_menu_items_it_may_use(persona, role):
    client = persona(role)
    response = client.get("/")
    assert response.status_code == 200
    expected = [label for label, _url, perm in NAV_ITEMS if perm is None or role_can(role, perm)]
    assert _nav_labels(response) == expected
    assert response.templates[0].name == f"rcm/home_{role}.html"


@pytest.mark.parametrize(
    ("role", "status"), [("biller", 403), ("collections", 403), ("manager", 200), ("admin", 200)]
)
def test_audit_log_page_is_refused_to_roles_without_the_permission(persona, role, status):
    assert persona(role).get("/audit/").status_code == status


def test_unknown_permission_is_a_programming_error():
    with pytest.raises(KeyError, match="Unknown permission"):
        role_can("biller", "claims.teleport")


def test_every_permission_names_only_known_roles():
    known = {r.value for r in Role}
    for permission, roles in PERMISSIONS.items():
        assert roles <= known, permission


def test_signed_out_visitor_is_sent_to_login(client, db):
    response = client.get("/audit/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_user_without_a_practice_is_refused(db, django_user_model):
    user = django_user_model.objects.create_user("loner", password="x-very-long-password")
    assert login(user).get("/").status_code == 403


def test_practice_switcher_changes_the_practice_in_force(manager, other_practice):
    from rcm.models import Membership

    Membership.objects.create(user=manager, practice=other_practice, role=Role.BILLER)
    client = login(manager)
    # With no choice made yet, the practice joined first is in force: Riverside, where mona manages.
    home = client.get("/")
    assert home.context["current_practice"].slug == "riverside"
    assert home.templates[0].name == "rcm/home_manager.html"
    assert client.get("/audit/").status_code == 200
    response = client.post("/practice/switch/", {"practice": "lakeview"})
    assert response.status_code == 302
    home = client.get("/")
    assert home.context["current_practice"].slug == "lakeview"
    assert home.templates[0].name == "rcm/home_biller.html"
    # the role follows the practice: as Lakeview's biller she may not read its audit log
    assert client.get("/audit/").status_code == 403


def test_practice_switcher_refuses_a_practice_the_user_is_not_in(manager, other_practice):
    client = login(manager)
    client.post("/practice/switch/", {"practice": "lakeview"})
    assert client.get("/").context["current_practice"].slug == "riverside"


def test_api_object_of_another_practice_is_404(manager, outsider, practice, other_practice):
    own = AuditEvent.objects.create(practice=practice, action="view", object_type="x", object_id="1")
    theirs = AuditEvent.objects.create(practice=other_practice, action="view", object_type="x", object_id="2")
    client = login(manager)
    assert client.get(f"/api/audit-events/{own.pk}/").status_code == 200
    response = client.get(f"/api/audit-events/{theirs.pk}/")
    assert response.status_code == 404
    assert response.json() == {
        "error": {"status": 404, "code": "not_found", "message": "Not found.", "fields": {}}
    }
    listed = [row["id"] for row in client.get("/api/audit-events/?page_size=500").json()["results"]]
    assert theirs.pk not in listed and own.pk in listed


def test_api_practice_header_for_a_practice_the_user_is_not_in_is_refused(manager, other_practice):
    key = api_token_issue(user=manager).key
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}", HTTP_X_PRACTICE="lakeview")
    response = client.get("/api/me/")
    assert response.status_code == 403
    assert response.json()["error"]["message"] == "You are not a member of this practice."


def test_api_role_without_permission_is_403(biller):
    response = login(biller).get("/api/audit-events/")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
