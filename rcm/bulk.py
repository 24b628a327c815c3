"""Fast bulk writes on PostgreSQL, with plain Django fallbacks elsewhere.

Django's ``bulk_update`` writes ``CASE WHEN id = ... THEN ...`` with one branch per row, which
PostgreSQL evaluates row by row (quadratic in the batch), and large ``bulk_create`` calls spend most
of their time converting parameters in Python. For big batches on PostgreSQL these helpers stream the
rows with COPY (converted by psycopg, in C) — straight into the table for inserts, into a temporary
table joined in one ``UPDATE ... FROM`` for updates. Small batches keep the ordinary path."""

import datetime
import itertools
from collections.abc import Iterable, Sequence

from django.db import connection, connections, models, transaction
from django.db.models.expressions import RawSQL
from psycopg.types.json import Jsonb

COPY_THRESHOLD = 500
REPEATING_TYPES = (str, int, datetime.date)  # datetime.datetime is a date too
_temp_names = itertools.count()


def ids_in(ids):
    """What ``field__in`` should take for a long list of ids (thousands: a drill-down's claims): on
    PostgreSQL one array parameter unnested in SQL, so the planner neither estimates each value (a
    19,500-id list took 40 ms to plan) nor Python quotes each; the list itself elsewhere."""
    ids = list(ids)
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", [ids])
    return ids


def _python_value(field: models.Field, value):
    """The value as psycopg should receive it (it adapts Decimal, dates, strings and numbers itself)."""
    if isinstance(field, models.JSONField):
        return None if value is None else Jsonb(value)
    return value


def _use_copy(objs) -> bool:
    return connection.vendor == "postgresql" and len(objs) >= COPY_THRESHOLD


def bulk_insert_with_ids(model: type[models.Model], objs) -> list:
    """Insert ``objs`` and give them their primary keys: on PostgreSQL with a large batch the keys are
    reserved from the table's sequence in one query and the rows streamed with COPY; ``bulk_create``
    otherwise."""
    objs = list(objs)
    if not _use_copy(objs):
        return model._base_manager.bulk_create(objs, batch_size=2000) if objs else objs
    meta = model._meta
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(objs)],
        )
        for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
            obj.pk = pk
        fields = [f for f in meta.concrete_fields if not f.generated]
        columns = ", ".join(quote(f.column) for f in fields)
        with cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy:
            for obj in objs:
                copy.write_row([_python_value(f, getattr(obj, f.attname)) for f in fields])
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
    return objs


def bulk_insert_rows(model: type[models.Model], rows: list[dict]) -> int:
    """Insert rows given as field-name dicts (each with the keys of the first), without primary keys back;
    see ``bulk_insert_values``."""
    if not rows:
        return 0
    names = list(rows[0])
    return bulk_insert_values(model, names, [tuple(row[name] for name in names) for row in rows])


def bulk_insert_values(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Insert rows given as tuples of the values of ``fields`` (field names, in the tuples' order), without
    primary keys back; returns how many. A large batch on PostgreSQL is streamed with COPY, taking the
    rows as ``rows`` yields them, so the work that produces them overlaps the server's (an iterator must
    have made its own queries by its first row: the connection is busy with the COPY after that); one
    prepared INSERT run for every row (executemany) otherwise. No model objects are built and no Python
    call is made per value when every field is named and none is JSON (a bulk recompute writes a million
    rows); every field not named gets its default."""
    meta = model._meta
    named = [meta.get_field(name) for name in fields]
    defaulted = [
        field
        for field in meta.concrete_fields
        if not field.primary_key and not field.generated and field not in named
    ]
    columns = named + defaulted
    if defaulted:
        rows = ((*row, *(field.get_default() for field in defaulted)) for row in rows)
    rows = iter(rows)
    head = list(itertools.islice(rows, COPY_THRESHOLD))
    if not head:
        return 0
    quote = connection.ops.quote_name
    names = ", ".join(quote(field.column) for field in columns)
    if connection.vendor == "postgresql" and len(head) == COPY_THRESHOLD:
        json = [(i, field) for i, field in enumerate(columns) if isinstance(field, models.JSONField)]
        count = 0
        with connection.cursor() as cursor:
            with cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({names}) FROM STDIN") as copy:
                for row in itertools.chain(head, rows):
                    if json:
                        row = list(row)
                        for i, field in json:
                            row[i] = _python_value(field, row[i])
                    copy.write_row(row)
                    count += 1
        return count
    rows = [*head, *rows]
    placeholders = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {quote(meta.db_table)} ({names}) VALUES ({placeholders})"  # noqa: S608
    # The wrapper itself, not the ``connection`` proxy, which looks the wrapper up again on every attribute
    # read: with a dozen fields per row that lookup was most of the time of a large batch.
    database = connections[connection.alias]
    # Ids, days and names repeat down a batch: each distinct one is converted once per field. (Not
    # decimals: 1.0 and 1.00 are equal keys but are written differently.)
    prepared: dict[tuple, object] = {}

    def prepare(field, raw):
        if not isinstance(raw, REPEATING_TYPES):
            return field.get_db_prep_save(raw, database)
        key = (field.attname, type(raw), raw)
        if key not in prepared:
            prepared[key] = field.get_db_prep_save(raw, database)
        return prepared[key]

    params = [[prepare(field, raw) for field, raw in zip(columns, row, strict=True)] for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
    return len(rows)


def bulk_update_values(model: type[models.Model], objs, fields: list[str]) -> int:
    """Write ``fields`` of ``objs`` (which carry their primary keys) in one statement per call."""
    objs = list(objs)
    if not objs:
        return 0
    if not _use_copy(objs):
        # One prepared UPDATE run for every row (executemany): no CASE expressions to build, and on
        # SQLite the loop runs in C.
        meta = model._meta
        quote = connection.ops.quote_name
        columns = [meta.get_field(name) for name in fields]
        assignments = ", ".join(f"{quote(field.column)} = %s" for field in columns)
        sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"  # noqa: S608
        params = [
            [field.get_db_prep_save(getattr(obj, field.attname), connection) for field in columns] + [obj.pk]
            for obj in objs
        ]
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)
        return len(objs)
    meta = model._meta
    pk = meta.pk
    columns = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    temp = f"rcm_bulk_{next(_temp_names)}"
    definitions = ", ".join(
        [f"{quote(pk.column)} {pk.rel_db_type(connection)}"]
        + [f"{quote(field.column)} {field.db_type(connection)}" for field in columns]
    )
    names = ", ".join([quote(pk.column)] + [quote(field.column) for field in columns])
    assignments = ", ".join(f"{quote(field.column)} = v.{quote(field.column)}" for field in columns)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE {temp} ({definitions}) ON COMMIT DROP")
        with cursor.cursor.copy(f"COPY {temp} ({names}) FROM STDIN") as copy:
            for obj in objs:
                copy.write_row(
                    [obj.pk] + [_python_value(field, getattr(obj, field.attname)) for field in columns]
                )
        # Only quoted identifiers are interpolated; the values arrived through COPY.
        cursor.execute(
            f"UPDATE {quote(meta.db_table)} AS t SET {assignments} FROM {temp} AS v "  # noqa: S608
            f"WHERE t.{quote(pk.column)} = v.{quote(pk.column)}"
        )
        cursor.execute(f"DROP TABLE {temp}")
    return len(objs)
