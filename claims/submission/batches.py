"""Submitting claims: build 837P batches of ready claims per payer, validate them with pyx12, store
them, and move the claims to submitted."""

import dataclasses
from collections import defaultdict
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from claims.edi.p837 import Envelope, build_837p, claims_for_837, prior_adjudications
from claims.edi.validation import validate_x12
from claims.models import (
    BatchClaim,
    BatchStatus,
    Claim,
    ClaimStatus,
    Clearinghouse,
    ScrubStatus,
    SubmissionBatch,
)
from claims.scrubber.engine import claims_scrub
from claims.state_machine import claim_transition_many
from rcm.audit import audit_record
from rcm.models import AuditAction
from rcm.sequences import sequence_next

MAX_CLAIMS_PER_BATCH = 5000  # what most clearinghouses take in one transaction set


@dataclasses.dataclass
class SubmitResult:
    batches: list[SubmissionBatch]
    refused: dict[int, str]  # claim id -> why it was not submitted


def _clearinghouse_for(practice) -> Clearinghouse:
    clearinghouse = Clearinghouse.objects.filter(practice=practice, is_active=True).order_by("pk").first()
    if clearinghouse is None:
        raise ValidationError(
            "Set up the practice's clearinghouse (EDI identities) before submitting claims."
        )
    return clearinghouse


def claims_submit(
    *,
    practice,
    claim_ids: list[int] | None = None,
    payer_id=None,
    user=None,
    validate=True,
    now=None,
    scrubbed_since=None,
) -> SubmitResult:
    """Submit ready claims of ``practice`` (all of them, or ``claim_ids``, or those of ``payer_id``).

    Guarantees: each claim is scrubbed again first and one with errors is not submitted (it goes back
    to draft and is listed in ``refused``); claims are grouped per payer into batches of at most
    5,000; every batch validates with pyx12 with zero findings or nothing is submitted; control
    numbers are unique and increasing; submitted claims move to submitted with the batch recorded."""
    now = now or timezone.now()
    clearinghouse = _clearinghouse_for(practice)
    queryset = Claim.objects.filter(practice=practice, status=ClaimStatus.READY)
    if claim_ids is not None:
        queryset = queryset.filter(pk__in=claim_ids)
    if payer_id is not None:
        queryset = queryset.filter(payer_id=payer_id)
    refused: dict[int, str] = {}
    candidate_ids = list(queryset.values_list("pk", flat=True))
    if claim_ids is not None:
        for missing in sorted(set(claim_ids) - set(candidate_ids)):
            refused[missing] = "not a ready claim of this practice"
    # Claims scrubbed clean since ``scrubbed_since`` (by the caller, in the same run) are not scrubbed twice.
    rescrub = Claim.objects.filter(pk__in=candidate_ids)
    if scrubbed_since is not None:
        rescrub = rescrub.exclude(scrubbed_at__gte=scrubbed_since)
    claims_scrub(queryset=rescrub, user=user, today=timezone.localdate(now), now=now)
    for claim_id, findings in Claim.objects.filter(
        pk__in=candidate_ids, scrub_status=ScrubStatus.ERRORS
    ).values_list("pk", "scrub_findings"):
        refused[claim_id] = "scrubber errors: " + "; ".join(
            f["message"] for f in findings if f["severity"] == "error"
        )
    ready = list(
        claims_for_837(
            Claim.objects.filter(practice=practice, status=ClaimStatus.READY, pk__in=candidate_ids)
        ).order_by("payer_id", "pk")
    )
    by_payer = defaultdict(list)
    for claim in ready:
        if claim.coverage is None:
            refused[claim.pk] = "self-pay claims are billed to the patient"
            continue
        by_payer[claim.coverage.payer_id].append(claim)
    batches = []
    with transaction.atomic():
        for payer_claims in by_payer.values():
            for start in range(0, len(payer_claims), MAX_CLAIMS_PER_BATCH):
                batches.append(
                    _batch_create(
                        practice=practice,
                        clearinghouse=clearinghouse,
                        claims=payer_claims[start : start + MAX_CLAIMS_PER_BATCH],
                        user=user,
                        now=now,
                        validate=validate,
                    )
                )
    return SubmitResult(batches=batches, refused=refused)


def _batch_create(
    *, practice, clearinghouse, claims: list[Claim], user, now, validate: bool
) -> SubmissionBatch:
    (isa,) = sequence_next(practice=practice, name="isa13")
    (gs,) = sequence_next(practice=practice, name="gs06")
    if isa > 999_999_999:
        raise ValidationError(
            "The interchange control number ran past 999,999,999; ask an administrator to reset it."
        )
    envelope = Envelope(
        sender_id=clearinghouse.submitter_id,
        receiver_id=clearinghouse.receiver_id,
        submitter_name=clearinghouse.submitter_name,
        contact_name=clearinghouse.contact_name,
        contact_phone=clearinghouse.contact_phone,
        receiver_name=clearinghouse.receiver_name,
        interchange_control_number=isa,
        group_control_number=gs,
        transaction_control_number="0001",
        production=clearinghouse.production,
        created_at=timezone.localtime(now),
    )
    content = build_837p(envelope=envelope, claims=claims, prior=prior_adjudications(claims))
    findings = []
    if validate:
        ok, found = validate_x12(content)
        findings = [f.as_dict() for f in found]
        if not ok:
            first = findings[0]["message"] if findings else "pyx12 reported the file invalid"
            raise ValidationError(
                f"The 837P for {claims[0].coverage.payer.name} failed validation ({first}); "
                "nothing was submitted. This is a defect in RCM: please report it with the claim numbers."
            )
    payer = claims[0].coverage.payer
    batch = SubmissionBatch.objects.create(
        practice=practice,
        payer=payer,
        clearinghouse=clearinghouse,
        interchange_control_number=isa,
        group_control_number=gs,
        transaction_control_number="0001",
        created_at=now,
        created_by=user if user is not None and getattr(user, "is_authenticated", False) else None,
        file_name=f"{practice.slug}-{payer.payer_id}-{isa:09d}.837",
        content=content,
        claim_count=len(claims),
        total_charge=sum((c.charge_total for c in claims), Decimal("0")),
        validation_ok=validate,
        validation_findings=findings,
    )
    BatchClaim.objects.bulk_create(
        [
            BatchClaim(batch=batch, claim=c, frequency_code=c.frequency_code, charge=c.charge_total)
            for c in claims
        ],
        batch_size=1000,
    )
    claim_transition_many(
        claim_ids=[c.pk for c in claims],
        to_status=ClaimStatus.SUBMITTED,
        user=user,
        reason=f"837P batch {batch.file_name}",
        at=now,
    )
    return batch


@transaction.atomic
def batch_download_record(*, batch: SubmissionBatch, user) -> SubmissionBatch:
    """Record that ``user`` downloaded the batch's 837P file now (the latest download is kept on the batch)
    and write the export to the audit log. Changes nothing else: a download is not a delivery."""
    now = timezone.now()
    SubmissionBatch.objects.filter(pk=batch.pk).update(downloaded_at=now, downloaded_by=user)
    batch.downloaded_at, batch.downloaded_by = now, user
    audit_record(
        action=AuditAction.EXPORT,
        practice=batch.practice,
        object_type="claims.submissionbatch",
        object_id=batch.pk,
        changes={"file_name": batch.file_name},
        user=user,
    )
    return batch


SENDABLE = (BatchStatus.BUILT, BatchStatus.SEND_FAILED)


@transaction.atomic
def batch_mark_sent(*, batch: SubmissionBatch, user) -> SubmissionBatch:
    """Say that a downloaded batch was sent to the clearinghouse by hand: the batch becomes sent (waiting
    for its 999), with who said so and when, in the audit log too. Refused, changing nothing, when the
    file was never downloaded or the batch is already sent or acknowledged (a compare-and-set update, so
    two clicks mark it once)."""
    now = timezone.now()
    updated = SubmissionBatch.objects.filter(
        pk=batch.pk, status__in=SENDABLE, downloaded_at__isnull=False
    ).update(status=BatchStatus.SENT, marked_sent_at=now, marked_sent_by=user)
    if not updated:
        current = SubmissionBatch.objects.only("status", "downloaded_at").get(pk=batch.pk)
        if current.status not in SENDABLE:
            raise ValidationError(
                f"{batch.file_name} is {current.get_status_display().lower()}: it is not marked sent again."
            )
        raise ValidationError(
            f"{batch.file_name} was never downloaded: download the file and upload it to the "
            "clearinghouse before marking it sent."
        )
    audit_record(
        action=AuditAction.UPDATE,
        practice=batch.practice,
        object_type="claims.submissionbatch",
        object_id=batch.pk,
        changes={"status": [batch.status, BatchStatus.SENT.value], "sent": "by hand"},
        user=user,
    )
    batch.status, batch.marked_sent_at, batch.marked_sent_by = BatchStatus.SENT, now, user
    return batch
