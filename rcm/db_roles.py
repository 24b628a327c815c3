"""The database role the app runs as: not the owner of the tables (PostgreSQL).

Migrations run as the owner; web, workers and beat connect as this role, which may read and write rows
and nothing else. So the app cannot ``TRUNCATE`` a table, drop or disable the triggers that keep the ledger,
the claim history, consents and the audit log append-only (only an owner may ``ALTER TABLE``), or set
``session_replication_role`` (a superuser's setting) to skip them; on the append-only tables it may not even
``UPDATE`` or ``DELETE`` (the privilege is not granted, beside the trigger). ``db_roles`` applies this and is
run after every ``migrate`` (new tables get the default grants; the append-only ones lose theirs again)."""

from django.apps import apps
from django.db import connection
from psycopg import sql

from rcm.append_only import AppendOnlyModel

ROW_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"


def append_only_tables() -> list[str]:
    return sorted(
        model._meta.db_table
        for model in apps.get_models()
        if issubclass(model, AppendOnlyModel) and not model._meta.proxy
    )


def app_role_statements(*, role: str, password: str | None) -> list[sql.Composable]:
    """The statements that create (or bring back into line) ``role``, for the current database, in order."""
    name = sql.Identifier(role)
    database = sql.Identifier(connection.settings_dict["NAME"])
    attributes = sql.SQL("LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS")
    statements = [
        sql.SQL(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {literal}) THEN "
            "CREATE ROLE {name} {attributes}; END IF; END $$"
        ).format(literal=sql.Literal(role), name=name, attributes=attributes),
        sql.SQL("ALTER ROLE {name} {attributes}").format(name=name, attributes=attributes),
    ]
    if password:
        statements.append(
            sql.SQL("ALTER ROLE {name} PASSWORD {password}").format(name=name, password=sql.Literal(password))
        )
    statements += [
        sql.SQL("GRANT CONNECT ON DATABASE {database} TO {name}").format(database=database, name=name),
        # Nobody but the owner creates objects in the schema (PostgreSQL before 15 let everyone).
        sql.SQL("REVOKE CREATE ON SCHEMA public FROM PUBLIC"),
        sql.SQL("GRANT USAGE ON SCHEMA public TO {name}").format(name=name),
        sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {name}").format(name=name),
        sql.SQL("GRANT {privileges} ON ALL TABLES IN SCHEMA public TO {name}").format(
            privileges=sql.SQL(ROW_PRIVILEGES), name=name
        ),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {name}").format(name=name),
        # Tables a later migration creates get row privileges at once (db_roles then narrows them again).
        sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT {privileges} ON TABLES TO {name}").format(
            privileges=sql.SQL(ROW_PRIVILEGES), name=name
        ),
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {name}"
        ).format(name=name),
    ]
    statements += [
        sql.SQL("REVOKE UPDATE, DELETE ON {table} FROM {name}").format(table=sql.Identifier(table), name=name)
        for table in append_only_tables()
    ]
    return statements


def app_role_apply(*, role: str, password: str | None = None) -> int:
    """Create or align ``role`` (idempotent); returns the number of statements run. PostgreSQL only; the
    connection must be the tables' owner, and may not be ``role`` itself."""
    if connection.vendor != "postgresql":
        raise ValueError(
            "The app's database role is a PostgreSQL feature; this database is " + connection.vendor
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (owner,) = cursor.fetchone()
        if owner == role:
            raise ValueError(
                f"Connected as {role!r}: run db_roles as the owner of the tables (the migrating user)."
            )
        statements = app_role_statements(role=role, password=password)
        for statement in statements:
            cursor.execute(statement.as_string(cursor.connection))
    return len(statements)
