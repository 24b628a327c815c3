"""Applying acknowledgments to claims: a 999 accepts or rejects a whole batch we sent, a 277CA each of
its claims. Both run inside the import's transaction (``claims.edi.intake``): a file the practice
cannot have received (an unknown batch or claim) is refused whole."""

from claims.edi.acks import read_277ca, read_999
from claims.edi.reader import Interchange, X12Error
from claims.models import BatchStatus, Claim, ClaimAcknowledgment, ClaimStatus, SubmissionBatch, X12File
from claims.state_machine import claim_transition_many


def _apply_999(*, practice, interchanges: list[Interchange], x12_file: X12File, user, now) -> dict:
    """A 999 answers one 837 batch we sent: accepted, the batch is; rejected, the batch and its
    submitted claims are, each claim with an acknowledgment saying why."""
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
                                at=now,
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
    """A 277CA accepts or rejects claims one by one: each gets an acknowledgment, a submitted claim
    accepted moves to accepted (keeping the payer's claim number), a rejected one to rejected."""
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
                at=now,
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
