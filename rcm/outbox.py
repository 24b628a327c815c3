"""No lost work when the broker is down: every Celery task the app queues goes through ``task_enqueue``.

The work is recorded as an ``OutboxTask`` row in the caller's transaction, so it exists exactly when the
change that needs it exists; it is published after commit (``transaction.on_commit``), through a broker
connection that gives up after ``RCM_TASK_PUBLISH_TIMEOUT`` seconds, so a request answers at once and
truthfully even when the broker is unreachable. What the broker did not take waits in the table, and the
periodic sweep (``rcm.outbox_sweep``, every minute) publishes it when the broker is back. A task may
therefore run twice (published by the hook and the sweep, or by a worker's late acknowledgment): every
task is idempotent by construction (``docs/security.md``)."""

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from rcm.models import OutboxTask

logger = logging.getLogger(__name__)

QUEUED_ROWS_KEPT = datetime.timedelta(days=7)


def task_enqueue(task, *args) -> OutboxTask:
    """Record that ``task(*args)`` must run (ids only, never PHI) and publish it once the current
    transaction commits (at once outside one). Guarantees: the row is written with the caller's work or
    not at all; a failed publish leaves it waiting for the sweep and raises nothing."""
    row = OutboxTask.objects.create(task=task.name, args=list(args))
    transaction.on_commit(lambda: outbox_publish(row_id=row.pk))
    return row


def _publish(row: OutboxTask) -> None:
    from rcm.celery import app  # the Celery app loads the settings and every app's tasks: not at import

    if app.conf.task_always_eager:
        app.tasks[row.task].apply_async(args=row.args)  # runs here and now (tests, one-process setups)
        return
    timeout = settings.RCM_TASK_PUBLISH_TIMEOUT
    options = {
        **(app.conf.broker_transport_options or {}),
        "max_retries": 0,
        "socket_connect_timeout": timeout,
        "socket_timeout": timeout,
    }
    with app.connection_for_write(connect_timeout=timeout, transport_options=options) as connection:
        connection.ensure_connection(max_retries=0, timeout=timeout)
        # ignore_result: nobody waits for these results, and a result backend that is down would retry
        # for seconds before the message is even sent.
        app.send_task(row.task, args=row.args, connection=connection, retry=False, ignore_result=True)


def outbox_publish(*, row_id: int) -> bool:
    """Hand one waiting row to the broker; True when the broker took it (or someone already had).
    A broker failure is recorded on the row (kind of error only) and logged (task name and row id)."""
    row = OutboxTask.objects.filter(pk=row_id, queued_at__isnull=True).first()
    if row is None:
        return True
    broker_eager = _eager()
    try:
        _publish(row)
    except Exception as exc:  # noqa: BLE001 - any broker failure means "try again later"
        if broker_eager:
            raise  # an eager task's own error is the caller's to see
        OutboxTask.objects.filter(pk=row.pk).update(
            attempts=F("attempts") + 1, last_error=f"{type(exc).__name__}: {exc}"[:200]
        )
        logger.warning("Task %s (outbox row %s) waits: the broker refused it (%s)", row.task, row.pk, exc)
        return False
    OutboxTask.objects.filter(pk=row.pk).update(
        queued_at=timezone.now(), attempts=F("attempts") + 1, last_error=""
    )
    return True


def _eager() -> bool:
    from rcm.celery import app

    return bool(app.conf.task_always_eager)


def outbox_sweep(*, now=None, limit: int = 1000) -> dict:
    """Publish every row still waiting ``RCM_OUTBOX_SWEEP_AFTER`` seconds after it was written (oldest
    first, at most ``limit``; stops at the first broker failure) and forget rows queued a week ago.
    Returns the counts ``{"queued": n, "waiting": m, "forgotten": k}``."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(seconds=settings.RCM_OUTBOX_SWEEP_AFTER)
    waiting = list(
        OutboxTask.objects.filter(queued_at__isnull=True, created_at__lte=cutoff)
        .order_by("created_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    queued = 0
    for row_id in waiting:
        if not outbox_publish(row_id=row_id):
            break  # the broker is still down: the rest wait for the next sweep
        queued += 1
    forgotten, _ = OutboxTask.objects.filter(queued_at__lt=now - QUEUED_ROWS_KEPT).delete()
    return {
        "queued": queued,
        "waiting": OutboxTask.objects.filter(queued_at__isnull=True).count(),
        "forgotten": forgotten,
    }


def outbox_waiting_count() -> int:
    return OutboxTask.objects.filter(queued_at__isnull=True).count()
