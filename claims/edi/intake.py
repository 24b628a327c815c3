"""Importing X12 files: detect the kind, keep the file, apply it whole or not at all, once.

``x12_import`` is the one entry point for the upload page, the API, the ``import_x12`` command and
the SFTP pick-up task. A refused file is kept with its error and changes nothing else."""

import dataclasses
import hashlib
from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from claims.edi.acks import read_277ca, read_999
from claims.edi.reader import Interchange, X12Error, parse, transaction_kind
from claims.models import (
    BatchStatus,
    Claim,
    ClaimAcknowledgment,
    ClaimStatus,
    SubmissionBatch,
    X12File,
    X12FileKind,
    X12FileStatus,
)
from claims.state_machine import claim_transition_many


@dataclasses.dataclass
class ImportResult:
    file: X12File
    duplicate: bool = False

    @property
    def applied(self) -> bool:
        return self.file.status == X12FileStatus.APPLIED

    @property
    def message(self) -> str:
        if self.duplicate:
            return (
                f"{self.file.file_name}: this file was already imported on "
                f"{timezone.localtime(self.file.received_at):%Y-%m-%d %H:%M}; nothing was changed."
            )
        if not self.applied:
            return f"{self.file.file_name} was refused: {self.file.error} Nothing was changed."
        summary = ", ".join(f"{value} {key.replace('_', ' ')}" for key, value in self.file.outcome.items())
        return f"{self.file.file_name} ({self.file.get_kind_display()}) imported: {summary}."


INLINE_VALIDATION_CHARS = 200_000


def validation_findings(text: str) -> list[dict]:
    from claims.edi.validation import validate_x12

    _ok, findings = validate_x12(text)
    return [f.as_dict() for f in findings][:200]


def x12_file_validate(*, x12_file: X12File) -> X12File:
    """Run pyx12 over a stored file and keep its findings (idempotent)."""
    X12File.objects.filter(pk=x12_file.pk).update(
        validation_findings=validation_findings(x12_file.content), validated_at=timezone.now()
    )
    x12_file.refresh_from_db()
    return x12_file


def _decode(content: bytes | str) -> str:
    if isinstance(content, str):
        return content
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("latin-1")


def _apply_999(*, practice, interchanges: list[Interchange], x12_file: X12File, user, now) -> dict:
    counts = {"batches_accepted": 0, "batches_rejected": 0, "claims_rejected": 0}
    for interchange in interchanges:
        for ts in interchange.transactions():
            for response in read_999(ts, interchange.delimiters):
                if response.transaction_code != "837":
                    raise X12Error(
                        f"The 999 answers a {response.transaction_code} transaction set, not an 837 we sent."
                    )
                batch = SubmissionBatch.objects.filter(
                    practice=practice,
                    group_control_number=_int(response.group_control_number, "AK102"),
                    transaction_control_number=response.transaction_control_number,
                ).first()
                if batch is None:
                    raise X12Error(
                        f"The 999 answers group {response.group_control_number}, transaction set "
                        f"{response.transaction_control_number}, which this practice never sent."
                    )
                if response.accepted:
                    batch.status = BatchStatus.ACCEPTED
                    counts["batches_accepted"] += 1
                else:
                    batch.status = BatchStatus.REJECTED
                    counts["batches_rejected"] += 1
                    reasons = response.errors or ["The clearinghouse rejected the whole file."]
                    claims = list(batch.claims.filter(status=ClaimStatus.SUBMITTED))
                    ClaimAcknowledgment.objects.bulk_create(
                        [
                            ClaimAcknowledgment(
                                practice=practice,
                                claim=claim,
                                x12_file=x12_file,
                                batch=batch,
                                accepted=False,
                                codes=[f"IK5:{response.status}"],
                                reasons=reasons,
                            )
                            for claim in claims
                        ]
                    )
                    counts["claims_rejected"] += claim_transition_many(
                        claim_ids=[c.pk for c in claims],
                        to_status=ClaimStatus.REJECTED,
                        user=user,
                        at=now,
                        reason="999: " + "; ".join(reasons)[:240],
                    )
                batch.save(update_fields=["status"])
    return counts


def _int(value: str, element: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise X12Error(f"{element} {value!r} is not a control number.") from None


def _apply_277ca(*, practice, interchanges: list[Interchange], x12_file: X12File, user, now) -> dict:
    responses = [
        response
        for interchange in interchanges
        for ts in interchange.transactions()
        for response in read_277ca(ts, interchange.delimiters)
    ]
    pcns = {r.patient_control_number for r in responses}
    claims = {
        c.patient_control_number: c
        for c in Claim.objects.filter(practice=practice, patient_control_number__in=pcns)
    }
    unknown = sorted(pcns - set(claims))
    if unknown:
        raise X12Error(f"The 277CA refers to claims this practice does not have: {', '.join(unknown[:10])}.")
    counts = {"claims_accepted": 0, "claims_rejected": 0}
    acknowledgments, to_accept, to_reject = [], [], []
    for response in responses:
        claim = claims[response.patient_control_number]
        acknowledgments.append(
            ClaimAcknowledgment(
                practice=practice,
                claim=claim,
                x12_file=x12_file,
                accepted=response.accepted,
                codes=response.codes,
                reasons=response.reasons,
                payer_claim_number=response.payer_claim_number,
            )
        )
        if response.accepted:
            counts["claims_accepted"] += 1
            if claim.status == ClaimStatus.SUBMITTED:
                to_accept.append(claim.pk)
            if response.payer_claim_number and not claim.payer_claim_number:
                Claim.objects.filter(pk=claim.pk).update(payer_claim_number=response.payer_claim_number)
        else:
            counts["claims_rejected"] += 1
            if claim.status in (ClaimStatus.SUBMITTED, ClaimStatus.ACCEPTED):
                to_reject.append((claim.pk, "; ".join(response.reasons)))
    ClaimAcknowledgment.objects.bulk_create(acknowledgments)
    claim_transition_many(
        claim_ids=to_accept, to_status=ClaimStatus.ACCEPTED, user=user, reason="277CA: accepted", at=now
    )
    for claim_id, reason in to_reject:
        claim_transition_many(
            claim_ids=[claim_id],
            to_status=ClaimStatus.REJECTED,
            user=user,
            at=now,
            reason=f"277CA: {reason}"[:255],
        )
    return counts


APPLIERS: dict[str, Callable] = {
    X12FileKind.ACK_999: _apply_999,
    X12FileKind.ACK_277CA: _apply_277ca,
}


def register_applier(kind: str, applier: Callable) -> None:
    """Other features (ERA posting) add the kinds they apply."""
    APPLIERS[kind] = applier


def postable_practices(request) -> list:
    """The practices the signed-in user may import files into (claims.edit there), current one first."""
    from rcm.roles import role_can

    others = [
        m.practice
        for m in request.memberships
        if role_can(m.role, "claims.edit") and m.practice_id != request.practice.pk
    ]
    return [request.practice, *others]


def _payee_practice(interchanges: list[Interchange], candidates):
    """For an 835: the practice among ``candidates`` that its payee (N1*PE NPI or TIN) names, or None."""
    from rcm.models import Provider

    payees = set()
    for interchange in interchanges:
        for ts in interchange.transactions():
            party = ""
            for segment in ts.segments:
                if segment.id == "N1":
                    party = segment.get(1)
                    if party == "PE" and segment.get(4):
                        payees.add(segment.get(4))
                elif segment.id == "REF" and party == "PE" and segment.get(1) == "TJ":
                    payees.add(segment.get(2))
                elif segment.id == "LX":
                    break
    by_provider = set(
        Provider.objects.filter(practice__in=candidates, npi__in=payees).values_list("practice_id", flat=True)
    )
    for candidate in candidates:
        if candidate.npi in payees or candidate.tax_id in payees or candidate.pk in by_provider:
            return candidate
    return None


def x12_import(
    *,
    practice,
    file_name: str,
    content: bytes | str,
    user=None,
    source: str = "upload",
    validate: bool = True,
    candidates=None,
    now=None,
) -> ImportResult:
    """Read, keep and apply one X12 file for ``practice``.

    Guarantees: the file is stored (applied or refused, with the reason); an applied file changed
    everything it describes, a refused one nothing; the same content is applied at most once per
    practice, even when two imports race (the second reports a duplicate). For an 835 the payee picks
    the practice among ``candidates`` (the practices the user may import into; default ``practice``):
    a file for none of them is refused. ``now`` (default: the current time) dates the file and everything
    applying it writes."""
    now = now or timezone.now()
    text = _decode(content)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    by = user if user is not None and getattr(user, "is_authenticated", False) else None
    earlier = X12File.objects.filter(practice=practice, sha256=digest, status=X12FileStatus.APPLIED).first()
    if earlier is not None:
        return ImportResult(file=earlier, duplicate=True)
    record = X12File(
        practice=practice,
        file_name=file_name[:255],
        content=text,
        sha256=digest,
        received_by=by,
        source=source,
        received_at=now,
    )
    try:
        interchanges = parse(text)
        kind = transaction_kind(interchanges)
        record.kind = kind if kind in X12FileKind.values else ""
        if kind not in APPLIERS:
            wanted = ", ".join(sorted(APPLIERS))
            raise X12Error(f"This file holds {kind} transactions; this import takes {wanted}.")
        if kind == X12FileKind.ERA_835 and candidates:
            chosen = _payee_practice(interchanges, candidates)
            if chosen is None:
                raise X12Error(
                    "This 835 pays a payee that is none of the practices you may post for; nothing was posted."
                )
            if chosen.pk != practice.pk:
                earlier = X12File.objects.filter(
                    practice=chosen, sha256=digest, status=X12FileStatus.APPLIED
                ).first()
                if earlier is not None:
                    return ImportResult(file=earlier, duplicate=True)
                practice = record.practice = chosen
        record.warnings = [w for i in interchanges for w in i.warnings]
        if validate and len(text) <= INLINE_VALIDATION_CHARS:
            record.validation_findings = validation_findings(text)
            record.validated_at = timezone.now()
        with transaction.atomic():
            record.status = X12FileStatus.APPLIED
            record.save()
            record.outcome = APPLIERS[kind](
                practice=practice, interchanges=interchanges, x12_file=record, user=by, now=now
            )
            record.save(update_fields=["outcome"])
        if validate and record.validated_at is None:
            # pyx12 takes seconds per megabyte: a large ERA is posted now and checked in the background.
            from claims.tasks import validate_x12_file

            transaction.on_commit(lambda: validate_x12_file.delay(record.pk))
    except IntegrityError:
        earlier = X12File.objects.filter(
            practice=practice, sha256=digest, status=X12FileStatus.APPLIED
        ).first()
        if earlier is None:
            raise
        return ImportResult(file=earlier, duplicate=True)
    except (X12Error, ValidationError) as exc:
        record.pk = None
        record.status = X12FileStatus.REFUSED
        record.error = str(exc) if isinstance(exc, X12Error) else "; ".join(exc.messages)
        record.outcome = {}
        record.save()
    return ImportResult(file=record)
