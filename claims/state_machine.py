"""The claim life cycle as data: one table of allowed moves, one function that applies a move.

See the life cycle in DESIGN.md. Every status change goes through ``claim_transition``, which locks
the claim, refuses moves not in ``TRANSITIONS`` with a clear error, stamps the claim's dates and
writes the history row (who, when, from, to, why).
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from claims.models import Claim, ClaimStatus, ClaimStatusChange
from rcm.bulk import bulk_insert_rows
from rcm.practice_cache import claims_changed

S = ClaimStatus

TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.READY, S.VOIDED, S.PATIENT_BILLED}),
    S.READY: frozenset({S.DRAFT, S.SUBMITTED, S.VOIDED, S.PATIENT_BILLED}),
    # A remittance can arrive before (or without) an acknowledgment: adjudication straight from submitted.
    S.SUBMITTED: frozenset(
        {S.ACCEPTED, S.REJECTED, S.PAID, S.PARTIALLY_PAID, S.DENIED, S.FORWARDED, S.VOIDED}
    ),
    S.ACCEPTED: frozenset({S.REJECTED, S.PAID, S.PARTIALLY_PAID, S.DENIED, S.FORWARDED, S.VOIDED}),
    S.REJECTED: frozenset({S.CORRECTED, S.VOIDED}),
    S.CORRECTED: frozenset({S.READY, S.VOIDED}),
    # A payer reversal (CLP02 = 22) sends an adjudicated claim back to accepted until the correction posts.
    S.PAID: frozenset({S.ACCEPTED, S.CORRECTED, S.PATIENT_BILLED}),
    S.PARTIALLY_PAID: frozenset(
        {S.PAID, S.FORWARDED, S.APPEALED, S.CORRECTED, S.WRITTEN_OFF, S.ACCEPTED, S.PATIENT_BILLED}
    ),
    S.DENIED: frozenset(
        {
            S.APPEALED,
            S.CORRECTED,
            S.WRITTEN_OFF,
            S.PAID,
            S.PARTIALLY_PAID,
            S.ACCEPTED,
            S.VOIDED,
            S.PATIENT_BILLED,
        }
    ),
    # The patient-billed path: self-pay claims, and balances transferred to the patient once insurance
    # is done. Paid once the patient's part is paid; a payer reversal or correction can still reopen it.
    S.PATIENT_BILLED: frozenset({S.PAID, S.WRITTEN_OFF, S.ACCEPTED, S.CORRECTED, S.VOIDED}),
    # Forwarded to the secondary: by the payer (crossover) or billed by us (back to ready for a new 837).
    S.FORWARDED: frozenset({S.PAID, S.PARTIALLY_PAID, S.DENIED, S.ACCEPTED, S.READY}),
    # Appeal outcome: overturned (paid / partially paid) or upheld (denied again, to appeal further or
    # write off).
    S.APPEALED: frozenset({S.PAID, S.PARTIALLY_PAID, S.DENIED, S.WRITTEN_OFF}),
    S.WRITTEN_OFF: frozenset(),
    S.VOIDED: frozenset(),
}

OPEN_STATUSES = frozenset(s for s, targets in TRANSITIONS.items() if S.VOIDED in targets) | {S.APPEALED}
CLOSED_STATUSES = frozenset({S.PAID, S.WRITTEN_OFF, S.VOIDED})
ADJUDICATED_STATUSES = frozenset({S.PAID, S.PARTIALLY_PAID, S.DENIED, S.FORWARDED})


class IllegalTransition(ValidationError):
    def __init__(self, claim: Claim, to_status: str):
        current = ClaimStatus(claim.status)
        allowed = ", ".join(sorted(ClaimStatus(s).label.lower() for s in TRANSITIONS[claim.status])) or "none"
        self.from_status, self.to_status = claim.status, to_status
        target = ClaimStatus(to_status).label.lower() if to_status in ClaimStatus.values else repr(to_status)
        super().__init__(
            f"Claim {claim.patient_control_number} is {current.label.lower()} and cannot become {target}. "
            f"From {current.label.lower()} it can become: {allowed}.",
            code="illegal_transition",
        )


def can_transition(from_status: str, to_status: str) -> bool:
    return to_status in TRANSITIONS.get(from_status, frozenset())


def _first_adjudication(to_status: str, at) -> dict:
    """The update that records a claim's first adjudication, and leaves a later one's alone."""
    first = Q(first_adjudicated_at__isnull=True)
    return {
        "first_adjudicated_at": Coalesce(F("first_adjudicated_at"), Value(at)),
        "first_adjudication_status": Case(
            When(first, then=Value(to_status)), default=F("first_adjudication_status")
        ),
    }


def claim_transition(*, claim: Claim, to_status: str, user=None, reason: str = "", at=None) -> Claim:
    """Move ``claim`` to ``to_status`` or raise ``IllegalTransition`` leaving everything unchanged.

    Guarantees: the move is in ``TRANSITIONS`` for the claim's status as stored (checked by a
    compare-and-set update, or under a row lock when the status changed meanwhile), a
    ``ClaimStatusChange`` row records it, and the claim's submission and adjudication dates follow."""
    at = at or timezone.now()
    update = {"status": to_status, "status_changed_at": at}
    if to_status == S.SUBMITTED:
        update["last_submitted_at"] = at
        update["first_submitted_at"] = Coalesce(F("first_submitted_at"), Value(at))
    if to_status in ADJUDICATED_STATUSES:
        update["adjudicated_at"] = at
        update.update(_first_adjudication(to_status, at))
    with transaction.atomic():
        # Compare-and-set on the status we hold: one UPDATE when nobody moved the claim meanwhile;
        # otherwise read it under lock and judge the move against what is stored.
        from_status = claim.status
        moved = can_transition(from_status, to_status) and Claim.objects.filter(
            pk=claim.pk, status=from_status
        ).update(**update)
        if not moved:
            locked = (
                Claim.objects.select_for_update()
                .only("pk", "status", "patient_control_number")
                .get(pk=claim.pk)
            )
            if not can_transition(locked.status, to_status):
                raise IllegalTransition(locked, to_status)
            from_status = locked.status
            Claim.objects.filter(pk=claim.pk).update(**update)
        ClaimStatusChange.objects.create(
            practice_id=claim.practice_id,
            claim_id=claim.pk,
            from_status=from_status,
            to_status=to_status,
            at=at,
            by=user if user is not None and user.is_authenticated else None,
            reason=reason[:255],
        )
        claims_changed([claim.practice_id])
    deferred = claim.get_deferred_fields()
    first_time = "first_adjudicated_at" not in deferred and claim.first_adjudicated_at is None
    for field, value in update.items():
        if field in deferred:  # not loaded: nothing to keep in step (and no query to load it)
            continue
        if field == "first_submitted_at":
            value = claim.first_submitted_at or at
        elif field == "first_adjudicated_at":
            value = at if first_time else claim.first_adjudicated_at
        elif field == "first_adjudication_status":
            value = to_status if first_time else claim.first_adjudication_status
        setattr(claim, field, value)
    return claim


def claim_transition_many(
    *, claim_ids: list[int], to_status: str, user=None, reason: str = "", at=None
) -> int:
    """The same move for many claims at once (batch scrubbing, batch submission): one locked read,
    one update per status group, one insert of the history rows. Raises ``IllegalTransition`` for the
    first claim that may not move, and then moves none."""
    if not claim_ids:
        return 0
    at = at or timezone.now()
    by = user if user is not None and user.is_authenticated else None
    with transaction.atomic():
        rows = list(
            Claim.objects.select_for_update()
            .filter(pk__in=claim_ids)
            .only("pk", "practice_id", "status", "patient_control_number", "first_submitted_at")
            .order_by("pk")
        )
        for row in rows:
            if not can_transition(row.status, to_status):
                raise IllegalTransition(row, to_status)
        update = {"status": to_status, "status_changed_at": at}
        if to_status == S.SUBMITTED:
            update["last_submitted_at"] = at
            Claim.objects.filter(pk__in=[r.pk for r in rows if r.first_submitted_at is None]).update(
                first_submitted_at=at
            )
        if to_status in ADJUDICATED_STATUSES:
            update["adjudicated_at"] = at
            update.update(_first_adjudication(to_status, at))
        Claim.objects.filter(pk__in=[r.pk for r in rows]).update(**update)
        bulk_insert_rows(
            ClaimStatusChange,
            [
                {
                    "practice_id": r.practice_id,
                    "claim_id": r.pk,
                    "from_status": r.status,
                    "to_status": to_status,
                    "at": at,
                    "by_id": by.pk if by else None,
                    "reason": reason[:255],
                }
                for r in rows
            ],
        )
        claims_changed({r.practice_id for r in rows})
    return len(rows)
