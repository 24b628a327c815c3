"""Writes on denials."""

from denials.models import Denial


def denials_record(rows: list[dict]) -> list[Denial]:
    """Record the denials an ERA posting found (called inside the posting's transaction)."""
    return Denial.objects.bulk_create([Denial(**row) for row in rows], batch_size=1000)
