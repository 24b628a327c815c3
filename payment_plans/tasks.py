"""Celery tasks of the Payment plans app: thin, take ids, call the one service; safe to run twice
(reminders carry idempotency keys; a statement's key is unique per practice, patient, day and kind)."""

from celery import shared_task


@shared_task(name="payment_plans.reminders_practice", time_limit=1800, soft_time_limit=1700, acks_late=True)
def reminders_practice(practice_id: int) -> int:
    """The daily job for one practice (missed payments, status changes, reminders); returns messages sent.
    A retry or a second run sends nothing twice (see ``payment_plans.reminders.services``)."""
    from payment_plans.reminders.services import reminders_run
    from rcm.audit import audit_context
    from rcm.models import Practice

    with audit_context(source="task"):
        return reminders_run(practice=Practice.objects.get(pk=practice_id)).sent


@shared_task(name="payment_plans.reminders_daily", time_limit=120, soft_time_limit=100)
def reminders_daily() -> int:
    """Queue the job for every active practice."""
    from rcm.models import Practice
    from rcm.outbox import task_enqueue

    ids = list(Practice.objects.filter(is_active=True).values_list("pk", flat=True))
    for practice_id in ids:
        task_enqueue(reminders_practice, practice_id)
    return len(ids)


@shared_task(name="payment_plans.statement_run_practice", time_limit=600, soft_time_limit=540, acks_late=True)
def statement_run_practice(practice_id: int) -> int:
    """Start the practice's run: pick who is due and queue one task per chunk of them (returns how many
    chunks), so that every worker takes a share of a long run. While a run is still going, nothing."""
    from django.core.exceptions import ValidationError

    from payment_plans.models import StatementRunSource
    from payment_plans.statements import statement_run_queue
    from rcm.audit import audit_context
    from rcm.models import Practice

    with audit_context(source="task"):
        try:
            record = statement_run_queue(
                practice=Practice.objects.get(pk=practice_id), source=StatementRunSource.BEAT
            )
        except ValidationError:
            return 0  # the practice's run is still going (started from the page, or last night's)
        return record.chunks.count()


@shared_task(name="payment_plans.statement_run_chunk", time_limit=1800, soft_time_limit=1700, acks_late=True)
def statement_run_chunk_task(chunk_id: int) -> int:
    """Render and record one chunk of a statement run; returns the statements the chunk sent. Delivered
    twice, it sends nothing twice (``statement_run_chunk``)."""
    from payment_plans.statements import statement_run_chunk
    from rcm.audit import audit_context

    with audit_context(source="task"):
        return statement_run_chunk(chunk_id).sent


@shared_task(name="payment_plans.statement_run_all", time_limit=120, soft_time_limit=100)
def statement_run_all() -> int:
    """Queue one statement run per active practice."""
    from rcm.models import Practice
    from rcm.outbox import task_enqueue

    ids = list(Practice.objects.filter(is_active=True).values_list("pk", flat=True))
    for practice_id in ids:
        task_enqueue(statement_run_practice, practice_id)
    return len(ids)
