"""Celery tasks of the claims app: thin, take ids, call services, safe to run twice.

At module level this imports only leaf modules (Celery, the models, the delivery errors). Each task
imports the service it calls inside its body: the services queue these tasks (``x12_import`` queues
``validate_x12_file``), so importing the services here would make a cycle. A task body is the one
accepted place for an import inside a function."""

from celery import shared_task

from claims.models import BatchStatus, Clearinghouse, SubmissionBatch, X12File
from claims.submission.errors import DeliveryError
from rcm.outbox import task_enqueue


@shared_task(
    name="claims.deliver_batch",
    autoretry_for=(DeliveryError,),
    retry_backoff=60,
    retry_backoff_max=3600,
    max_retries=8,
    time_limit=300,
    soft_time_limit=240,
    acks_late=True,
)
def deliver_batch(batch_id: int) -> str:
    from claims.submission.delivery import batch_deliver

    batch = SubmissionBatch.objects.select_related("clearinghouse").get(pk=batch_id)
    if batch.status not in (BatchStatus.BUILT, BatchStatus.SEND_FAILED):
        return f"batch {batch_id} already {batch.status}"  # a retry after success sends nothing twice
    return batch_deliver(batch=batch).message


@shared_task(
    name="claims.pickup_clearinghouse",
    autoretry_for=(DeliveryError,),
    retry_backoff=120,
    max_retries=3,
    time_limit=900,
    soft_time_limit=840,
    acks_late=True,
)
def pickup_clearinghouse(clearinghouse_id: int) -> int:
    from claims.submission.delivery import clearinghouse_pickup

    clearinghouse = Clearinghouse.objects.select_related("practice").get(pk=clearinghouse_id)
    return len(clearinghouse_pickup(clearinghouse=clearinghouse))


@shared_task(name="claims.pickup_all", time_limit=120, soft_time_limit=100)
def pickup_all() -> int:
    ids = list(
        Clearinghouse.objects.filter(is_active=True).exclude(sftp_host="").values_list("pk", flat=True)
    )
    for clearinghouse_id in ids:
        task_enqueue(pickup_clearinghouse, clearinghouse_id)
    return len(ids)


@shared_task(name="claims.validate_x12_file", time_limit=1800, soft_time_limit=1700, acks_late=True)
def validate_x12_file(x12_file_id: int) -> int:
    from claims.edi.intake import x12_file_validate

    x12_file = X12File.objects.get(pk=x12_file_id)
    if x12_file.validated_at is not None:
        return len(x12_file.validation_findings)
    return len(x12_file_validate(x12_file=x12_file).validation_findings)


@shared_task(name="claims.scrub_drafts", time_limit=3600, soft_time_limit=3500)
def scrub_drafts() -> dict:
    from claims.scrubber.engine import drafts_scrub

    return {str(key): value for key, value in drafts_scrub().items()}
