"""Reads for submission: 837P batches (and where each is), ready claims by payer, X12 files received."""

import dataclasses

from django.db.models import (
    Count,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from claims.models import ZERO, BatchStatus, ClaimStatus, DeliveryAttempt, SubmissionBatch, X12File
from claims.selectors import MONEY, claims_for_practice


def batch_list(practice) -> QuerySet:
    """Submission batches, newest first, with the payer, who downloaded it and who marked it sent, and the
    last delivery attempt annotated (``last_attempt_at``, ``last_attempt_ok``, ``last_attempt_message``,
    ``attempt_count``) in one query: what ``batch_whereabouts`` reads."""
    last = DeliveryAttempt.objects.filter(batch=OuterRef("pk")).order_by("-at", "-id")
    attempts = (
        DeliveryAttempt.objects.filter(batch=OuterRef("pk"))
        .values("batch")
        .annotate(n=Count("id"))
        .values("n")[:1]
    )
    return (
        SubmissionBatch.objects.filter(practice=practice)
        .select_related("payer", "downloaded_by", "marked_sent_by")
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


@dataclasses.dataclass(frozen=True)
class Whereabouts:
    """Where a batch is, in words: ``label`` for the badge, ``tone`` its colour (ok, warn, bad or none),
    ``detail`` who, when and what next."""

    label: str
    tone: str
    detail: str


def _when(value) -> str:
    return f"{timezone.localtime(value):%m/%d/%Y %H:%M}"


def _who(user) -> str:
    return user.username if user is not None else "someone no longer here"


def batch_whereabouts(batch) -> Whereabouts:
    """Where a batch from ``batch_list`` is (no query): acknowledged by a 999, delivered by SFTP, sent by
    hand, failed to deliver, downloaded, or only built."""
    if batch.status == BatchStatus.ACCEPTED:
        return Whereabouts(
            "Accepted (999)", "ok", "The clearinghouse accepted the file; the 277CA answers each claim."
        )
    if batch.status == BatchStatus.PARTLY_ACCEPTED:
        return Whereabouts(
            "Partly accepted (999)", "warn", "Some claims were rejected: see the acknowledgments."
        )
    if batch.status == BatchStatus.REJECTED:
        return Whereabouts("Rejected (999)", "bad", "The clearinghouse rejected the file: see the reasons.")
    if batch.status == BatchStatus.SENT and batch.marked_sent_at is not None:
        return Whereabouts(
            "Sent by hand",
            "warn",
            f"Marked sent by {_who(batch.marked_sent_by)} on {_when(batch.marked_sent_at)}; "
            "waiting for the 999.",
        )
    if batch.status == BatchStatus.SENT:
        at = f" on {_when(batch.last_attempt_at)}" if batch.last_attempt_at else ""
        return Whereabouts("Delivered by SFTP", "warn", f"Uploaded{at}; waiting for the 999.")
    if batch.status == BatchStatus.SEND_FAILED:
        at = f" on {_when(batch.last_attempt_at)}" if batch.last_attempt_at else ""
        return Whereabouts(
            "SFTP delivery failed", "bad", f"Last attempt{at}: {batch.last_attempt_message or 'no message'}"
        )
    if batch.downloaded_at is not None:
        return Whereabouts(
            "Downloaded, not marked sent",
            "",
            f"Downloaded by {_who(batch.downloaded_by)} on {_when(batch.downloaded_at)}.",
        )
    return Whereabouts("Built, not sent", "", "Not downloaded or delivered yet.")
