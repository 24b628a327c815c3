"""Reads for submission: 837P batches, ready claims by payer, X12 files received."""

from django.db.models import (
    Count,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from claims.models import ZERO, ClaimStatus, DeliveryAttempt, SubmissionBatch, X12File
from claims.selectors import MONEY, claims_for_practice


def batch_list(practice) -> QuerySet:
    """Submission batches, newest first, with the payer and the last delivery attempt annotated
    (``last_attempt_at``, ``last_attempt_ok``, ``last_attempt_message``, ``attempt_count``) in one query."""
    last = DeliveryAttempt.objects.filter(batch=OuterRef("pk")).order_by("-at", "-id")
    attempts = (
        DeliveryAttempt.objects.filter(batch=OuterRef("pk"))
        .values("batch")
        .annotate(n=Count("id"))
        .values("n")[:1]
    )
    return (
        SubmissionBatch.objects.filter(practice=practice)
        .select_related("payer")
        .defer("content", "validation_findings")
        .annotate(
            last_attempt_at=Subquery(last.values("at")[:1]),
            last_attempt_ok=Subquery(last.values("ok")[:1]),
            last_attempt_message=Subquery(last.values("message")[:1]),
            attempt_count=Coalesce(Subquery(attempts), Value(0)),
        )
        .order_by("-created_at", "-id")
    )


def ready_claims_by_payer(practice) -> list[dict]:
    """Ready claims per payer (``payer_id``, ``payer__name``, ``count``, ``charges``), by payer name;
    self-pay claims (no payer) included with ``payer_id`` None."""
    return list(
        claims_for_practice(practice)
        .filter(status=ClaimStatus.READY)
        .values("payer_id", "payer__name")
        .annotate(count=Count("id"), charges=Coalesce(Sum("charge_total"), Value(ZERO), output_field=MONEY))
        .order_by("payer__name", "payer_id")
    )


def x12_file_list(practice) -> QuerySet:
    return (
        X12File.objects.filter(practice=practice)
        .select_related("received_by")
        .defer("content", "validation_findings")
        .order_by("-received_at", "-id")
    )
