"""The patient-billed path of the claim life cycle.

A claim whose insurance part is settled (or that never had one: self-pay) and on which the patient
still owes moves to ``patient_billed`` when the patient is billed (a statement, or a self-pay claim
sent to the patient); once the patient's balance on it is paid it becomes ``paid``. Every move goes
through ``claims.state_machine``.
"""

from django.db.models import Q

from claims.models import Claim, ClaimStatus
from claims.state_machine import can_transition, claim_transition_many

S = ClaimStatus

# Where the insurance side is done: a self-pay claim not yet sent, or an adjudicated claim.
BILLABLE_TO_PATIENT = frozenset({S.DRAFT, S.READY, S.PAID, S.PARTIALLY_PAID, S.DENIED})


def claims_to_bill_patient(practice, *, patient_ids=None):
    """Claims the patient should now be billed for: a patient balance, nothing left on insurance, in a
    status from which ``patient_billed`` is allowed (self-pay drafts included: no coverage)."""
    queryset = Claim.objects.filter(
        practice=practice, patient_balance__gt=0, insurance_balance=0, status__in=BILLABLE_TO_PATIENT
    ).filter(Q(coverage__isnull=True) | ~Q(status__in=[S.DRAFT, S.READY]))
    if patient_ids is not None:
        queryset = queryset.filter(patient_id__in=patient_ids)
    return queryset


def claims_bill_patient(
    *, practice, patient_ids=None, user=None, reason: str = "Billed to the patient", at=None
) -> int:
    """Move the claims of ``claims_to_bill_patient`` to ``patient_billed``; returns how many moved."""
    claim_ids = [
        pk
        for pk, status in claims_to_bill_patient(practice, patient_ids=patient_ids).values_list(
            "pk", "status"
        )
        if can_transition(status, S.PATIENT_BILLED)
    ]
    return claim_transition_many(
        claim_ids=claim_ids, to_status=S.PATIENT_BILLED, user=user, reason=reason, at=at
    )


def claims_settle_patient_paid(*, claim_ids, user=None, at=None) -> int:
    """Patient-billed claims among ``claim_ids`` with nothing left to pay become ``paid``."""
    settled = list(
        Claim.objects.filter(
            pk__in=list(claim_ids), status=S.PATIENT_BILLED, patient_balance__lte=0, insurance_balance=0
        ).values_list("pk", flat=True)
    )
    return claim_transition_many(
        claim_ids=settled, to_status=S.PAID, user=user, reason="Patient balance paid", at=at
    )
