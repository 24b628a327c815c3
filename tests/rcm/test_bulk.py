"""Bulk inserts (rcm.bulk.bulk_insert_values): rows given as tuples, from a list or streamed from an
iterator, large batches (COPY on PostgreSQL) and small ones alike, JSON values and defaults filled in."""

import pytest

from rcm.bulk import COPY_THRESHOLD, bulk_insert_values
from rcm.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("count", [3, COPY_THRESHOLD + 100])
def test_rows_streamed_from_an_iterator_are_all_written_with_their_defaults(practice, count):
    def rows():
        for n in range(count):
            yield (practice.pk, "view", "claim", str(n), {"line": n, "codes": ["CO-45"]})

    fields = ["practice_id", "action", "object_type", "object_id", "changes"]
    assert bulk_insert_values(AuditEvent, fields, rows()) == count
    written = AuditEvent.objects.filter(practice=practice, object_type="claim").order_by("id")
    assert written.count() == count
    assert sorted(
        (event.object_id, event.changes, event.source, event.username) for event in written
    ) == sorted((str(n), {"line": n, "codes": ["CO-45"]}, "web", "") for n in range(count))
    assert written.filter(at__isnull=True).count() == 0


def test_nothing_to_insert_writes_nothing(practice):
    assert bulk_insert_values(AuditEvent, ["practice_id", "action", "object_type"], iter(())) == 0
    assert not AuditEvent.objects.filter(practice=practice, object_type="claim").exists()
