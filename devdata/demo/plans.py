"""The demo's payment plans and reminders, played through the real services.

Patients who owe after insurance are offered plans over the last months (``plan_create`` with the day it was
made); most pay on time, some miss installments, one in five cancels. Then the daily job
(``reminders_run``) is played for the last ``REMINDER_DAYS`` days, at 3pm Eastern, so the plans turn
delinquent and defaulted on the days they would have, and the reminders land in the outbox (``var/mail/``
and the SMS file) and in each patient's log. Over balances that are months old, plans end up in every state:
active, delinquent, defaulted, completed and cancelled.

Time runs one way: a plan is made no earlier than the day after its balance last moved (insurance, the
accounts step's payments and statements, see ``_settled_on``), and every write is dated before ``as_of``. In
``seed_demo``, where the accounts step bills most balances in the last weeks, most plans are therefore young
(still active, or cancelled).
"""

import datetime
import random
import zoneinfo
from decimal import Decimal

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from claims.models import Claim, ClaimStatusChange, Transaction
from payment_plans.models import InstallmentStatus, PaymentMethod, Statement
from payment_plans.plans.affordability import affordability_check
from payment_plans.plans.selectors import claims_open_for_plan, policy_for
from payment_plans.plans.services import plan_cancel, plan_create, plan_payment_record
from payment_plans.reminders.services import reminders_run
from rcm.models import Patient, Practice

PLANS = 30
REMINDER_DAYS = 16
# What each plan's patient does, in turn: pay everything, pay on time so far, stop paying lately (delinquent),
# stop paying early (defaulted), cancel.
BEHAVIOURS = ("pays_off", "on_time", "late", "stops", "cancels", "on_time")


def _candidates(practice: Practice) -> list[int]:
    """Patients who owe something after insurance, in a stable order."""
    owed = Claim.objects.filter(practice=practice, patient_balance__gt=0).values_list("patient_id", flat=True)
    return sorted(set(owed))


def _moment(practice: Practice, day: datetime.date, hour: int) -> datetime.datetime:
    """``hour`` o'clock on ``day`` in the practice's time zone: what the demo's writes are dated."""
    return datetime.datetime.combine(
        day, datetime.time(hour), tzinfo=zoneinfo.ZoneInfo(practice.time_zone or "America/New_York")
    )


def _settled_on(practice: Practice, patient: Patient, claims: list[Claim]) -> datetime.date | None:
    """The last day anything happened to the balance a plan would cover: the claims' last status change or
    ledger row (insurance paid, the accounts step's patient payments) and the patient's last statement. A plan
    is offered after it, never over a balance that did not exist yet."""
    zone = zoneinfo.ZoneInfo(practice.time_zone or "America/New_York")
    moved = ClaimStatusChange.objects.filter(claim__in=claims).aggregate(last=Max("at"))["last"]
    billed = Statement.objects.filter(practice=practice, patient=patient).aggregate(last=Max("sent_at"))
    billed = billed["last"]
    posted = Transaction.objects.filter(claim__in=claims).aggregate(last=Max("effective_date"))["last"]
    days = [timezone.localtime(moment, zone).date() for moment in (moved, billed) if moment] + [posted]
    return max((day for day in days if day), default=None)


def _pay_installments(plan, *, until: datetime.date, skip_from: int | None, user, rng: random.Random) -> None:
    """Pay each installment due by ``until`` on its due date (recorded at noon that day), except from the
    ``skip_from``-th one on."""
    for installment in plan.installments.order_by("sequence"):
        if installment.due_date > until or installment.status == InstallmentStatus.CANCELLED:
            break
        if skip_from is not None and installment.sequence >= skip_from:
            break
        plan_payment_record(
            plan=plan,
            amount=installment.amount - installment.paid_amount,
            method=rng.choice([PaymentMethod.CARD, PaymentMethod.ONLINE, PaymentMethod.CASH]),
            reference=f"demo-{plan.pk}-{installment.sequence}",
            received_on=installment.due_date,
            user=user,
            at=_moment(plan.practice, installment.due_date, 12),
        )


def demo_plans_create(
    *, practice: Practice, as_of: datetime.date, user, rng: random.Random
) -> dict[str, int]:
    """Plans for up to ``PLANS`` patients who owe, made 20 to 150 days before ``as_of`` with payments."""
    policy = policy_for(practice)
    made = 0
    for patient_id in _candidates(practice):
        if made >= PLANS:
            break
        patient = Patient.objects.select_related("practice").get(pk=patient_id)
        claims = list(claims_open_for_plan(patient))
        balance = sum((claim.patient_balance for claim in claims), Decimal(0))
        if balance < policy.minimum_balance or balance < Decimal("120"):
            continue
        behaviour = BEHAVIOURS[made % len(BEHAVIOURS)]
        created = as_of - datetime.timedelta(
            days=(150 if behaviour in ("pays_off", "stops") else rng.randint(20, 110))
        )
        settled = _settled_on(practice, patient, claims)
        if settled is not None and created <= settled:
            created = settled + datetime.timedelta(days=1)
        check = affordability_check(
            monthly_income=Decimal(rng.randrange(2500, 9000, 50)),
            household_size=rng.randint(1, 5),
            essential_expenses=Decimal(rng.randrange(1200, 3000, 50)),
            minimum_payment=policy.minimum_monthly_payment,
        )
        term = (
            3
            if behaviour == "pays_off"
            else max(3, min(policy.maximum_term_months, int(balance // check.suggested_payment) or 3))
        )
        frequency = "biweekly" if made % 7 == 3 else "monthly"
        with transaction.atomic():
            plan = plan_create(
                patient=patient,
                user=user,
                frequency=frequency,
                start_date=created + datetime.timedelta(days=14),
                term=term,
                affordability=check,
                today=created,
                at=_moment(practice, created, 10),
            )
            if behaviour == "cancels":
                plan_cancel(
                    plan=plan,
                    user=user,
                    reason="Patient paid the balance with a family loan",
                    at=_moment(practice, created, 11),
                )
            else:
                cutoff = as_of - datetime.timedelta(days=REMINDER_DAYS + 1)
                skip = {"late": None, "stops": 1}.get(behaviour)
                if behaviour == "late":  # paid until the last month, then stopped
                    last = plan.installments.filter(due_date__lte=as_of).order_by("-sequence").first()
                    skip = last.sequence if last and last.sequence > 1 else None
                _pay_installments(
                    plan,
                    # Nothing is dated on or after the as-of day: the last day paid is the day before.
                    until=as_of - datetime.timedelta(days=1) if behaviour == "pays_off" else cutoff,
                    skip_from=skip,
                    user=user,
                    rng=rng,
                )
        made += 1
    return {"payment_plans": made}


def demo_reminders_play(*, practice: Practice, as_of: datetime.date) -> dict[str, int]:
    """The daily job on each of the last ``REMINDER_DAYS`` days at 3pm Eastern (8am–9pm in every US zone)."""
    sent = deferred = 0
    for back in range(REMINDER_DAYS, 0, -1):
        day = as_of - datetime.timedelta(days=back)
        now = datetime.datetime.combine(day, datetime.time(20, 0), tzinfo=datetime.UTC)
        result = reminders_run(practice=practice, now=now)
        sent += result.sent
        deferred += result.deferred
    return {"reminders_sent": sent, "reminders_deferred": deferred}
