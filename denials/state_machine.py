"""The denial life cycle as data: one table of allowed moves, one function that applies them.

new → in review → corrected and resubmitted / appealed → overturned (fully or partly) / upheld →
written off; a voided claim voids its denials. Every move goes through ``denials_transition``, which
refuses moves not in ``TRANSITIONS`` with a clear error (changing nothing) and writes one
``DenialStatusChange`` row per denial (who, when, from, to, why)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from denials.models import OPEN_STATUS_VALUES, Denial, DenialStatus, DenialStatusChange

S = DenialStatus
_ANY_OUTCOME = {S.OVERTURNED, S.PARTLY_OVERTURNED, S.UPHELD}

TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset(
        {S.IN_REVIEW, S.CORRECTED, S.APPEALED, S.WRITTEN_OFF, S.VOIDED, S.OVERTURNED, S.PARTLY_OVERTURNED}
    ),
    S.IN_REVIEW: frozenset(
        {S.CORRECTED, S.APPEALED, S.WRITTEN_OFF, S.VOIDED, S.OVERTURNED, S.PARTLY_OVERTURNED}
    ),
    S.CORRECTED: frozenset({*_ANY_OUTCOME, S.WRITTEN_OFF, S.VOIDED}),
    S.APPEALED: frozenset({*_ANY_OUTCOME, S.WRITTEN_OFF}),
    # Upheld: appeal again (next level), correct, write off; the payer may still pay later.
    S.UPHELD: frozenset(
        {S.APPEALED, S.CORRECTED, S.WRITTEN_OFF, S.VOIDED, S.OVERTURNED, S.PARTLY_OVERTURNED}
    ),
    # Partly overturned: what is still unpaid is appealed further or written off.
    S.PARTLY_OVERTURNED: frozenset({S.APPEALED, S.WRITTEN_OFF, S.OVERTURNED}),
    S.OVERTURNED: frozenset(),
    S.WRITTEN_OFF: frozenset(),
    S.VOIDED: frozenset(),
}
# Still to be worked (the work queue): everything not closed.
OPEN_STATUSES = frozenset(s for s, targets in TRANSITIONS.items() if targets)
CLOSED_STATUSES = frozenset(s for s, targets in TRANSITIONS.items() if not targets)
if OPEN_STATUSES != frozenset(OPEN_STATUS_VALUES):  # the queue's indexes are on the open statuses
    raise RuntimeError("denials.models.OPEN_STATUS_VALUES differs from the open statuses of TRANSITIONS")


def can_transition(from_status: str, to_status: str) -> bool:
    return to_status in TRANSITIONS.get(from_status, frozenset())


def _label(status: str) -> str:
    return DenialStatus(status).label.lower() if status in DenialStatus.values else repr(status)


class IllegalDenialTransition(ValidationError):
    def __init__(self, denial: Denial, to_status: str):
        allowed = ", ".join(sorted(_label(s) for s in TRANSITIONS[denial.status])) or "none"
        self.from_status, self.to_status = denial.status, to_status
        super().__init__(
            f"Denial {denial.group_code}-{denial.reason_code} on claim {denial.claim_id} is "
            f"{_label(denial.status)} and cannot become {_label(to_status)}. "
            f"From {_label(denial.status)} it can become: {allowed}.",
            code="illegal_transition",
        )


def denials_transition(
    *, denials: list[Denial], to_status: str, user=None, reason: str = "", at=None, **fields
) -> list[Denial]:
    """Move every denial of ``denials`` to ``to_status`` (setting ``fields`` too), all or none.

    Guarantees: the denials are read again under lock (in id order) and judged as stored; any move not in
    ``TRANSITIONS`` raises ``IllegalDenialTransition`` and nothing changes; otherwise one update per
    denial set and one history row per denial. Returns the moved denials, as stored now."""
    if not denials:
        return []
    at = at or timezone.now()
    by = user if user is not None and user.is_authenticated else None
    with transaction.atomic():
        locked = list(
            Denial.objects.select_for_update().filter(pk__in=[d.pk for d in denials]).order_by("pk")
        )
        for denial in locked:
            if not can_transition(denial.status, to_status):
                raise IllegalDenialTransition(denial, to_status)
        history = [
            DenialStatusChange(
                practice_id=denial.practice_id,
                denial_id=denial.pk,
                from_status=denial.status,
                to_status=to_status,
                at=at,
                by=by,
                reason=reason[:255],
            )
            for denial in locked
        ]
        Denial.objects.filter(pk__in=[d.pk for d in locked]).update(
            status=to_status, status_changed_at=at, **fields
        )
        DenialStatusChange.objects.bulk_create(history)
        for denial in locked:
            denial.status, denial.status_changed_at = to_status, at
            for name, value in fields.items():
                setattr(denial, name, value)
    return locked
