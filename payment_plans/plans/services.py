"""Writes of payment plans: the policy, creating a plan, payments on it, new terms, a balance joining it,
cancelling it, and the daily detection of missed installments. One transaction each; bad input raises
ValidationError with plain words and saves nothing."""

import datetime
from decimal import ROUND_CEILING, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from claims.ledger import money
from claims.models import Claim
from payment_plans.models import (
    OPEN_INSTALLMENT_STATUSES,
    Installment,
    InstallmentAllocation,
    InstallmentStatus,
    ModificationKind,
    PaymentMethod,
    PaymentPlan,
    PlanModification,
    PlanPayment,
    PlanPolicy,
    PlanStatus,
    PlanStatusChange,
)
from payment_plans.payments import patient_payment_record
from payment_plans.plans.affordability import PER_MONTH, Affordability
from payment_plans.plans.schedule import Due, max_installments, schedule_build
from payment_plans.plans.selectors import OPEN, claims_open_for_plan, policy_for
from payment_plans.plans.state_machine import TRANSITIONS, plan_transition
from rcm.audit import audit_record, current_context
from rcm.models import AuditAction, Practice

ZERO = Decimal("0.00")
IS = InstallmentStatus
POLICY_FIELDS = (
    "minimum_balance",
    "maximum_term_months",
    "minimum_monthly_payment",
    "down_payment_percent",
    "grace_days",
    "missed_before_default",
    "statement_reminder_days",
)


def _by(user):
    return user if user is not None and getattr(user, "is_authenticated", False) else None


@transaction.atomic
def plan_policy_update(*, practice: Practice, user=None, **values) -> PlanPolicy:
    """Save the practice's plan policy (created on first save); all validated, nothing saved on error."""
    unknown = set(values) - set(POLICY_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown policy fields: {', '.join(sorted(unknown))}.")
    policy = PlanPolicy.objects.select_for_update().filter(practice=practice).first() or PlanPolicy(
        practice=practice
    )
    for name, value in values.items():
        setattr(policy, name, value)
    policy.updated_at = timezone.now()
    policy.full_clean()
    policy.save()
    return policy


def _check_terms(*, policy: PlanPolicy, schedule: list[Due], frequency: str, financed: Decimal) -> None:
    """The practice's rules on a schedule: the maximum term and the minimum monthly payment."""
    limit = max_installments(frequency, policy.maximum_term_months)
    if len(schedule) > limit:
        raise ValidationError(
            f"{len(schedule)} {frequency} installments is longer than the practice's maximum term of "
            f"{policy.maximum_term_months} months (at most {limit} {frequency} installments)."
        )
    regular = schedule[0].amount
    monthly = (regular * PER_MONTH[frequency]).quantize(Decimal("0.01"))
    if len(schedule) > 1 and monthly < policy.minimum_monthly_payment:
        raise ValidationError(
            f"${regular} {frequency} is ${monthly} a month, below the practice's minimum monthly payment of "
            f"${policy.minimum_monthly_payment}."
        )
    total = sum((due.amount for due in schedule), ZERO)
    if total != financed:
        raise ValidationError(f"The installments add up to ${total} but the plan finances ${financed}.")


def _schedule(
    *, financed, frequency, start, term, installment_amount, installments: list[Due] | None
) -> list[Due]:
    if installments is not None:
        if not installments:
            raise ValidationError("A schedule needs at least one installment.")
        if any(due.amount <= 0 for due in installments):
            raise ValidationError("Every installment must be more than zero.")
        dates = [due.due_date for due in installments]
        if dates != sorted(set(dates)):
            raise ValidationError("Installment due dates must be in order, one installment per date.")
        return [Due(due.due_date, money(due.amount)) for due in installments]
    return schedule_build(
        financed=financed, frequency=frequency, start=start, term=term, installment_amount=installment_amount
    )


def _snapshot(plan: PaymentPlan) -> dict:
    open_rows = plan.installments.filter(status__in=OPEN_INSTALLMENT_STATUSES).order_by("sequence")
    return {
        "frequency": plan.frequency,
        "installment_amount": str(plan.installment_amount),
        "term": plan.term,
        "total_amount": str(plan.total_amount),
        "open_installments": [[str(i.due_date), str(i.amount - i.paid_amount)] for i in open_rows],
    }


@transaction.atomic
def plan_create(
    *,
    patient,
    frequency: str,
    start_date: datetime.date,
    user=None,
    term: int | None = None,
    installment_amount: Decimal | None = None,
    down_payment: Decimal = ZERO,
    claims: list[Claim] | None = None,
    autopay: bool = False,
    payment_method_token: str = "",
    affordability: Affordability | None = None,
    installments: list[Due] | None = None,
    today: datetime.date | None = None,
    at: datetime.datetime | None = None,
) -> PaymentPlan:
    """A plan over the patient's open balances (or the ``claims`` given), with its schedule; ``at`` is when
    it is made (default now; the demo back-dates its plans).

    Guarantees: the balance is at least the practice's minimum, the term within its maximum, the monthly
    payment at least its minimum, the down payment at least its percentage, and the installments (down
    payment included) add up to exactly the balance covered, the rounding remainder on the last one."""
    today = today or timezone.localdate()
    policy = policy_for(patient.practice)
    if frequency not in PER_MONTH:
        raise ValidationError({"frequency": "Choose monthly, every two weeks or weekly."})
    if start_date < today:
        raise ValidationError({"start_date": "The first installment cannot be due in the past."})
    available = list(claims_open_for_plan(patient).select_for_update())
    if claims is None:
        chosen = available
    else:
        ids = {claim.pk for claim in available}
        taken = [claim for claim in claims if claim.pk not in ids]
        if taken:
            raise ValidationError(
                f"Claim {taken[0].patient_control_number} has no patient balance left to plan, or another "
                f"open plan already covers it."
            )
        chosen = [claim for claim in available if claim.pk in {c.pk for c in claims}]
    balance = sum((claim.patient_balance for claim in chosen), ZERO)
    if balance < policy.minimum_balance:
        raise ValidationError(
            f"The balance of ${balance} is below the practice's minimum of ${policy.minimum_balance} for a "
            f"payment plan."
        )
    down_payment = money(down_payment or ZERO)
    minimum_down = (balance * policy.down_payment_percent / 100).quantize(Decimal("0.01"), ROUND_CEILING)
    if down_payment < minimum_down:
        raise ValidationError(
            {
                "down_payment": f"The practice asks for a down payment of at least ${minimum_down} "
                f"({policy.down_payment_percent}% of ${balance})."
            }
        )
    if down_payment >= balance:
        raise ValidationError({"down_payment": "A down payment of the whole balance needs no plan."})
    if autopay and not payment_method_token:
        raise ValidationError({"payment_method_token": "Autopay needs the payment processor's token."})
    financed = balance - down_payment
    if installment_amount is not None:
        installment_amount = money(installment_amount)
    schedule = _schedule(
        financed=financed,
        frequency=frequency,
        start=start_date,
        term=term,
        installment_amount=installment_amount,
        installments=installments,
    )
    _check_terms(policy=policy, schedule=schedule, frequency=frequency, financed=financed)
    at = at or timezone.now()
    plan = PaymentPlan(
        practice=patient.practice,
        patient=patient,
        total_amount=balance,
        down_payment=down_payment,
        installment_amount=schedule[0].amount,
        frequency=frequency,
        term=len(schedule),
        start_date=start_date,
        autopay=autopay,
        payment_method_token=payment_method_token,
        created_by=_by(user),
        created_at=at,
        status_changed_at=at,
    )
    if affordability is not None:
        plan.monthly_income = affordability.monthly_income
        plan.household_size = affordability.household_size
        plan.essential_expenses = affordability.essential_expenses
        plan.suggested_payment = affordability.suggested_payment
    plan.full_clean(exclude=["claims"])
    plan.save()
    plan.claims.set(chosen)
    rows = []
    if down_payment:
        rows.append(
            Installment(practice=plan.practice, plan=plan, sequence=0, due_date=today, amount=down_payment)
        )
    rows += [
        Installment(practice=plan.practice, plan=plan, sequence=i, due_date=due.due_date, amount=due.amount)
        for i, due in enumerate(schedule, start=1)
    ]
    Installment.objects.bulk_create(rows)
    PlanStatusChange.objects.create(
        plan=plan, from_status="", to_status=PlanStatus.ACTIVE, by=_by(user), at=at
    )
    return plan


def _lock(plan: PaymentPlan) -> PaymentPlan:
    return PaymentPlan.objects.select_for_update().get(pk=plan.pk)


def _post_patient_payment(
    *, plan: PaymentPlan, amount: Decimal, method, received_on, reference: str, user, at
):
    """The money through the patient account's one payment service (``patient_payment_record``: ledger,
    receipt, audit), applied to the plan's claims, oldest service first."""
    claims = list(plan.claims.filter(patient_balance__gt=0).order_by("service_date", "id"))
    available = sum((claim.patient_balance for claim in claims), ZERO)
    if amount > available:
        raise ValidationError(
            f"The plan's claims have ${available} of patient balance left; a payment of ${amount} "
            "would be more."
        )
    allocations, left = [], amount
    for claim in claims:
        part = min(left, claim.patient_balance)
        allocations.append((claim, part))
        left -= part
        if left <= 0:
            break
    return patient_payment_record(
        practice=plan.practice,
        patient=plan.patient,
        amount=amount,
        method=method,
        reference=reference,
        received_on=received_on,
        user=user,
        allocations=allocations,
        at=at,
    )


def _allocate(plan: PaymentPlan, amount: Decimal, payment: PlanPayment, at) -> list[InstallmentAllocation]:
    """Apply ``amount`` to the open installments, oldest due first."""
    allocations = []
    left = amount
    for installment in plan.installments.filter(status__in=OPEN_INSTALLMENT_STATUSES).order_by(
        "due_date", "sequence"
    ):
        if left <= 0:
            break
        part = min(left, installment.amount - installment.paid_amount)
        installment.paid_amount += part
        installment.status = IS.PAID if installment.paid_amount == installment.amount else IS.PARTIAL
        installment.paid_at = at
        installment.save(update_fields=["paid_amount", "status", "paid_at"])
        allocations.append(InstallmentAllocation(payment=payment, installment=installment, amount=part))
        left -= part
    InstallmentAllocation.objects.bulk_create(allocations)
    return allocations


def _follow_payments(plan: PaymentPlan, user, reason: str, at=None) -> None:
    """After money came in: completed when nothing is left; active again when no installment is missed."""
    open_rows = plan.installments.filter(status__in=OPEN_INSTALLMENT_STATUSES)
    if not open_rows.exists():
        plan_transition(plan=plan, to_status=PlanStatus.COMPLETED, user=user, reason=reason, at=at)
    elif plan.status == PlanStatus.DELINQUENT and not open_rows.filter(status=IS.MISSED).exists():
        plan_transition(
            plan=plan, to_status=PlanStatus.ACTIVE, user=user, reason="Caught up on missed payments", at=at
        )


@transaction.atomic
def plan_payment_record(
    *,
    plan: PaymentPlan,
    amount: Decimal,
    method: str,
    user=None,
    reference: str = "",
    received_on: datetime.date | None = None,
    at: datetime.datetime | None = None,
) -> PlanPayment:
    """Record a payment on ``plan``: the money goes through the ledger onto the plan's claims, then to the
    installments oldest due first. Two payments at the same moment are serialised on the plan's row lock.
    ``at``: when it is recorded (default now; the demo back-dates its payments)."""
    amount = money(amount)
    plan = _lock(plan)
    if plan.status in (PlanStatus.CANCELLED, PlanStatus.COMPLETED):
        raise ValidationError(
            f"Plan {plan.pk} is {plan.get_status_display().lower()}: no payment can be recorded on it. "
            f"Record the payment on the patient's account instead."
        )
    if amount <= 0:
        raise ValidationError({"amount": "The payment must be more than zero."})
    if method not in PaymentMethod.values:
        raise ValidationError({"method": "Choose cash, check, card or online."})
    remaining = sum(
        (i.amount - i.paid_amount for i in plan.installments.filter(status__in=OPEN_INSTALLMENT_STATUSES)),
        ZERO,
    )
    if amount > remaining:
        raise ValidationError(
            {
                "amount": f"${amount} is more than the ${remaining} left on plan {plan.pk}; "
                "record the rest on "
                f"the patient's account."
            }
        )
    received_on = received_on or timezone.localdate()
    at = at or timezone.now()
    receipt = _post_patient_payment(
        plan=plan,
        amount=amount,
        method=method,
        received_on=received_on,
        reference=reference,
        user=_by(user),
        at=at,
    )
    payment = PlanPayment.objects.create(
        practice_id=plan.practice_id,
        plan=plan,
        amount=amount,
        method=method,
        reference=reference[:60],
        received_on=received_on,
        recorded_at=at,
        recorded_by=_by(user),
        ledger_reference=receipt.receipt_number,
        patient_payment=receipt,
    )
    _allocate(plan, amount, payment, at)
    _follow_payments(plan, _by(user), "Paid in full", at)
    return payment


def _reschedule(
    *,
    plan: PaymentPlan,
    kind: str,
    user,
    reason: str,
    frequency: str,
    start_date: datetime.date,
    term: int | None,
    installment_amount: Decimal | None,
    added: Decimal = ZERO,
    today: datetime.date,
    at: datetime.datetime | None = None,
) -> PaymentPlan:
    policy = policy_for(plan.practice)
    at = at or timezone.now()
    if plan.status not in OPEN:
        raise ValidationError(
            f"Plan {plan.pk} is {plan.get_status_display().lower()}: its terms cannot change."
        )
    if frequency not in PER_MONTH:
        raise ValidationError({"frequency": "Choose monthly, every two weeks or weekly."})
    if start_date < today:
        raise ValidationError({"start_date": "The next installment cannot be due in the past."})
    before = _snapshot(plan)
    open_rows = list(plan.installments.filter(status__in=OPEN_INSTALLMENT_STATUSES).order_by("sequence"))
    remaining = sum((i.amount - i.paid_amount for i in open_rows), ZERO) + added
    if installment_amount is not None:
        installment_amount = money(installment_amount)
    schedule = schedule_build(
        financed=remaining,
        frequency=frequency,
        start=start_date,
        term=term,
        installment_amount=installment_amount,
    )
    _check_terms(policy=policy, schedule=schedule, frequency=frequency, financed=remaining)
    for row in open_rows:
        if row.paid_amount > 0:  # a partly paid installment closes at what was paid
            row.amount, row.status = row.paid_amount, IS.PAID
        else:
            row.status = IS.CANCELLED
        row.save(update_fields=["amount", "status"])
    last = plan.installments.order_by("-sequence").values_list("sequence", flat=True).first() or 0
    Installment.objects.bulk_create(
        [
            Installment(
                practice=plan.practice, plan=plan, sequence=last + i, due_date=due.due_date, amount=due.amount
            )
            for i, due in enumerate(schedule, start=1)
        ]
    )
    plan.frequency, plan.start_date = frequency, start_date
    plan.installment_amount, plan.term = schedule[0].amount, len(schedule)
    plan.total_amount += added
    plan.save(update_fields=["frequency", "start_date", "installment_amount", "term", "total_amount"])
    PlanModification.objects.create(
        plan=plan, kind=kind, at=at, by=_by(user), before=before, after=_snapshot(plan), reason=reason[:255]
    )
    if plan.status != PlanStatus.ACTIVE:
        plan_transition(
            plan=plan,
            to_status=PlanStatus.ACTIVE,
            user=_by(user),
            reason=f"New terms: {reason}"[:255],
            at=at,
        )
    return plan


@transaction.atomic
def plan_modify(
    *,
    plan: PaymentPlan,
    frequency: str,
    start_date: datetime.date,
    user=None,
    term: int | None = None,
    installment_amount: Decimal | None = None,
    reason: str = "",
    today: datetime.date | None = None,
    at: datetime.datetime | None = None,
) -> PaymentPlan:
    """New terms: the remaining balance is re-amortised over the new schedule (open installments closed, new
    ones added after them), with the before and after kept in the plan's modification history.
    ``today`` and ``at``: the day and moment of the change (default now; the demo back-dates its own)."""
    return _reschedule(
        plan=_lock(plan),
        kind=ModificationKind.MODIFIED,
        user=user,
        reason=reason,
        frequency=frequency,
        start_date=start_date,
        term=term,
        installment_amount=installment_amount,
        today=today or timezone.localdate(),
        at=at,
    )


@transaction.atomic
def plan_add_balance(
    *,
    plan: PaymentPlan,
    claims: list[Claim],
    user=None,
    term: int | None = None,
    installment_amount: Decimal | None = None,
    start_date: datetime.date | None = None,
    today: datetime.date | None = None,
) -> PaymentPlan:
    """A new balance joins an open plan: its claims are covered and the whole remainder re-amortised (by
    default at the same installment amount, so the plan gets longer)."""
    today = today or timezone.localdate()
    plan = _lock(plan)
    if not claims:
        raise ValidationError("Choose the claims whose balance joins the plan.")
    available = {claim.pk: claim for claim in claims_open_for_plan(plan.patient).select_for_update()}
    missing = [claim for claim in claims if claim.pk not in available]
    if missing:
        raise ValidationError(
            f"Claim {missing[0].patient_control_number} has no patient balance left to plan, or another open "
            f"plan already covers it."
        )
    added = sum((available[claim.pk].patient_balance for claim in claims), ZERO)
    if term is None and installment_amount is None:
        installment_amount = plan.installment_amount
    next_due = (
        plan.installments.filter(status__in=OPEN_INSTALLMENT_STATUSES, due_date__gte=today)
        .order_by("due_date")
        .values_list("due_date", flat=True)
        .first()
    )
    plan = _reschedule(
        plan=plan,
        kind=ModificationKind.BALANCE_ADDED,
        user=user,
        reason=f"${added} added from {len(claims)} claim(s)",
        frequency=plan.frequency,
        start_date=start_date or next_due or today,
        term=term,
        installment_amount=installment_amount,
        added=added,
        today=today,
    )
    plan.claims.add(*claims)
    return plan


@transaction.atomic
def plan_cancel(
    *, plan: PaymentPlan, user=None, reason: str, at: datetime.datetime | None = None
) -> PaymentPlan:
    """Cancel the plan: its open installments are cancelled; what the patient owes stays on the account."""
    if not reason.strip():
        raise ValidationError({"reason": "Say why the plan is cancelled."})
    plan = _lock(plan)
    if PlanStatus.CANCELLED not in TRANSITIONS[plan.status]:
        raise ValidationError(
            f"Plan {plan.pk} is {plan.get_status_display().lower()} and cannot be cancelled."
        )
    plan.installments.filter(status__in=(IS.DUE, IS.MISSED)).update(status=IS.CANCELLED)
    for row in plan.installments.filter(status=IS.PARTIAL):
        row.amount, row.status = row.paid_amount, IS.PAID
        row.save(update_fields=["amount", "status"])
    plan_transition(plan=plan, to_status=PlanStatus.CANCELLED, user=_by(user), reason=reason, at=at)
    return plan


@transaction.atomic
def plans_status_refresh(
    *, practice: Practice, today: datetime.date | None = None, at: datetime.datetime | None = None
) -> dict[str, int]:
    """The daily detection: installments unpaid past their due date plus the grace days become missed; a plan
    with a missed installment becomes delinquent, with the policy's number of missed ones defaulted.
    Set-based and idempotent: a second run the same day changes nothing."""
    today = today or timezone.localdate()
    policy = policy_for(practice)
    cutoff = today - datetime.timedelta(days=policy.grace_days)
    missed = Installment.objects.filter(
        practice=practice,
        status__in=(IS.DUE, IS.PARTIAL),
        due_date__lt=cutoff,
        plan__status__in=(PlanStatus.ACTIVE, PlanStatus.DELINQUENT),
    ).update(status=IS.MISSED)
    counts = (
        PaymentPlan.objects.filter(practice=practice, status__in=(PlanStatus.ACTIVE, PlanStatus.DELINQUENT))
        .annotate(missed=Count("installments", filter=Q(installments__status=IS.MISSED)))
        .filter(missed__gt=0)
        .values_list("pk", "status", "missed")
    )
    moves: dict[str, list[int]] = {PlanStatus.DELINQUENT: [], PlanStatus.DEFAULTED: []}
    for pk, status, count in counts:
        target = PlanStatus.DEFAULTED if count >= policy.missed_before_default else PlanStatus.DELINQUENT
        if target != status:
            moves[target].append(pk)
    now = at or timezone.now()
    history = []
    for target, ids in moves.items():
        if not ids:
            continue
        for from_status in (PlanStatus.ACTIVE, PlanStatus.DELINQUENT):
            moved = list(
                PaymentPlan.objects.filter(pk__in=ids, status=from_status).values_list("pk", flat=True)
            )
            if not moved or target == from_status:
                continue
            PaymentPlan.objects.filter(pk__in=moved, status=from_status).update(
                status=target, status_changed_at=now
            )
            reason = (
                f"{policy.missed_before_default} or more installments missed"
                if target == PlanStatus.DEFAULTED
                else f"An installment unpaid {policy.grace_days} days after its due date"
            )
            history += [
                PlanStatusChange(plan_id=pk, from_status=from_status, to_status=target, at=now, reason=reason)
                for pk in moved
            ]
    PlanStatusChange.objects.bulk_create(history, batch_size=2000)
    if (missed or history) and current_context().enabled:  # data generators turn the log off
        audit_record(
            action=AuditAction.UPDATE,
            practice=practice,
            object_type="payment_plans.paymentplan",
            changes={"missed_installments": missed, "status_changes": len(history), "on": str(today)},
        )
    return {
        "missed": missed,
        "delinquent": len(moves[PlanStatus.DELINQUENT]),
        "defaulted": len(moves[PlanStatus.DEFAULTED]),
    }
