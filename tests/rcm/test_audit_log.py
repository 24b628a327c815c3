import pytest
from django.contrib.admin.sites import site
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory

from rcm.append_only import AppendOnlyError
from rcm.audit import audit_context
from rcm.models import AuditEvent, Membership, Practice
from tests.conftest import login


def test_creating_and_changing_a_record_writes_who_what_and_which_fields(manager, practice):
    with audit_context(user=manager, ip_address="10.1.2.3", source="command"):
        practice.phone = "555-0100"
        practice.save()
    event = AuditEvent.objects.filter(object_type="rcm.practice", object_id=str(practice.pk)).latest("id")
    assert event.action == "update"
    assert event.user == manager and event.username == "mona"
    assert event.practice_id == practice.pk
    assert event.changes == {"phone": ["", "555-0100"]}
    assert event.ip_address == "10.1.2.3"
    assert event.source == "command"


def test_saving_without_changes_writes_nothing(practice):
    before = AuditEvent.objects.count()
    Practice.objects.get(pk=practice.pk).save()
    assert AuditEvent.objects.count() == before


def test_create_is_recorded_with_the_initial_values(manager, other_practice):
    with audit_context(user=manager, source="web"):
        membership = Membership.objects.create(user=manager, practice=other_practice, role="biller")
    event = AuditEvent.objects.get(object_type="rcm.membership", object_id=str(membership.pk))
    assert event.action == "create"
    assert event.changes["role"] == [None, "biller"]
    assert event.practice_id == other_practice.pk


def test_sign_in_and_failed_sign_in_are_recorded(client, manager):
    client.post("/login/", {"username": "mona", "password": "wrong-password-here"})
    failed = AuditEvent.objects.filter(action="login_failed").get()
    assert failed.changes == {"username": "mona"}
    client.post("/login/", {"username": "mona", "password": "correct-horse-battery"})
    assert AuditEvent.objects.filter(action="login", user=manager).count() == 1


def test_audit_rows_cannot_be_changed_or_deleted_through_the_model(practice):
    event = AuditEvent.objects.create(practice=practice, action="view", object_type="x", object_id="1")
    event.action = "update"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="update")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    event.refresh_from_db()
    assert event.action == "view"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="database trigger exists on PostgreSQL")
def test_postgresql_refuses_raw_update_and_delete_of_audit_rows(practice):
    event = AuditEvent.objects.create(practice=practice, action="view", object_type="x", object_id="1")
    for sql in (
        "UPDATE rcm_auditevent SET action = 'update' WHERE id = %s",
        "DELETE FROM rcm_auditevent WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [event.pk])
    event.refresh_from_db()
    assert event.action == "view"


def test_admin_offers_no_add_change_or_delete_of_audit_rows(manager):
    request = RequestFactory().get("/admin/")
    request.user = manager
    model_admin = site._registry[AuditEvent]
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_api_audit_endpoint_is_read_only(manager, practice):
    event = AuditEvent.objects.create(practice=practice, action="view", object_type="x", object_id="1")
    client = login(manager)
    assert client.delete(f"/api/audit-events/{event.pk}/").status_code == 405
    assert (
        client.put(f"/api/audit-events/{event.pk}/", {}, content_type="application/json").status_code == 405
    )
    assert client.post("/api/audit-events/", {}, content_type="application/json").status_code == 405
    assert AuditEvent.objects.filter(pk=event.pk, action="view").exists()


def test_manager_filters_and_exports_the_audit_log(manager, biller, practice, other_practice):
    AuditEvent.objects.create(
        practice=practice, username="bill", action="view", object_type="claims.claim", object_id="7"
    )
    AuditEvent.objects.create(
        practice=practice, username="bill", action="update", object_type="rcm.patient", object_id="3"
    )
    AuditEvent.objects.create(
        practice=other_practice, username="bill", action="view", object_type="claims.claim", object_id="9"
    )
    client = login(manager)
    page = client.get("/audit/", {"action": "view", "object_type": "claims.claim"})
    assert [(e.object_type, e.object_id) for e in page.context["page"]] == [("claims.claim", "7")]
    export = client.get("/audit/", {"user": "bill", "format": "csv"})
    rows = export.content.decode().strip().splitlines()
    assert rows[0] == "When,User,Action,Object,Object id,Changes,IP address,Source"
    assert len(rows) == 3  # header + this practice's two events by bill, none from the other practice
    assert AuditEvent.objects.filter(action="export", practice=practice, user=manager).count() == 1
