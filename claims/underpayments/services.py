"""Writes on underpayments: keeping them in step with the variances, and the three things people do with
one (appeal it, accept it with a reason, mark it recovered).

Every status move goes through ``_move``: the allowed moves are one table (``TRANSITIONS``), the move is a
compare-and-set update (a concurrent move makes the second one fail cleanly), and a history row records
who, when, from, to and why. Nothing here moves money: a recovery is money the payer posts through an 835
(or a person through the ledger); the underpayment only records that the shortfall is settled.
"""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from claims.models import ZERO, Claim, Underpayment, UnderpaymentChange, UnderpaymentStatus
from rcm.bulk import bulk_update_values

U = UnderpaymentStatus
TRANSITIONS: dict[str, frozenset[str]] = {
    U.OPEN: frozenset({U.APPEALED, U.ACCEPTED, U.RECOVERED}),
    U.APPEALED: frozenset({U.ACCEPTED, U.RECOVERED}),
    U.ACCEPTED: frozenset(),
    U.RECOVERED: frozenset(),
}
WORKING = (U.OPEN, U.APPEALED)
FOUND_REASON = "Found: paid short of the contract beyond its tolerance"
RECOVERED_REASON = "Recovered: a later payment brought the lines up to the contract"
REASON_LENGTH = 500


def _move(
    underpayment: Underpayment, *, to_status: str, user, reason: str, at: datetime.datetime, **fields
) -> Underpayment:
    current = underpayment.status
    if to_status not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(U(s).label.lower() for s in TRANSITIONS[current])) or "nothing"
        raise ValidationError(
            f"This underpayment is {U(current).label.lower()}: it cannot become {U(to_status).label.lower()} "
            f"(from {U(current).label.lower()} it can become {allowed}).",
            code="underpayment_status",
        )
    updated = Underpayment.objects.filter(pk=underpayment.pk, status=current).update(
        status=to_status, note=reason, **fields
    )
    if not updated:
        raise ValidationError("Someone changed this underpayment meanwhile: reload it.", code="changed")
    UnderpaymentChange.objects.create(
        underpayment=underpayment, from_status=current, to_status=to_status, at=at, user=user, reason=reason
    )
    underpayment.refresh_from_db()
    Claim.objects.filter(pk=underpayment.claim_id).update(
        underpaid_amount=underpayment.shortfall if to_status in WORKING else ZERO
    )
    return underpayment


def underpayments_sync(
    *, claims: Q, claims_pk: Q, shortfalls: dict[int, Decimal], now: datetime.datetime, user=None
) -> None:
    """Bring the underpayments of the claims the recompute covered (``claims`` filters rows by their
    ``claim_id``, ``claims_pk`` filters claims) in step with their lines' current shortfalls (called by
    the variance recompute, inside its transaction).

    Guarantees: a claim short with no underpayment gets an open one (history: found); an open or appealed
    one takes the current shortfall, its recovered amount is what was found less what is still short, and
    at zero it is recovered (history: recovered, no user); accepted and recovered ones keep their status.
    Each claim's ``underpaid_amount`` is its open or appealed underpayment's shortfall, else zero."""
    existing = {u.claim_id: u for u in Underpayment.objects.select_for_update().filter(claims).order_by("pk")}
    new_ids = [claim_id for claim_id, short in shortfalls.items() if short > 0 and claim_id not in existing]
    created = []
    if new_ids:
        claims = Claim.objects.filter(pk__in=new_ids).values_list("pk", "practice_id", "payer_id")
        created = Underpayment.objects.bulk_create(
            [
                Underpayment(
                    claim_id=pk,
                    practice_id=practice_id,
                    payer_id=payer_id,
                    shortfall=shortfalls[pk],
                    found_shortfall=shortfalls[pk],
                    found_at=now,
                )
                for pk, practice_id, payer_id in claims
            ]
        )
    history = [
        UnderpaymentChange(
            underpayment=u, from_status="", to_status=U.OPEN, at=now, user=user, reason=FOUND_REASON
        )
        for u in created
    ]
    changed, working = [], {u.claim_id: u.shortfall for u in created}
    for claim_id, underpayment in existing.items():
        short = shortfalls.get(claim_id, ZERO)
        if underpayment.status not in WORKING:
            continue
        found = max(underpayment.found_shortfall, short)
        if short > 0:
            working[claim_id] = short
        if short > 0 and (
            underpayment.shortfall,
            underpayment.found_shortfall,
            underpayment.recovered_amount,
        ) == (short, found, found - short):
            continue  # still short by as much: nothing to write
        underpayment.shortfall = short
        underpayment.found_shortfall = found
        underpayment.recovered_amount = found - short
        if short <= 0:
            history.append(
                UnderpaymentChange(
                    underpayment=underpayment,
                    from_status=underpayment.status,
                    to_status=U.RECOVERED,
                    at=now,
                    user=user,
                    reason=RECOVERED_REASON,
                )
            )
            underpayment.status, underpayment.resolved_at, underpayment.note = (
                U.RECOVERED,
                now,
                RECOVERED_REASON,
            )
        changed.append(underpayment)
    bulk_update_values(
        Underpayment,
        changed,
        ["shortfall", "found_shortfall", "recovered_amount", "status", "resolved_at", "note"],
    )
    UnderpaymentChange.objects.bulk_create(history)
    # Each claim's amount written only where it changes: read the claims now marked, compare.
    marked = dict(
        Claim.objects.filter(claims_pk, underpaid_amount__gt=0).values_list("pk", "underpaid_amount")
    )
    cleared = [pk for pk in marked if pk not in working]
    if cleared:
        Claim.objects.filter(pk__in=cleared).update(underpaid_amount=ZERO)
    bulk_update_values(
        Claim,
        [Claim(pk=pk, underpaid_amount=amount) for pk, amount in working.items() if marked.get(pk) != amount],
        ["underpaid_amount"],
    )


def _reason(text: str, *, required: bool, what: str) -> str:
    text = (text or "").strip()
    if required and not text:
        raise ValidationError({"reason": f"Say why {what}."}, code="blank_reason")
    if len(text) > REASON_LENGTH:
        raise ValidationError(
            {"reason": f"The reason is {len(text)} characters long; at most {REASON_LENGTH}."},
            code="too_long",
        )
    return text


@transaction.atomic
def underpayment_appeal(
    *, underpayment: Underpayment, user=None, note: str = "", at: datetime.datetime | None = None
) -> Underpayment:
    """Appeal an open underpayment to the payer (the letter is ``underpayment_letter_pdf``).

    Guarantees: the underpayment becomes appealed with a history row (``note`` or "Appealed to the payer");
    one in any other status is refused and nothing changes."""
    note = _reason(note, required=False, what="it is appealed") or "Appealed to the payer"
    return _move(underpayment, to_status=U.APPEALED, user=user, reason=note, at=at or timezone.now())


@transaction.atomic
def underpayment_accept(
    *, underpayment: Underpayment, reason: str, user=None, at: datetime.datetime | None = None
) -> Underpayment:
    """Accept the shortfall (e.g. the payer's rate is right and the contract needs updating).

    Guarantees: a reason is required; the underpayment becomes accepted (resolved now) with a history row
    "Accepted: <reason>" and the claim leaves the underpaid queue; a blank reason or an underpayment
    already accepted or recovered is refused and nothing changes."""
    reason = _reason(reason, required=True, what="the shortfall is accepted")
    at = at or timezone.now()
    return _move(
        underpayment, to_status=U.ACCEPTED, user=user, reason=f"Accepted: {reason}", at=at, resolved_at=at
    )


@transaction.atomic
def underpayment_mark_recovered(
    *, underpayment: Underpayment, user=None, note: str = "", at: datetime.datetime | None = None
) -> Underpayment:
    """Record that the payer paid the shortfall outside an 835 this system posted (an 835 recovers it on
    its own). Guarantees: the underpayment becomes recovered for its whole found shortfall, with a history
    row; one already accepted or recovered is refused and nothing changes."""
    note = _reason(note, required=False, what="it is recovered") or "Marked recovered"
    at = at or timezone.now()
    return _move(
        underpayment,
        to_status=U.RECOVERED,
        user=user,
        reason=note,
        at=at,
        resolved_at=at,
        recovered_amount=underpayment.found_shortfall,
    )
