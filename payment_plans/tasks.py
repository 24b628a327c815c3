"""Celery tasks of the Payment plans app: thin, take ids, call the one service."""

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

    ids = list(Practice.objects.filter(is_active=True).values_list("pk", flat=True))
    for practice_id in ids:
        reminders_practice.delay(practice_id)
    return len(ids)
