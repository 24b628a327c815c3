import sqlite3

from django.db import connection, transaction

from rcm.models import NumberSequence


def sequence_next(*, practice, name: str, count: int = 1) -> range:
    """Reserve ``count`` consecutive numbers of the practice's ``name`` sequence (first is 1).

    One ``UPDATE ... RETURNING`` (atomic in the database: concurrent callers never get the same
    numbers); the row is created the first time a sequence is used."""
    if connection.vendor == "sqlite" and sqlite3.sqlite_version_info < (3, 35):  # no RETURNING before 3.35
        with transaction.atomic():
            sequence, _ = NumberSequence.objects.select_for_update().get_or_create(
                practice=practice, name=name
            )
            NumberSequence.objects.filter(pk=sequence.pk).update(last_value=sequence.last_value + count)
        return range(sequence.last_value + 1, sequence.last_value + count + 1)
    table = connection.ops.quote_name(NumberSequence._meta.db_table)
    sql = (
        f"UPDATE {table} SET last_value = last_value + %s "  # noqa: S608
        "WHERE practice_id = %s AND name = %s RETURNING last_value"
    )
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql, [count, practice.pk, name])
            row = cursor.fetchone()
        if row is None:
            NumberSequence.objects.get_or_create(practice=practice, name=name)
            with connection.cursor() as cursor:
                cursor.execute(sql, [count, practice.pk, name])
                row = cursor.fetchone()
    last = row[0]
    return range(last - count + 1, last + 1)
