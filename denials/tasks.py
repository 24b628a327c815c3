"""Celery tasks of the denials app: thin, take ids, call the one service. Running one twice writes the same
rows (the service replaces the practice's scores)."""

from celery import shared_task


@shared_task(name="denials.compute_risks_practice", time_limit=600, soft_time_limit=540, acks_late=True)
def compute_risks_practice(practice_id: int) -> int:
    from denials.services import denial_risks_compute
    from rcm.models import Practice

    return denial_risks_compute(practice=Practice.objects.get(pk=practice_id))


@shared_task(name="denials.compute_risks_nightly", time_limit=120, soft_time_limit=100)
def compute_risks_nightly() -> int:
    """Queue the denial risk scoring of every active practice's ready claims."""
    from rcm.models import Practice
    from rcm.outbox import task_enqueue

    ids = list(Practice.objects.filter(is_active=True).values_list("pk", flat=True))
    for practice_id in ids:
        task_enqueue(compute_risks_practice, practice_id)
    return len(ids)
