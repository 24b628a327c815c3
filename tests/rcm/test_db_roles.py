"""The app's runtime database role is not the owner (issue #16, item 7, PostgreSQL): it reads and writes
rows, and cannot TRUNCATE, disable the append-only triggers, set session_replication_role, or UPDATE or
DELETE append-only rows."""

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="database roles are PostgreSQL's"),
    pytest.mark.django_db(transaction=True),
]

PASSWORD = "app-role-test-password"  # noqa: S105 - a throwaway role of the test database


@pytest.fixture
def app_role(monkeypatch):
    """The role, named after the test database (roles are cluster-wide: parallel runs do not meet), and a
    connection as it; dropped afterwards."""
    database = connection.settings_dict["NAME"]
    role = f"rcm_app_{database}"[:63]
    monkeypatch.setenv("RCM_APP_DB_PASSWORD", PASSWORD)
    call_command("db_roles", "--role", role)
    call_command("db_roles", "--role", role)  # idempotent
    settings = connection.settings_dict
    app = psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        dbname=database,
        user=role,
        password=PASSWORD,
        autocommit=True,
    )
    yield app
    app.close()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP OWNED BY "{role}"')
        cursor.execute(f'DROP ROLE "{role}"')


def _refused(app, statement: str) -> str:
    with pytest.raises(psycopg.Error) as caught:
        app.execute(statement)
    return caught.value.sqlstate


def test_the_app_role_writes_rows_and_appends_to_the_audit_log(app_role):
    app_role.execute(
        "INSERT INTO rcm_auditevent (at, username, action, object_type, object_id, changes, source) "
        "VALUES (now(), 'role-test', 'view', 'x', '1', '{}', 'test')"
    )
    assert app_role.execute("SELECT count(*) FROM rcm_auditevent").fetchone() == (1,)
    # Ordinary tables: rows are read, changed and deleted (the privilege is checked even for no row).
    assert app_role.execute("SELECT count(*) FROM rcm_practice").fetchone() == (0,)
    app_role.execute("UPDATE rcm_practice SET name = name WHERE false")
    app_role.execute("DELETE FROM rcm_practice WHERE false")


REFUSED = [
    "TRUNCATE rcm_auditevent",
    "TRUNCATE claims_transaction",
    "ALTER TABLE claims_transaction DISABLE TRIGGER ALL",
    "ALTER TABLE rcm_auditevent DISABLE TRIGGER rcm_auditevent_append_only",
    "DROP TRIGGER rcm_auditevent_append_only ON rcm_auditevent",
    "SET session_replication_role = replica",
    "UPDATE rcm_auditevent SET username = 'x'",
    "DELETE FROM claims_transaction",
    "DELETE FROM claims_claimstatuschange",
    "CREATE TABLE rcm_sneaky (id int)",
]


def test_the_app_role_cannot_get_around_append_only_tables(app_role):
    # 42501: insufficient privilege ("permission denied", "must be owner of table").
    assert {statement: _refused(app_role, statement) for statement in REFUSED} == dict.fromkeys(
        REFUSED, "42501"
    )


def test_db_roles_refuses_to_run_as_the_role_itself(settings):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (owner,) = cursor.fetchone()
    with pytest.raises(CommandError, match="run db_roles as the owner of the tables"):
        call_command("db_roles", "--role", owner)
