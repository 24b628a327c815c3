"""Reads of payment plans: the policy in force, plans of a practice or patient, a plan's schedule, and the
patient balances a plan can cover."""

from decimal import Decimal

from django.db.models import Prefetch, QuerySet, Sum

from claims.models import Claim
from payment_plans.models import Installment, PaymentPlan, PlanPolicy, PlanStatus
from rcm.tenancy import get_scoped_or_404, scoped

ZERO = Decimal("0.00")
OPEN = (PlanStatus.ACTIVE, PlanStatus.DELINQUENT, PlanStatus.DEFAULTED)


def policy_for(practice) -> PlanPolicy:
    """The practice's policy; the defaults (unsaved) when the manager has not set one."""
    return PlanPolicy.objects.filter(practice=practice).first() or PlanPolicy(practice=practice)


def plan_list(practice, *, status: str | None = None, patient=None) -> QuerySet[PaymentPlan]:
    plans = scoped(PaymentPlan, practice).select_related("patient")
    if status:
        plans = plans.filter(status=status)
    if patient is not None:
        plans = plans.filter(patient=patient)
    return plans.annotate(paid_total=Sum("installments__paid_amount")).order_by("-created_at", "-id")


def plan_detail(practice, pk: int) -> PaymentPlan:
    return get_scoped_or_404(
        PaymentPlan.objects.select_related("patient", "created_by").prefetch_related(
            Prefetch("installments", queryset=Installment.objects.order_by("sequence"))
        ),
        practice,
        pk=pk,
    )


def plan_remaining(plan: PaymentPlan) -> Decimal:
    """What is still to pay on the plan: the open installments' unpaid amounts."""
    total = Decimal(0)
    for installment in plan.installments.all():
        if installment.status != "cancelled":
            total += installment.amount - installment.paid_amount
    return total


def claims_open_for_plan(patient) -> QuerySet[Claim]:
    """The patient's claims with a patient balance that no open plan covers yet (oldest first)."""
    return (
        Claim.objects.filter(patient=patient, practice_id=patient.practice_id, patient_balance__gt=0)
        .exclude(payment_plans__status__in=OPEN)
        .order_by("service_date", "id")
    )
