"""Celery tasks of the Payment plans app: thin, take ids, call the one service; safe to run twice (a
statement's key is unique per practice, patient, day and kind)."""

from celery import shared_task


@shared_task(
    name="payment_plans.statement_run_practice", time_limit=3600, soft_time_limit=3500, acks_late=True
)
def statement_run_practice(practice_id: int) -> int:
    from payment_plans.statements import statement_run
    from rcm.audit import audit_context
    from rcm.models import Practice

    with audit_context(source="task"):
        return statement_run(practice=Practice.objects.get(pk=practice_id)).sent


@shared_task(name="payment_plans.statement_run_all", time_limit=120, soft_time_limit=100)
def statement_run_all() -> int:
    """Queue one statement run per active practice."""
    from rcm.models import Practice

    ids = list(Practice.objects.filter(is_active=True).values_list("pk", flat=True))
    for practice_id in ids:
        statement_run_practice.delay(practice_id)
    return len(ids)
