"""Columns that apps above claims add to the work queues (claims never imports them): each app registers
its columns in its ``AppConfig.ready`` (the denials app adds the denial risk of a ready claim).

A column adds its value to the queue's one list query (``annotate``, a subquery or a join), so a page
costs the same number of queries whatever its rows, and says how a row's cell reads (``cell``)."""

import dataclasses
from collections.abc import Callable

from django.db.models import QuerySet


@dataclasses.dataclass(frozen=True)
class QueueCell:
    text: str  # what the cell shows ("38%"), "" for nothing
    detail: str = ""  # a sentence under it, in small print
    tone: str = ""  # a badge's tone: "bad", "warn", "ok" or "" for plain text


@dataclasses.dataclass(frozen=True)
class QueueColumn:
    key: str
    title: str
    annotate: Callable[[QuerySet], QuerySet]
    cell: Callable[[object], QueueCell]
    queues: frozenset[str] | None = None  # the queue slugs it shows in; None for every queue


QUEUE_COLUMNS: list[QueueColumn] = []


def queue_column_register(column: QueueColumn) -> None:
    """Add a column (or replace the one with the same key: ``ready`` may run more than once in tests)."""
    QUEUE_COLUMNS[:] = [c for c in QUEUE_COLUMNS if c.key != column.key] + [column]


def queue_columns(slug: str) -> list[QueueColumn]:
    return [c for c in QUEUE_COLUMNS if c.queues is None or slug in c.queues]
