"""The plan life cycle as data: active → delinquent → defaulted; completed or cancelled from open states.

``plan_transition`` applies one move with a compare-and-set update and writes the history row; a move not in
``TRANSITIONS`` raises ``IllegalPlanTransition`` and changes nothing.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from payment_plans.models import PaymentPlan, PlanStatus, PlanStatusChange

S = PlanStatus

TRANSITIONS: dict[str, frozenset[str]] = {
    # A missed installment after the grace days makes the plan delinquent; a payment that catches up, or new
    # terms, make it active again.
    S.ACTIVE: frozenset({S.DELINQUENT, S.DEFAULTED, S.COMPLETED, S.CANCELLED}),
    S.DELINQUENT: frozenset({S.ACTIVE, S.DEFAULTED, S.COMPLETED, S.CANCELLED}),
    # A defaulted plan goes to the collections worklist; new terms can revive it, a late payoff completes it.
    S.DEFAULTED: frozenset({S.ACTIVE, S.COMPLETED, S.CANCELLED}),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
}
OPEN_STATUSES = frozenset({S.ACTIVE, S.DELINQUENT, S.DEFAULTED})


class IllegalPlanTransition(ValidationError):
    def __init__(self, plan: PaymentPlan, to_status: str):
        current = PlanStatus(plan.status).label.lower()
        allowed = ", ".join(sorted(PlanStatus(s).label.lower() for s in TRANSITIONS[plan.status])) or "none"
        super().__init__(
            f"Plan {plan.pk} is {current} and cannot become {PlanStatus(to_status).label.lower()}. "
            f"From {current} it can become: {allowed}.",
            code="illegal_transition",
        )


def plan_transition(
    *, plan: PaymentPlan, to_status: str, user=None, reason: str = "", at=None
) -> PaymentPlan:
    """Move ``plan`` to ``to_status`` (compare-and-set on the stored status) and record who, when and why."""
    at = at or timezone.now()
    with transaction.atomic():
        from_status = plan.status
        if to_status not in TRANSITIONS[from_status]:
            raise IllegalPlanTransition(plan, to_status)
        updated = PaymentPlan.objects.filter(pk=plan.pk, status=from_status).update(
            status=to_status, status_changed_at=at
        )
        if not updated:
            plan.refresh_from_db(fields=["status"])
            raise IllegalPlanTransition(plan, to_status)
        PlanStatusChange.objects.create(
            plan=plan,
            from_status=from_status,
            to_status=to_status,
            at=at,
            by=user if user is not None and getattr(user, "is_authenticated", False) else None,
            reason=reason[:255],
        )
    plan.status, plan.status_changed_at = to_status, at
    return plan
