"""Writes for the work queues: giving claims to a biller, and "take the next claim"."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.timesince import timesince

from claims.models import Claim
from claims.queues.selectors import QUEUE_BY_SLUG, queue_claims
from rcm.models import AuditEvent, Membership
from rcm.practice_cache import claims_changed

NBSP = "\xa0"  # timesince separates number and unit with it
UNCHECKED = object()  # ``expected_assignee_id`` not given: assign whoever has the claims now


def _person(user) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else "nobody"


def _who_took(claim) -> str:
    """ "Dana Scully took claim 123 2 minutes ago" (or "Mona gave claim 123 to Dana 2 minutes ago"), from the
    audit row of the claim's last assignment; without one, "Claim 123 is now assigned to Dana"."""
    holder = _person(claim.assigned_to)
    event = (
        AuditEvent.objects.filter(
            object_type="claims.claim", object_id=str(claim.pk), changes__has_key="assigned_to_id"
        )
        .order_by("-at", "-id")
        .first()
    )
    if event is None or event.changes["assigned_to_id"][1] != claim.assigned_to_id:
        return f"Claim {claim.patient_control_number} is now assigned to {holder}"
    elapsed = timezone.now() - event.at
    when = (
        "just now"
        if elapsed < datetime.timedelta(minutes=1)
        else f"{timesince(event.at).replace(NBSP, ' ')} ago"
    )
    if event.user_id is not None and event.user_id == claim.assigned_to_id:
        return f"{holder} took claim {claim.patient_control_number} {when}"
    by = event.username or "someone"
    return f"{by} gave claim {claim.patient_control_number} to {holder} {when}"


@transaction.atomic
def claims_assign(
    *,
    practice,
    claim_ids: list[int],
    assignee,
    user=None,
    expected_assignee_id=UNCHECKED,
    expected_by_claim: dict[int, int | None] | None = None,
) -> int:
    """Give claims of ``practice`` to ``assignee`` (a member of the practice) or to nobody (None).

    With ``expected_assignee_id`` (a user id, or None for "nobody": who the user saw assigned; per claim
    id in ``expected_by_claim``, as a list shows them), a claim that meanwhile went to someone else is not
    overwritten: a ValidationError names who has it and no claim changes. The claims are locked while
    checked, so a concurrent "take next" skips them."""
    if (
        assignee is not None
        and not Membership.objects.filter(practice=practice, user=assignee, is_active=True).exists()
    ):
        raise ValidationError({"assignee": "That user is not a member of this practice."})
    claims = list(
        Claim.objects.filter(practice=practice, pk__in=claim_ids)
        .select_related("assigned_to")
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    wanted = assignee.pk if assignee is not None else None
    taken = []
    for claim in claims:
        seen = expected_by_claim.get(claim.pk, UNCHECKED) if expected_by_claim else expected_assignee_id
        if seen is not UNCHECKED and claim.assigned_to_id not in (seen, wanted):
            taken.append(claim)
    if taken:
        claim = taken[0]
        more = f" (and {len(taken) - 1} more taken meanwhile)" if len(taken) > 1 else ""
        raise ValidationError(
            {"assignee": f"{_who_took(claim)}{more}; nothing was changed. Reload to see who works it."}
        )
    claims_changed([practice.pk])
    for claim in claims:  # saved one by one so each reassignment lands in the audit log
        claim.assigned_to = assignee
        claim.save(update_fields=["assigned_to"])
    return len(claims)


@transaction.atomic
def claim_take_next(*, practice, slug: str, user, today=None) -> Claim | None:
    """Give ``user`` the highest-priority unassigned claim of queue ``slug`` and return it (None when the
    queue has no unassigned claim left).

    Guarantees: two billers taking at the same time get different claims. The claim is chosen with
    ``SELECT ... FOR UPDATE SKIP LOCKED`` (a claim another transaction is taking is passed over, not
    waited for), so each claim goes to one biller; the assignment is written to the audit log."""
    if slug not in QUEUE_BY_SLUG:
        raise ValidationError({"queue": f"No queue {slug}; the queues are {', '.join(QUEUE_BY_SLUG)}."})
    claim = (
        queue_claims(practice, slug, unassigned=True, today=today)
        .select_for_update(skip_locked=True, of=("self",))
        .first()
    )
    if claim is None:
        return None
    claims_changed([practice.pk])
    claim.assigned_to = user
    claim.save(update_fields=["assigned_to"])
    return claim
