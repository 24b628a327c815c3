"""The demo's payment plans and reminders, played through the real services.

Patients who owe after insurance are offered plans (``plan_create`` with the day it was made), before the
accounts step bills the rest; their patients then pay: some everything, most on time so far, some stop
lately (delinquent), some stop early (defaulted), one in seven cancels and one in seven asks for new terms
(``plan_modify``). Later, once the accounts step has sent its statements, the daily job (``reminders_run``)
is played for the last ``REMINDER_DAYS`` days, at 3pm Eastern, so the plans turn delinquent and defaulted on
the days they would have, and the reminders land in the outbox (``var/mail/`` and the SMS file) and in each
patient's log. The demo ends with plans in every state: active, delinquent, defaulted, completed, cancelled.

Time runs one way: a plan is made no earlier than the day after its balance last moved (its claims' last
status change or ledger row, the day received and the day posted, and the patient's last statement),
and every write is dated before ``as_of``. What a patient does needs time (three missed installments take
three months), so each behaviour takes the patient whose balance settled last among those that settled
long enough ago for it (``NEEDS``); the oldest balances are left for the behaviours that need the most time.
"""

import dataclasses
import datetime
import random
import zoneinfo
from decimal import Decimal

from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone

from claims.ledger import money
from claims.models import Claim, ClaimStatusChange, Transaction
from payment_plans.models import (
    InstallmentStatus,
    PaymentMethod,
    PaymentPlan,
    PlanPolicy,
    PlanStatus,
    Statement,
)
from payment_plans.plans.affordability import affordability_check
from payment_plans.plans.selectors import policy_for
from payment_plans.plans.services import plan_cancel, plan_create, plan_modify, plan_payment_record
from payment_plans.reminders.services import reminders_run
from rcm.models import Channel, Patient, Practice
from rcm.services import consents_current

PLANS = 30  # at most, and at most half the patients who owe (the accounts step bills the others)
REMINDER_DAYS = 16
# What each plan's patient does, in turn (each behaviour takes the next patient that suits it): stop paying
# early (defaulted), pay everything (completed), stop paying lately (delinquent), cancel, change the terms,
# pay on time so far.
BEHAVIOURS = ("stops", "pays_off", "late", "cancels", "modifies", "on_time", "on_time")


@dataclasses.dataclass(frozen=True)
class Need:
    """What a behaviour needs: the plan made at least ``days`` before ``as_of`` (so its installments have
    fallen due, been paid or missed by then), a balance for ``installments`` at the minimum payment, and
    with ``reminded`` a patient who takes texts or emails (so the missed-payment reminders go out)."""

    days: int
    installments: int
    reminded: bool = False


NEEDS = {
    # 3 monthly installments missed past the grace days before the last reminder run
    "stops": Need(days=100, installments=3),
    # the 3rd monthly installment due and paid before as_of
    "pays_off": Need(days=90, installments=2),
    # a payment made, then one missed past the grace days
    "late": Need(days=75, installments=2, reminded=True),
    # one installment paid before the new terms
    "modifies": Need(days=60, installments=4),
    "on_time": Need(days=20, installments=2),
    "cancels": Need(days=2, installments=2),
}


@dataclasses.dataclass
class Candidate:
    patient_id: int
    balance: Decimal
    settled: datetime.date


def _candidates(practice: Practice, policy: PlanPolicy) -> list[Candidate]:
    """Patients who owe at least the practice's minimum for a plan after insurance (no plan covers their
    claims yet), with the day their balance last moved: their owing claims' last status change or ledger row
    (the day received and the day posted) and their last statement. The most recently settled first (ties
    by patient)."""
    owing = Claim.objects.filter(practice=practice, patient_balance__gt=0)
    balances = {
        patient_id: money(str(total))  # SQLite sums decimals as floats
        for patient_id, total in owing.values("patient_id")
        .annotate(total=Sum("patient_balance"))
        .values_list("patient_id", "total")
    }
    ids = sorted(pk for pk, balance in balances.items() if balance >= policy.minimum_balance)
    zone = zoneinfo.ZoneInfo(practice.time_zone or "America/New_York")
    days: dict[int, list[datetime.date]] = {pk: [] for pk in ids}
    moments = (
        ClaimStatusChange.objects.filter(claim__in=owing, claim__patient_id__in=ids)
        .values("claim__patient_id")
        .annotate(last=Max("at"))
        .values_list("claim__patient_id", "last"),
        Statement.objects.filter(practice=practice, patient_id__in=ids)
        .values("patient_id")
        .annotate(last=Max("sent_at"))
        .values_list("patient_id", "last"),
        Transaction.objects.filter(claim__in=owing, claim__patient_id__in=ids)
        .values("claim__patient_id")
        .annotate(last=Max("posted_at"))
        .values_list("claim__patient_id", "last"),
    )
    for rows in moments:
        for patient_id, moment in rows:
            days[patient_id].append(timezone.localtime(moment, zone).date())
    effective = (
        Transaction.objects.filter(claim__in=owing, claim__patient_id__in=ids)
        .values("claim__patient_id")
        .annotate(last=Max("effective_date"))
        .values_list("claim__patient_id", "last")
    )
    for patient_id, day in effective:
        days[patient_id].append(day)
    candidates = [Candidate(pk, balances[pk], max(days[pk])) for pk in ids if days[pk]]
    return sorted(candidates, key=lambda c: (-c.settled.toordinal(), c.patient_id))


def _take(candidates: list[Candidate], need: Need, *, as_of: datetime.date, minimum: Decimal):
    """The first candidate (most recently settled) whose balance settled ``need.days`` before ``as_of``
    and covers ``need.installments`` minimum payments (and who takes reminders, when the behaviour needs
    it); it is removed from ``candidates``."""
    latest = as_of - datetime.timedelta(days=need.days + 1)
    for index, candidate in enumerate(candidates):
        if candidate.settled > latest or candidate.balance < minimum * need.installments:
            continue
        if need.reminded:
            consents = consents_current(Patient(pk=candidate.patient_id))
            if not (consents[Channel.SMS] or consents[Channel.EMAIL]):
                continue
        return candidates.pop(index)
    return None


def _moment(practice: Practice, day: datetime.date, hour: int) -> datetime.datetime:
    """``hour`` o'clock on ``day`` in the practice's time zone: what the demo's writes are dated."""
    return datetime.datetime.combine(
        day, datetime.time(hour), tzinfo=zoneinfo.ZoneInfo(practice.time_zone or "America/New_York")
    )


@dataclasses.dataclass(frozen=True)
class PlanPayer:
    """A plan made by the demo and how its patient pays: every installment on its due date, up to the
    ``skip_from``-th one (None: all of them)."""

    plan: PaymentPlan
    skip_from: int | None = None


def _pay_installments(payer: PlanPayer, *, since: datetime.date, until: datetime.date, user, rng) -> int:
    """Pay each installment of the plan due from ``since`` to ``until`` on its due date (recorded at noon
    that day), but none from the ``skip_from``-th on. Returns how many were paid."""
    plan, paid = payer.plan, 0
    due = plan.installments.filter(
        status__in=(InstallmentStatus.DUE, InstallmentStatus.PARTIAL), due_date__range=(since, until)
    )
    if payer.skip_from is not None:
        due = due.filter(sequence__lt=payer.skip_from)
    for installment in due.order_by("sequence"):
        plan_payment_record(
            plan=plan,
            amount=installment.amount - installment.paid_amount,
            method=rng.choice([PaymentMethod.CARD, PaymentMethod.ONLINE, PaymentMethod.CASH]),
            reference=f"demo-{plan.pk}-{installment.sequence}",
            received_on=installment.due_date,
            user=user,
            at=_moment(plan.practice, installment.due_date, 12),
        )
        paid += 1
    return paid


def _term(behaviour: str, balance: Decimal, suggested: Decimal, policy: PlanPolicy) -> int:
    """Installments within the policy's maximum term and at least its minimum payment."""
    most = int(balance // policy.minimum_monthly_payment)
    if behaviour == "pays_off":
        return min(3, most)
    fit = min(policy.maximum_term_months, int(balance // suggested), most)
    return max(NEEDS[behaviour].installments, fit)


def _created_on(behaviour: str, candidate: Candidate, as_of: datetime.date, rng: random.Random):
    """The day the plan is made: months back for the behaviours that need time, after the balance settled.
    A plan that falls behind is made so that its second installment fell due two to five weeks before
    ``as_of``: missed past the grace days, and still in the reminder job's look-back."""
    if behaviour == "late":
        days = 14 + 31 + rng.randint(14, 30)
    else:
        days = {"stops": 150, "pays_off": 120}.get(behaviour) or rng.randint(NEEDS[behaviour].days, 110)
    return max(as_of - datetime.timedelta(days=days), candidate.settled + datetime.timedelta(days=1))


def _modify(payer: PlanPayer, *, created: datetime.date, policy: PlanPolicy, user, rng) -> None:
    """The patient pays the first installment, then asks for a smaller payment: the rest is spread over
    two more installments (as far as the minimum payment allows), due later in the month."""
    plan = payer.plan
    first_due = plan.installments.order_by("sequence").values_list("due_date", flat=True).first()
    day = first_due + datetime.timedelta(days=20)
    _pay_installments(payer, since=created, until=day, user=user, rng=rng)
    left = plan.installments.filter(status__in=(InstallmentStatus.DUE, InstallmentStatus.PARTIAL))
    remaining = sum((row.amount - row.paid_amount for row in left), Decimal(0))
    term = max(1, min(left.count() + 2, int(remaining // policy.minimum_monthly_payment)))
    plan_modify(
        plan=plan,
        user=user,
        frequency="monthly",
        start_date=day + datetime.timedelta(days=20),
        term=term,
        reason="Lower payment after a change of job; due after payday",
        today=day,
        at=_moment(plan.practice, day, 14),
    )


def demo_plans_create(
    *, practice: Practice, as_of: datetime.date, user, rng: random.Random
) -> tuple[dict[str, int], list[PlanPayer]]:
    """Plans for up to ``PLANS`` patients who owe (half of them at most), each behaviour in turn given the
    patient that suits it (``NEEDS``), with their payments up to the reminder days; returns the counts and
    the plans' payers (``demo_reminders_play`` takes their payments on from there)."""
    policy = policy_for(practice)
    candidates = _candidates(practice, policy)
    limit = min(PLANS, max(len(BEHAVIOURS), len(candidates) // 2))
    payers: list[PlanPayer] = []
    counts = dict.fromkeys(("payment_plans", *NEEDS), 0)
    before_reminders = as_of - datetime.timedelta(days=REMINDER_DAYS + 1)
    turn, idle = 0, 0
    while counts["payment_plans"] < limit and idle < len(BEHAVIOURS):
        behaviour = BEHAVIOURS[turn % len(BEHAVIOURS)]
        turn += 1
        candidate = _take(candidates, NEEDS[behaviour], as_of=as_of, minimum=policy.minimum_monthly_payment)
        if candidate is None:
            idle += 1
            continue
        idle = 0
        created = _created_on(behaviour, candidate, as_of, rng)
        check = affordability_check(
            monthly_income=Decimal(rng.randrange(2500, 9000, 50)),
            household_size=rng.randint(1, 5),
            essential_expenses=Decimal(rng.randrange(1200, 3000, 50)),
            minimum_payment=policy.minimum_monthly_payment,
        )
        biweekly = behaviour == "on_time" and counts["on_time"] % 2 == 1
        with transaction.atomic():
            plan = plan_create(
                patient=Patient.objects.select_related("practice").get(pk=candidate.patient_id),
                user=user,
                frequency="biweekly" if biweekly else "monthly",
                start_date=created + datetime.timedelta(days=14),
                term=_term(behaviour, candidate.balance, check.suggested_payment, policy),
                affordability=check,
                today=created,
                at=_moment(practice, created, 10),
            )
            payer = PlanPayer(plan)
            if behaviour == "cancels":
                plan_cancel(
                    plan=plan,
                    user=user,
                    reason="Patient paid the balance with a family loan",
                    at=_moment(practice, created, 11),
                )
            else:
                if behaviour == "stops":
                    payer = PlanPayer(plan, skip_from=1)
                elif behaviour == "late":  # paid until the last installment missed past the grace days
                    missed_by = as_of - datetime.timedelta(days=policy.grace_days + 2)
                    last = plan.installments.filter(due_date__lte=missed_by).order_by("-sequence").first()
                    payer = PlanPayer(plan, skip_from=last.sequence)
                elif behaviour == "modifies":
                    _modify(payer, created=created, policy=policy, user=user, rng=rng)
                _pay_installments(payer, since=created, until=before_reminders, user=user, rng=rng)
                payers.append(payer)
        counts["payment_plans"] += 1
        counts[behaviour] += 1
    return {f"plans_{key}" if key in NEEDS else key: value for key, value in counts.items()}, payers


def demo_reminders_play(
    *, practice: Practice, as_of: datetime.date, payers: list[PlanPayer], user, rng: random.Random
) -> dict[str, int]:
    """Each of the last ``REMINDER_DAYS`` days: the plan payments due that day (at noon), then the daily
    job at 3pm Eastern (8am–9pm in every US zone)."""
    sent = deferred = paid = 0
    for back in range(REMINDER_DAYS, 0, -1):
        day = as_of - datetime.timedelta(days=back)
        for payer in payers:
            payer.plan.refresh_from_db(fields=["status"])
            if payer.plan.status not in (PlanStatus.COMPLETED, PlanStatus.CANCELLED):
                paid += _pay_installments(payer, since=day, until=day, user=user, rng=rng)
        now = datetime.datetime.combine(day, datetime.time(20, 0), tzinfo=datetime.UTC)
        result = reminders_run(practice=practice, now=now)
        sent += result.sent
        deferred += result.deferred
    return {"reminders_sent": sent, "reminders_deferred": deferred, "plan_payments_last_days": paid}
